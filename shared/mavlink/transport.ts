/**
 * Byte transports for MAVLink with one interface: UDP (datagrams; replies to whoever spoke last, as PX4 and QGC do)
 * and serial (a byte stream via `serialport`, reopened after errors). Send never throws: failures are counted.
 *
 * URLs: `udp://:14540` listen on 14540 and reply to the sender; `udp://127.0.0.1:14580` send to a peer from an
 * ephemeral port; `udp://:14540@127.0.0.1:14580` both; `serial:/dev/ttyAMA0:921600` a serial port at a baud rate.
 */
import { createSocket, type Socket } from 'node:dgram';
import { AerieError } from '../errors.js';

export interface TransportCounters {
  bytesIn: number;
  bytesOut: number;
  sendErrors: number;
  /** Datagrams/frames dropped before sending because no peer is known yet. */
  noPeerDrops: number;
}

export interface Transport {
  readonly mode: 'datagram' | 'stream';
  readonly counters: TransportCounters;
  /** Resolves once the transport can send and receive. */
  open(): Promise<void>;
  send(bytes: Buffer): void;
  onData(listener: (bytes: Buffer) => void): void;
  close(): Promise<void>;
  describe(): string;
}

export type TransportSpec =
  | { kind: 'udp'; bindHost: string; bindPort: number; remoteHost?: string; remotePort?: number }
  | { kind: 'serial'; path: string; baudRate: number };

const newCounters = (): TransportCounters => ({ bytesIn: 0, bytesOut: 0, sendErrors: 0, noPeerDrops: 0 });

function parsePort(text: string, url: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AerieError('MAVLINK_URL_INVALID', `${url}: port ${JSON.stringify(text)} is not 0-65535`);
  }
  return port;
}

export function parseTransportUrl(url: string): TransportSpec {
  if (url.startsWith('serial:')) {
    const rest = url.slice('serial:'.length);
    const colon = rest.lastIndexOf(':');
    const baud = colon > 0 ? Number(rest.slice(colon + 1)) : Number.NaN;
    if (colon <= 0 || !Number.isInteger(baud) || baud <= 0) {
      throw new AerieError('MAVLINK_URL_INVALID', `${url}: expected serial:PATH:BAUD, e.g. serial:/dev/ttyAMA0:921600`);
    }
    return { kind: 'serial', path: rest.slice(0, colon), baudRate: baud };
  }
  const m = /^udp:\/\/([^:@]*):(\d+)(?:@([^:@]+):(\d+))?$/.exec(url);
  if (!m) {
    throw new AerieError(
      'MAVLINK_URL_INVALID',
      `${url}: expected udp://:PORT, udp://HOST:PORT, udp://:PORT@HOST:PORT or serial:PATH:BAUD`,
    );
  }
  const [, host, port, remoteHost, remotePort] = m;
  if (remoteHost !== undefined) {
    return {
      kind: 'udp',
      bindHost: host || '0.0.0.0',
      bindPort: parsePort(port, url),
      remoteHost,
      remotePort: parsePort(remotePort, url),
    };
  }
  if (host === '') return { kind: 'udp', bindHost: '0.0.0.0', bindPort: parsePort(port, url) };
  return { kind: 'udp', bindHost: '0.0.0.0', bindPort: 0, remoteHost: host, remotePort: parsePort(port, url) };
}

/** UDP: bind, then send to the configured peer until someone speaks, and from then on to the last sender. */
export class UdpTransport implements Transport {
  readonly mode = 'datagram' as const;
  readonly counters = newCounters();
  private socket: Socket | null = null;
  private peer: { address: string; port: number } | null;
  private readonly listeners: ((bytes: Buffer) => void)[] = [];

