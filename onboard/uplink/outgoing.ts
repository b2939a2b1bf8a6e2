/**
 * The drone-originated streams: telemetry (QoS 0, straight out while online), and the windows behind events, metrics
 * and experience, which go through the sender's outbox with their per-session sequence numbers.
 */
import { type ExperienceRecord, validateExperienceRecord } from '../../shared/experience/index.js';
import { encodePayload, type PayloadByChannel, PROTOCOL_VERSION, topics } from '../../shared/protocol/index.js';
import type { UplinkConfig } from './config.js';
import type { MqttConnection } from './connection.js';
import type { UplinkCounters, WindowCounters } from './counters.js';
import { EventAggregator } from './events.js';
import { MetricsWindow } from './metrics.js';
import type { Outbox } from './outbox.js';
import type { UplinkRuntimePort, UplinkTick } from './ports.js';
import type { Sender } from './sender.js';
import { buildTelemetry } from './telemetry.js';

export interface OutgoingDeps {
  readonly id: string;
  readonly sessionId: string;
  readonly config: UplinkConfig;
  readonly port: UplinkRuntimePort;
  readonly sender: Sender;
  readonly outbox: Outbox;
  readonly connection: MqttConnection;
  readonly counters: UplinkCounters;
  readonly nowMs: () => number;
}

export class Outgoing {
  /** Counts over the current metrics window, reported in its `uplink` block. */
  readonly window: WindowCounters = { telemetryDropped: 0, commandsDropped: 0, commandsRefused: 0 };
  /** The task flying now: set by an accepted assignment, cleared after its outcome event. */
  taskId: string | null = null;
  private readonly events: EventAggregator;
  private readonly metrics: MetricsWindow;
  private telemetrySeq = 0;
  private experience: ExperienceRecord[] = [];
  private experienceSinceMs = 0;

  constructor(private readonly d: OutgoingDeps) {
    this.events = new EventAggregator(d.config.eventWindowMs);
    this.metrics = new MetricsWindow(d.nowMs());
  }

  onTick(tick: UplinkTick): void {
    const now = this.d.nowMs();
    this.metrics.observe(tick);
    for (const body of this.events.observe(tick, now, this.taskId)) this.d.sender.publishEvent(body);
    for (const body of this.events.flush(now)) this.d.sender.publishEvent(body);
    if (tick.events.some((e) => e.kind === 'outcome')) this.taskId = null;
  }

  /** Close windows that have run their length (events, experience age). `final` closes everything (shutdown). */
  flushDue(final = false): void {
    const now = this.d.nowMs();
    for (const body of this.events.flush(now, final)) this.d.sender.publishEvent(body);
    if (this.experience.length > 0 && (final || now - this.experienceSinceMs >= this.d.config.experienceFlushMs)) {
      this.flushExperience();
    }
    if (final) this.closeMetricsWindow();
  }

  recordExperience(record: ExperienceRecord): boolean {
    const r = validateExperienceRecord(record);
    if (!r.ok) {
      this.d.counters.experienceInvalid++;
      return false;
    }
    if (this.experience.length === 0) this.experienceSinceMs = this.d.nowMs();
    this.experience.push(r.value);
    this.metrics.addReward(r.value.reward);
    if (this.experience.length >= this.d.config.experienceBatchMax) this.flushExperience();
    return true;
  }

  sendTelemetry(): void {
    const d = this.d;
    if (!d.sender.isOnline) {
      d.counters.telemetryDropped++;
      this.window.telemetryDropped++;
      return;
    }
    const link = d.port.autopilotLink();
    const telemetry = buildTelemetry(d.port.vehicle(), {
      id: d.id,
      sessionId: d.sessionId,
      seq: this.telemetrySeq + 1,
      timeMs: d.nowMs(),
      missionPhase: d.port.mission()?.phase ?? 'idle',
      taskId: this.taskId,
      policyVersion: d.port.policyVersion(),
      autopilotUp: link.up,
      autopilotLinkDowns: link.linkDowns,
      queue: d.outbox.stats(),
    });
    const encoded = encodePayload('telemetry', telemetry);
    if (!encoded.ok) {
      d.counters.encodeErrors++;
      return;
    }
    this.telemetrySeq++;
    void d.connection.publish(topics.droneTelemetry(d.id), encoded.value, 0).then((r) => {
      if (r.ok) d.counters.telemetrySent++;
    });
  }

  closeMetricsWindow(): void {
    const d = this.d;
    const now = d.nowMs();
    const body = this.metrics.close(now, d.port.policyVersion());
    const drops = d.outbox.takeUnreportedDrops();
    const stats = d.outbox.stats();
    const metrics: PayloadByChannel['metrics'] = {
      schema: PROTOCOL_VERSION,
      id: d.id,
      sessionId: d.sessionId,
      seq: d.sender.seq.metrics + 1,
      timeMs: now,
      ...body,
      ...this.shadow(),
      uplink: { queueDrops: drops, queuedRecords: stats.queuedRecords, queueBytes: stats.queueBytes, ...this.window },
    };
    if (d.sender.enqueue('metrics', metrics)) d.sender.seq.metrics++;
    else d.outbox.restoreUnreportedDrops(drops);
    this.window.telemetryDropped = 0;
    this.window.commandsDropped = 0;
    this.window.commandsRefused = 0;
  }

  private shadow(): { shadow?: NonNullable<PayloadByChannel['metrics']['shadow']> } {
    const s = this.d.port.rollout?.shadowMetrics();
    return s ? { shadow: s } : {};
  }

  private flushExperience(): void {
    if (this.experience.length === 0) return;
    const d = this.d;
    const records = this.experience;
    this.experience = [];
    const batch: PayloadByChannel['experience'] = {
      schema: PROTOCOL_VERSION,
      id: d.id,
      sessionId: d.sessionId,
      seq: d.sender.seq.experience + 1,
      timeMs: d.nowMs(),
      policyVersion: records[records.length - 1].policyVersion,
      records: records as PayloadByChannel['experience']['records'],
    };
    if (d.sender.enqueue('experience', batch)) d.sender.seq.experience++;
  }
}
