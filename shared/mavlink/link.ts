/**
 * A MAVLink link: one transport, one parser, one encoder (its own sequence), optional signing. Messages are decoded
 * only for ids someone listens to, so a busy PX4 stream costs little for the messages nobody reads.
 */
import type { MavLinkData } from 'node-mavlink';
import { decodeFrame, type Frame, FrameEncoder, FrameParser, type ParseCounters, SIGNATURE_LEN } from './frame.js';
import type { InPlaceMessage } from './in-place.js';
import { appendSignature, SignatureVerifier, SigningClock, signFrameInPlace } from './signing.js';
import type { Transport, TransportCounters } from './transport.js';

export type MessageHandler<T extends MavLinkData = MavLinkData> = (message: T, frame: Frame) => void;

export interface SigningOptions {
  /** 32-byte secret shared with the peer. */
  readonly key: Buffer;
  /** Link id written in outgoing signatures (0-255). */
  readonly linkId: number;
  /** When true (default), unsigned and badly signed incoming frames are rejected and counted. */
  readonly requireSigned?: boolean;
}

export interface LinkOptions {
  readonly sysid: number;
  readonly compid: number;
  readonly signing?: SigningOptions;
  /** Wall clock in Unix ms, for signing timestamps (tests inject one). */
  readonly nowMs?: () => number;
}

export interface LinkCounters {
  readonly parse: ParseCounters;
  readonly transport: TransportCounters;
  readonly signature: SignatureVerifier['counters'] | null;
  /** Frames whose payload node-mavlink could not decode. */
  decodeErrors: number;
  messagesOut: number;
}

export class MavlinkLink {
  readonly counters: LinkCounters;
  private readonly parser: FrameParser;
  private readonly encoder: FrameEncoder;
  private readonly handlers = new Map<number, MessageHandler[]>();
  private readonly anyHandlers: MessageHandler[] = [];
  private readonly frameHandlers: ((frame: Frame) => void)[] = [];
  /** Per message id, handlers of the undecoded frame (indexed by id; most ids have none). */
  private readonly rawHandlers: (((frame: Frame) => void)[] | undefined)[] = [];
  private readonly verifier: SignatureVerifier | null;
  private readonly signingClock: SigningClock | null;
  private closed = false;

  constructor(
    readonly transport: Transport,
    private readonly options: LinkOptions,
  ) {
    this.parser = new FrameParser(transport.mode);
    this.encoder = new FrameEncoder(options.sysid, options.compid);
    const nowMs = options.nowMs ?? Date.now;
    this.verifier = options.signing ? new SignatureVerifier(options.signing.key, nowMs) : null;
    this.signingClock = options.signing ? new SigningClock(nowMs) : null;
    this.counters = {
      parse: this.parser.counters,
      transport: transport.counters,
      signature: this.verifier?.counters ?? null,
      decodeErrors: 0,
      messagesOut: 0,
    };
    transport.onData((bytes) => this.receive(bytes));
  }

  get sysid(): number {
    return this.options.sysid;
  }

  get compid(): number {
    return this.options.compid;
  }

  open(): Promise<void> {
    return this.transport.open();
  }

  /** Feed bytes as if they came from the transport (tests, replays). */
  receive(bytes: Buffer): void {
    this.parser.push(bytes, this.onFrame);
  }

  private readonly onFrame = (frame: Frame): void => {
    const signing = this.options.signing;
    if (this.verifier && signing && signing.requireSigned !== false) {
      if (this.verifier.verify(frame) !== 'ok') return;
    }
    for (const h of this.frameHandlers) h(frame);
    const raw = this.rawHandlers[frame.msgid];
    if (raw !== undefined) for (let i = 0; i < raw.length; i++) raw[i](frame);
    const list = this.handlers.get(frame.msgid);
    if (list === undefined && this.anyHandlers.length === 0) return;
    let message: MavLinkData;
    try {
      message = decodeFrame(frame);
    } catch {
      this.counters.decodeErrors++;
      return;
    }
    if (list) for (const h of list) h(message, frame);
    for (const h of this.anyHandlers) h(message, frame);
  };

  /** Listen for one message class (by its MSG_ID). Returns a function that removes the listener. */
  on<T extends MavLinkData>(cls: { MSG_ID: number }, handler: MessageHandler<T>): () => void {
    const list = this.handlers.get(cls.MSG_ID) ?? [];
    list.push(handler as MessageHandler);
    this.handlers.set(cls.MSG_ID, list);
    return () => {
      const i = list.indexOf(handler as MessageHandler);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.handlers.delete(cls.MSG_ID);
    };
  }

  /**
   * Listen for one message class's frames without decoding them (read the payload in place, e.g. with an
   * `InPlaceDecoder`): no node-mavlink message object per frame. Returns a function that removes the listener.
   */
  onRaw(cls: { MSG_ID: number }, handler: (frame: Frame) => void): () => void {
    const id = cls.MSG_ID;
    let list = this.rawHandlers[id];
    if (list === undefined) {
      list = [];
      this.rawHandlers[id] = list;
    }
    list.push(handler);
    return () => {
      const l = this.rawHandlers[id];
      const i = l ? l.indexOf(handler) : -1;
      if (l && i >= 0) l.splice(i, 1);
      if (l && l.length === 0) this.rawHandlers[id] = undefined;
    };
  }

  onAny(handler: MessageHandler): void {
    this.anyHandlers.push(handler);
  }

  /** Raw checked frames, before decoding (for recorders and forwarding). */
  onFrameReceived(handler: (frame: Frame) => void): void {
    this.frameHandlers.push(handler);
  }

  /** Encode (and sign, when configured) and send. Returns the bytes sent. */
  send(message: MavLinkData): Buffer {
    let bytes: Buffer;
    const signing = this.options.signing;
    if (signing && this.signingClock) {
      bytes = appendSignature(
        this.encoder.encodeForSigning(message),
        signing.key,
        signing.linkId,
        this.signingClock.next(),
      );
    } else {
      bytes = this.encoder.encode(message);
    }
    if (!this.closed) {
      this.transport.send(bytes);
      this.counters.messagesOut++;
    }
    return bytes;
  }

  /**
   * Frame (and sign, when configured) a message written in place, and send it. Returns the bytes sent. The same
   * bytes `send` would make of a message object with the same values, without building or serializing one.
   */
  sendInPlace(message: InPlaceMessage): Buffer {
    let bytes: Buffer;
    const signing = this.options.signing;
    if (signing && this.signingClock) {
      bytes = this.encoder.encodeInPlace(message, true, SIGNATURE_LEN);
      signFrameInPlace(bytes, signing.key, signing.linkId, this.signingClock.next());
    } else {
      bytes = this.encoder.encodeInPlace(message);
    }
    if (!this.closed) {
      this.transport.send(bytes);
      this.counters.messagesOut++;
    }
    return bytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transport.close();
  }
}
