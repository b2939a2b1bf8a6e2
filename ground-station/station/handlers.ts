/**
 * What the station does with each drone message once ingest has validated it: the registry first (cheap, in
 * order), then monitoring, then the dispatcher and the experience store (async, tracked).
 */
import type { Logger } from '../../shared/log/index.js';
import type { Dispatcher } from '../deliveries/index.js';
import type { ExperienceStore } from '../experience/index.js';
import type { FleetRegistry } from '../fleet/index.js';
import type { IngestHandlers } from '../link/index.js';
import type { LatencyRecorder } from './latency.js';
import type { StationMonitoring } from './monitoring-port.js';
import type { TaskTracker } from './work.js';

export interface HandlerDeps {
  readonly registry: FleetRegistry;
  readonly dispatcher: Dispatcher;
  readonly monitoring: StationMonitoring;
  readonly experience: ExperienceStore;
  readonly latency: LatencyRecorder;
  readonly tasks: TaskTracker;
  /** A change that may let an order move: run a round soon. */
  readonly kick: () => void;
  /** Births and deaths are written to the database soon. */
  readonly dronesChanged: () => void;
  readonly clock: () => number;
  readonly logger: Logger;
}

export function stationHandlers(deps: HandlerDeps): IngestHandlers {
  const { registry, dispatcher, monitoring, experience, latency, tasks, kick, clock, logger } = deps;
  return {
    status(status, nowMs) {
      const change = registry.applyStatus(status, nowMs);
      if (change.kind === 'online') {
        logger.info({ droneId: change.id, sessionId: change.sessionId }, 'drone online');
        deps.dronesChanged();
        kick();
      } else if (change.kind === 'offline') {
        logger.warn({ droneId: change.id, sessionId: change.sessionId, reason: change.reason }, 'drone offline');
        deps.dronesChanged();
        tasks.track('status', dispatcher.onDroneOffline(change.id, nowMs).then(kick));
      }
    },
    telemetry(t) {
      const first = registry.get(t.id)?.telemetry === null;
      if (!registry.applyTelemetry(t, clock())) return;
      // Send stamp to applied: what the benchmark and /metrics report (needs drone and station clocks in step).
      latency.record(clock() - t.timeMs);
      monitoring.onTelemetry(t);
      // A drone's first report after its birth may make it assignable.
      if (first) kick();
    },
    event(e, nowMs) {
      registry.noteEvent(e.id, e.seq, e.sessionId, nowMs);
      monitoring.onEvent(e);
      if (e.kind === 'mission') tasks.track('events', dispatcher.onEvent(e.id, e, nowMs).then(kick));
    },
    metrics(m) {
      monitoring.onMetrics(m);
    },
    experience(batch, nowMs) {
      tasks.track('experience', experience.accept(batch, registry.get(batch.id)?.sessionId ?? '', nowMs));
    },
    ack(droneId, ack, nowMs) {
      tasks.track('acks', dispatcher.onAck(droneId, ack, nowMs).then(kick));
    },
  };
}
