import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { minimal } from 'node-mavlink';
import { afterEach, describe, expect, it } from 'vitest';
import { MavlinkLink } from './link.js';
import { parseTransportUrl, SerialTransport, UdpTransport } from './transport.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function heartbeat(): minimal.Heartbeat {
  const hb = new minimal.Heartbeat();
  hb.type = minimal.MavType.ONBOARD_CONTROLLER;
  hb.mavlinkVersion = 3;
  return hb;
}

function nextMessage(link: MavlinkLink): Promise<{ sysid: number }> {
  return new Promise((resolve) => {
    const off = link.on(minimal.Heartbeat, (_m, frame) => {
      off();
      resolve({ sysid: frame.sysid });
    });
  });
}

describe('parseTransportUrl', () => {
  it('reads the URL forms', () => {
    expect(parseTransportUrl('udp://:14540')).toEqual({ kind: 'udp', bindHost: '0.0.0.0', bindPort: 14540 });
    expect(parseTransportUrl('udp://127.0.0.1:14580')).toMatchObject({
      bindPort: 0,
      remoteHost: '127.0.0.1',
      remotePort: 14580,
    });
    expect(parseTransportUrl('udp://:14540@127.0.0.1:14580')).toMatchObject({ bindPort: 14540, remotePort: 14580 });
    expect(parseTransportUrl('serial:/dev/ttyAMA0:921600')).toEqual({
      kind: 'serial',
      path: '/dev/ttyAMA0',
      baudRate: 921600,
    });
  });

  it('refuses malformed URLs with the accepted forms', () => {
    for (const bad of ['tcp://x:1', 'udp://:99999', 'serial:/dev/tty', 'serial:/dev/tty:fast', 'udp:14540']) {
      expect(() => parseTransportUrl(bad)).toThrow(/MAVLINK_URL_INVALID/);
    }
  });
});

describe('UDP transport', () => {
  it('carries frames both ways and replies to whoever spoke last', async () => {
    const server = new MavlinkLink(new UdpTransport({ kind: 'udp', bindHost: '127.0.0.1', bindPort: 0 }), {
      sysid: 1,
      compid: 1,
    });
    await server.open();
    cleanups.push(() => server.close());
    const port = (server.transport as UdpTransport).localPort;
    const client = new MavlinkLink(
      new UdpTransport({ kind: 'udp', bindHost: '127.0.0.1', bindPort: 0, remoteHost: '127.0.0.1', remotePort: port }),
      {
        sysid: 255,
        compid: 190,
      },
    );
    await client.open();
    cleanups.push(() => client.close());

    // The server has no peer yet: its sends are dropped and counted, not thrown.
    server.send(heartbeat());
    expect(server.counters.transport.noPeerDrops).toBe(1);

    const atServer = nextMessage(server);
    client.send(heartbeat());
    expect((await atServer).sysid).toBe(255);
    const atClient = nextMessage(client);
    server.send(heartbeat());
    expect((await atClient).sysid).toBe(1);
    expect(server.counters.parse.frames).toBe(1);
  });

  it('names the port when it is taken', async () => {
    const a = new UdpTransport({ kind: 'udp', bindHost: '127.0.0.1', bindPort: 0 });
    await a.open();
    cleanups.push(() => a.close());
    const b = new UdpTransport({ kind: 'udp', bindHost: '127.0.0.1', bindPort: a.localPort });
    await expect(b.open()).rejects.toThrow(new RegExp(`PORT_IN_USE.*${a.localPort}`));
  });
});

const hasSocat = existsSync('/usr/bin/socat');

async function ptyPair(): Promise<{ proc: ChildProcess; a: string; b: string }> {
  const proc = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const paths: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let text = '';
    proc.stderr?.on('data', (d: Buffer) => {
      text += d.toString();
      for (const m of text.matchAll(/PTY is (\S+)/g)) if (!paths.includes(m[1])) paths.push(m[1]);
      if (paths.length >= 2) resolve();
    });
    proc.once('exit', () => reject(new Error(`socat exited: ${text}`)));
  });
  return { proc, a: paths[0], b: paths[1] };
}

describe.runIf(hasSocat)('serial transport over a pty pair (socat)', () => {
  it('carries MAVLink both ways at 921600 baud', async () => {
    const { proc, a, b } = await ptyPair();
    cleanups.push(() => {
      proc.kill();
    });
    const left = new MavlinkLink(new SerialTransport({ kind: 'serial', path: a, baudRate: 921600 }), {
      sysid: 1,
      compid: 1,
    });
    const right = new MavlinkLink(new SerialTransport({ kind: 'serial', path: b, baudRate: 921600 }), {
      sysid: 255,
      compid: 190,
    });
    await left.open();
    await right.open();
    cleanups.push(
      () => left.close(),
      () => right.close(),
    );
    const atRight = nextMessage(right);
    for (let i = 0; i < 20; i++) left.send(heartbeat());
    expect((await atRight).sysid).toBe(1);
    const atLeft = nextMessage(left);
    right.send(heartbeat());
    expect((await atLeft).sysid).toBe(255);
  });

  it('refuses a missing device with a clear error', async () => {
    const t = new SerialTransport({ kind: 'serial', path: '/dev/aerie-no-such-tty', baudRate: 57600 });
    await expect(t.open()).rejects.toThrow(/cannot open serial \/dev\/aerie-no-such-tty/);
  });
});
