/**
 * What the uplink sends: QoS 1 channels through the outbox (written first, sent oldest first with a window of
 * PUBACKs, resent after a lost connection), events numbered per session, and acks straight to the broker.
 */
import type { Logger } from '../../shared/log/index.js';
import {
  type Channel,
  type CommandAck,
  encodePayload,
  type PayloadByChannel,
  PROTOCOL_VERSION,
  topics,
} from '../../shared/protocol/index.js';
import type { MqttConnection } from './connection.js';
import type { UplinkCounters } from './counters.js';
import type { EventBody } from './events.js';
import type { Outbox, QueuedChannel } from './outbox.js';

/** 'queue-full' alerts at most this often (ms). */
const QUEUE_ALERT_INTERVAL_MS = 60_000;

export interface SenderDeps {
  readonly id: string;
  readonly sessionId: string;
  readonly outbox: Outbox;
  readonly connection: MqttConnection;
  readonly counters: UplinkCounters;
  readonly nowMs: () => number;
  readonly log: Logger;
  readonly inflightMax: number;
  readonly retryMs: number;
  readonly queueMaxBytes: number;
}

export class Sender {
  /** Per-session sequence numbers of the queued channels (the last one used). */
  readonly seq: Record<QueuedChannel, number> = { events: 0, metrics: 0, experience: 0 };
  private online = false;
  private epoch = 0;
  private inflight = 0;
  private lastQueueAlertMs = Number.NEGATIVE_INFINITY;
  private alerting = false;

  constructor(private readonly d: SenderDeps) {}

  get isOnline(): boolean {
    return this.online;
  }

  /** An epoch number that changes with every lost connection (stale async work compares it). */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** Connected, subscribed and born: start sending the queue. */
  goOnline(): void {
    this.online = true;
    this.pump();
  }

  /** The connection is gone: what was in flight goes again on the next one. */
  goOffline(): void {
    this.epoch++;
    this.online = false;
    this.inflight = 0;
    this.d.outbox.releaseAll();
  }

  /** Queue one event with the next sequence number of this session. */
  publishEvent(body: EventBody): void {
    const d = this.d;
    const event = {
      schema: PROTOCOL_VERSION,
      id: d.id,
      sessionId: d.sessionId,
      seq: this.seq.events + 1,
      timeMs: d.nowMs(),
      ...body,
    } as PayloadByChannel['events'];
    if (this.enqueue('events', event)) this.seq.events++;
  }

  /** Validate, serialise, append to the outbox (its drop policy applies), and send if online. */
  enqueue<C extends QueuedChannel>(channel: C, payload: PayloadByChannel[C]): boolean {
    const d = this.d;
    const encoded = encodePayload(channel as Channel, payload as never);
    if (!encoded.ok) {
      d.counters.encodeErrors++;
      d.log.error({ channel, reason: encoded.reason }, 'message does not encode; not sent');
      return false;
    }
    const r = d.outbox.enqueue(channel, encoded.value.toString('utf8'));
    if (r.queued) d.counters.queued[channel]++;
    if (r.dropped.experience + r.dropped.metrics > 0) this.alertQueueFull(r.dropped);
    this.pump();
    return r.queued;
  }

  /** Publish an ack now (QoS 1, not queued: the station retries an unanswered command with the same id). */
  async sendAck(ack: CommandAck): Promise<void> {
    const d = this.d;
    const encoded = encodePayload('acks', ack);
    if (!encoded.ok) {
      d.counters.encodeErrors++;
      return;
    }
    const r = await d.connection.publish(topics.droneAcks(d.id), encoded.value, 1);
    if (r.ok) d.counters.acksSent++;
    else d.counters.acksLost++;
  }

  private alertQueueFull(dropped: { experience: number; metrics: number }): void {
    const d = this.d;
    if (this.alerting || d.nowMs() - this.lastQueueAlertMs < QUEUE_ALERT_INTERVAL_MS) return;
    this.lastQueueAlertMs = d.nowMs();
    this.alerting = true;
    d.log.warn({ dropped, stats: d.outbox.stats() }, 'store-and-forward queue full: dropping');
    this.publishEvent({
      kind: 'alert',
      level: 'warning',
      code: 'queue-full',
      message: `store-and-forward queue full (${d.queueMaxBytes} bytes): dropped ${dropped.experience} experience and ${dropped.metrics} metrics messages`,
    });
    this.alerting = false;
  }

  /** Send queued messages, oldest first, up to inflightMax awaiting PUBACK. */
  private pump(): void {
    const d = this.d;
    while (this.online && this.inflight < d.inflightMax) {
      const item = d.outbox.next();
      if (!item) return;
      this.inflight++;
      const epoch = this.epoch;
      void d.connection.publish(topics.drone(d.id, item.channel), item.payload, 1).then((r) => {
        if (r.ok) {
          // An acknowledgement counts whenever it comes: the broker has the message.
          d.outbox.ack(item.channel, item.n);
          d.counters.acknowledged++;
        }
        if (epoch !== this.epoch) return;
        this.inflight--;
        if (!r.ok) {
          d.counters.publishErrors++;
          d.outbox.release(item.channel, item.n);
          d.log.warn({ channel: item.channel, reason: r.reason }, 'publish not acknowledged; will retry');
          setTimeout(() => this.pump(), d.retryMs).unref();
          return;
        }
        this.pump();
      });
    }
  }
}