  constructor(private readonly spec: Extract<TransportSpec, { kind: 'udp' }>) {
    this.peer = spec.remoteHost ? { address: spec.remoteHost, port: spec.remotePort ?? 0 } : null;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: 'udp4', reuseAddr: false });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const code = err.code === 'EADDRINUSE' ? 'PORT_IN_USE' : 'MAVLINK_URL_INVALID';
        reject(new AerieError(code, `cannot bind UDP ${this.spec.bindHost}:${this.spec.bindPort}: ${err.message}`));
      });
      socket.bind(this.spec.bindPort, this.spec.bindHost, () => {
        socket.removeAllListeners('error');
        // Late socket errors (ICMP unreachable on some systems) are counted, never fatal.
        socket.on('error', () => this.counters.sendErrors++);
        socket.on('message', (msg, rinfo) => {
          this.counters.bytesIn += msg.length;
          if (this.peer === null || this.peer.port !== rinfo.port || this.peer.address !== rinfo.address) {
            this.peer = { address: rinfo.address, port: rinfo.port };
          }
          for (const l of this.listeners) l(msg);
        });
        this.socket = socket;
        resolve();
      });
    });
  }

  /** The port actually bound (useful with port 0). */
  get localPort(): number {
    return this.socket?.address().port ?? 0;
  }

  get remote(): { address: string; port: number } | null {
    return this.peer;
  }

  send(bytes: Buffer): void {
    if (!this.socket) {
      this.counters.sendErrors++;
      return;
    }
    if (!this.peer) {
      this.counters.noPeerDrops++;
      return;
    }
    this.counters.bytesOut += bytes.length;
    this.socket.send(bytes, this.peer.port, this.peer.address, this.afterSend);
  }

  /** Made once: a send per setpoint needs no callback of its own. */
  private readonly afterSend = (err: Error | null): void => {
    if (err) this.counters.sendErrors++;
  };

  onData(listener: (bytes: Buffer) => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  describe(): string {
    const remote = this.peer ? ` -> ${this.peer.address}:${this.peer.port}` : '';
    return `udp ${this.spec.bindHost}:${this.localPort || this.spec.bindPort}${remote}`;
  }
}

type SerialPortLike = {
  write(data: Buffer, cb?: (err: Error | null | undefined) => void): boolean;
  on(event: 'data', cb: (data: Buffer) => void): void;
  on(event: 'close' | 'error', cb: (err?: Error) => void): void;
  close(cb?: (err?: Error | null) => void): void;
  isOpen: boolean;
};

/** Serial: a byte stream. Reopens after an error or a close it did not ask for, every `reopenMs`. */
export class SerialTransport implements Transport {
  readonly mode = 'stream' as const;
  readonly counters = newCounters();
  reopenCount = 0;
  private port: SerialPortLike | null = null;
  private closing = false;
  private reopenTimer: NodeJS.Timeout | null = null;
  private readonly listeners: ((bytes: Buffer) => void)[] = [];

  constructor(
    private readonly spec: Extract<TransportSpec, { kind: 'serial' }>,
    private readonly reopenMs = 1000,
  ) {}

  async open(): Promise<void> {
    const { SerialPort } = await import('serialport');
    await new Promise<void>((resolve, reject) => {
      const port = new SerialPort({ path: this.spec.path, baudRate: this.spec.baudRate, autoOpen: false });
      port.open((err) => {
        if (err) {
          reject(new AerieError('MAVLINK_URL_INVALID', `cannot open serial ${this.spec.path}: ${err.message}`));
          return;
        }
        port.on('data', (data: Buffer) => {
          this.counters.bytesIn += data.length;
          for (const l of this.listeners) l(data);
        });
        const lost = () => {
          if (this.port === port) this.port = null;
          this.scheduleReopen();
        };
        port.on('close', lost);
        port.on('error', lost);
        this.port = port as unknown as SerialPortLike;
        resolve();
      });
    });
  }

  private scheduleReopen(): void {
    if (this.closing || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.open().then(
        () => this.reopenCount++,
        () => this.scheduleReopen(),
      );
    }, this.reopenMs);
  }

  send(bytes: Buffer): void {
    const port = this.port;
    if (!port?.isOpen) {
      this.counters.sendErrors++;
      return;
    }
    this.counters.bytesOut += bytes.length;
    port.write(bytes, this.afterWrite);
  }

  private readonly afterWrite = (err: Error | null | undefined): void => {
    if (err) this.counters.sendErrors++;
  };

  onData(listener: (bytes: Buffer) => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    this.closing = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const port = this.port;
    this.port = null;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }

  describe(): string {
    return `serial ${this.spec.path} @ ${this.spec.baudRate}`;
  }
}

export function createTransport(url: string): Transport {
  const spec = parseTransportUrl(url);
  return spec.kind === 'udp' ? new UdpTransport(spec) : new SerialTransport(spec);
}
