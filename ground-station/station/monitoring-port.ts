/**
 * The station's monitoring glue: drone messages feed the MetricsCollector, the AlertEngine is evaluated on a timer
 * (its transitions logged, sent to the webhook and its state persisted so a restart neither loses nor re-announces
 * an alert), and the HTTP routes read JSON views and the Prometheus text - the collector's, followed by the
 * station's own counters (dropped messages by reason, orders by status, commands, acks, telemetry latency).
 */
import type { Result } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import type { DroneEvent, Metrics, Telemetry } from '../../shared/protocol/index.js';
import type { DropCounters } from '../broker/index.js';
import type { DispatcherStats } from '../deliveries/index.js';
import type { ExperienceStats } from '../experience/index.js';
import type { FleetRegistry } from '../fleet/index.js';
import {
  AlertEngine,
  type AlertTransition,
  DEFAULT_ALERT_RULES,
  dashboardAlerts,
  dashboardSeries,
  escapeLabelValue,
  MetricsCollector,
  parseScopeKey,
  renderPrometheus,
  SERIES_QUERY_SCHEMA,
  summarizeScope,
  WebhookNotifier,
} from '../monitoring/index.js';
import type { OrderStatus, StationStore } from '../storage/index.js';
import type { MonitoringPort } from '../web/index.js';
import type { LatencyRecorder } from './latency.js';

export const ALERTS_STATE_KEY = 'alerts';
const TELEMETRY_SAMPLE_MS = 1000;

/** '5m', '1h', '90s', '300' (seconds) -> seconds; null when unreadable or outside 1 s .. 7 days. */
export function parseWindow(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!m) return null;
  const s = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  return s >= 1 && s <= 7 * 86_400 ? s : null;
}

export interface StationCounters {
  readonly drops: DropCounters;
  readonly dispatcher: () => DispatcherStats;
  readonly experience: () => ExperienceStats;
  readonly latency: LatencyRecorder;
  readonly messagesReceived: () => number;
}

export class StationMonitoring implements MonitoringPort {
  readonly collector = new MetricsCollector();
  readonly engine: AlertEngine;
  private readonly notifier: WebhookNotifier | null;
  private readonly store: StationStore;
  private readonly registry: FleetRegistry;
  private readonly counters: StationCounters;
  private readonly logger: Logger;
  /** Orders by status, refreshed by evaluate() (the exposition is served without a database round trip). */
  private orderCounts: Record<OrderStatus, number> | null = null;
  private readonly telemetryAcc = new Map<string, { count: number; firstMs: number; last: Telemetry }>();

  constructor(
    store: StationStore,
    registry: FleetRegistry,
    counters: StationCounters,
    options: { webhookUrl?: string },
    logger: Logger,
  ) {
    this.store = store;
    this.registry = registry;
    this.counters = counters;
    this.logger = logger;
    this.engine = new AlertEngine(this.collector, DEFAULT_ALERT_RULES);
    this.notifier = options.webhookUrl ? new WebhookNotifier({ urls: [options.webhookUrl] }) : null;
  }

  /** Bring back the alert states saved before a restart. */
  async restore(): Promise<void> {
    const saved = await this.store.getState(ALERTS_STATE_KEY);
    if (saved === undefined) return;
    try {
      this.engine.restore(saved);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'saved alert state unreadable; starting clean');
    }
  }

  /**
   * Telemetry reaches the collector at most once a second per drone: the count of messages since the last sample
   * (so sums and rates stay exact) and the latest battery. At 10 Hz from a thousand drones, feeding every message
   * would make the collector the station's largest cost.
   */
  onTelemetry(t: Telemetry): void {
    let acc = this.telemetryAcc.get(t.id);
    if (!acc) {
      acc = { count: 0, firstMs: t.timeMs, last: t };
      this.telemetryAcc.set(t.id, acc);
    }
    acc.count++;
    acc.last = t;
    if (t.timeMs - acc.firstMs >= TELEMETRY_SAMPLE_MS) this.flushTelemetry(t.id, acc);
  }

  private flushTelemetry(id: string, acc: { count: number; last: Telemetry }): void {
    const t = acc.last;
    const base = { timeMs: t.timeMs, droneId: id, policyVersion: t.policyVersion };
    if (t.batteryRemaining !== null)
      this.collector.ingest({ ...base, name: 'battery_remaining', value: t.batteryRemaining });
    this.collector.ingest({ ...base, name: 'telemetry', value: acc.count });
    this.collector.ingest({ ...base, name: 'messages', value: acc.count });
    this.telemetryAcc.delete(id);
  }

  /** Hand the collector what telemetry is still accumulating (before queries and evaluations). */
  flushAllTelemetry(): void {
    for (const [id, acc] of [...this.telemetryAcc]) this.flushTelemetry(id, acc);
  }

  onEvent(e: DroneEvent): void {
    this.collector.ingestEvent({
      id: e.id,
      timeMs: e.timeMs,
      kind: e.kind,
      policyVersion: e.kind === 'policy' ? e.policyVersion : (this.registry.get(e.id)?.policyVersion ?? null),
    });
  }

  onMetrics(m: Metrics): void {
    this.collector.ingestMetricsWindow({
      ...m,
      inferenceLatencyUs: { p50: m.inferenceLatencyUs.p50 ?? Number.NaN, p99: m.inferenceLatencyUs.p99 ?? Number.NaN },
    });
  }

  /** One evaluation: transitions are logged, sent to the webhook, and the state saved. */
  async evaluate(nowMs: number): Promise<AlertTransition[]> {
    this.flushAllTelemetry();
    const expectedDrones = this.registry
      .all()
      .filter((d) => d.online)
      .map((d) => d.id);
    const transitions = this.engine.evaluate(nowMs, { expectedDrones });
    for (const t of transitions) {
      const level = t.to === 'firing' && t.severity === 'critical' ? 'error' : t.to === 'firing' ? 'warn' : 'info';
      this.logger[level]({ alert: t.alertId, from: t.from, to: t.to, value: t.value }, t.description);
    }
    this.notifier?.notify(transitions);
    if (transitions.length > 0) await this.persist(nowMs);
    this.collector.prune(nowMs);
    this.orderCounts = await this.store.countOrdersByStatus();
    return transitions;
  }

  async persist(nowMs: number): Promise<void> {
    await this.store.putState(ALERTS_STATE_KEY, this.engine.snapshot(), nowMs);
  }

  metrics(query: { window: string; scope: string; metric?: string }, nowMs: number): Result<unknown, string> {
    this.flushAllTelemetry();
    const windowS = parseWindow(query.window);
    if (windowS === null) return { ok: false, reason: `window: expected e.g. 1m, 5m, 60m (got ${query.window})` };
    if (parseScopeKey(query.scope) === null) {
      return { ok: false, reason: 'scope: expected fleet, drone:<id> or policy:<version>' };
    }
    if (query.metric !== undefined) {
      const q = SERIES_QUERY_SCHEMA.safeParse({ metric: query.metric, scope: query.scope, windowS });
      if (!q.success)
        return { ok: false, reason: q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
      return { ok: true, value: dashboardSeries(this.collector, q.data, nowMs) };
    }
    return {
      ok: true,
      value: {
        scope: query.scope,
        window: query.window,
        windowS,
        timeMs: nowMs,
        summary: summarizeScope(this.collector, query.scope, windowS, nowMs),
        metrics: this.collector.metrics(query.scope),
      },
    };
  }

  alerts(query: { state?: string }): unknown {
    const all = dashboardAlerts(this.engine);
    if (query.state === 'firing' || query.state === 'pending' || query.state === 'resolved') {
      return { [query.state]: all[query.state] };
    }
    return all;
  }

  async ack(alertId: string, by: string, nowMs: number): Promise<boolean> {
    const ok = this.engine.acknowledge(alertId, by, nowMs);
    if (ok) await this.persist(nowMs);
    return ok;
  }

  prometheus(nowMs: number): string {
    this.flushAllTelemetry();
    const drones = this.registry.all().map((d) => ({
      id: d.id,
      online: d.online,
      batteryRemaining: d.telemetry?.batteryRemaining ?? null,
      policyVersion: d.policyVersion,
      lastSeenMs: d.lastSeenMs,
    }));
    const base = renderPrometheus(
      this.collector,
      { drones },
      { nowMs, alerts: this.engine.alerts(), perDrone: drones.length <= 200 },
    );
    return base + this.stationExposition();
  }

  private stationExposition(): string {
    const lines: string[] = [];
    const family = (name: string, type: 'gauge' | 'counter', help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    const label = (k: string, v: string) => `{${k}="${escapeLabelValue(v)}"}`;
    family(
      'aerie_station_dropped_total',
      'counter',
      'MQTT messages and logins the station or its broker refused, by reason.',
      Object.entries(this.counters.drops.snapshot()).map(([reason, n]) => [label('reason', reason), n]),
    );
    family('aerie_station_messages_received_total', 'counter', 'MQTT messages the station client received.', [
      ['', this.counters.messagesReceived()],
    ]);
    if (this.orderCounts) {
      family(
        'aerie_station_orders',
        'gauge',
        'Delivery orders by status (as of the last alert evaluation).',
        Object.entries(this.orderCounts).map(([status, n]) => [label('status', status), n]),
      );
    }
    const d = this.counters.dispatcher();
    family('aerie_station_assignment_rounds_total', 'counter', 'Assignment rounds run.', [['', d.rounds]]);
    family('aerie_station_commands_sent_total', 'counter', 'assign-delivery commands sent.', [['', d.commandsSent]]);
    family(
      'aerie_station_acks_total',
      'counter',
      'Command acks received, by result.',
      Object.entries(d.acks).map(([result, n]) => [label('result', result), n]),
    );
    family('aerie_station_orders_requeued_total', 'counter', 'Orders sent back to the queue.', [['', d.requeued]]);
    const e = this.counters.experience();
    family('aerie_station_experience_batches_total', 'counter', 'Experience batches stored.', [['', e.batchesStored]]);
    family('aerie_station_experience_records_total', 'counter', 'Experience records stored.', [['', e.recordsStored]]);
    family('aerie_station_experience_duplicates_total', 'counter', 'Experience batches received again and skipped.', [
      ['', e.duplicates],
    ]);
    const lat = this.counters.latency;
    const q = (p: number) => lat.percentile(p);
    const p50 = q(50);
    const p99 = q(99);
    if (p50 !== null && p99 !== null) {
      family(
        'aerie_station_telemetry_latency_seconds',
        'gauge',
        'Telemetry send-to-registry latency over the recent samples (drone and station clocks must agree).',
        [
          ['{quantile="0.5"}', p50 / 1000],
          ['{quantile="0.99"}', p99 / 1000],
        ],
      );
    }
    return `${lines.join('\n')}\n`;
  }

  async close(nowMs: number): Promise<void> {
    await this.persist(nowMs).catch(() => undefined);
    await this.notifier?.stop();
  }
}
