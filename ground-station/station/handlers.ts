/**
 * What the station does with each drone message once ingest has validated it: the registry first (cheap, in
 * order), then monitoring, then the dispatcher and the stores (async, tracked). Events and metrics come at least
 * once: a repeat (same drone, session, channel and seq) is counted and goes no further, so monitoring never counts
 * a window twice nor the dispatcher sees a mission event twice. Every new event is kept in the store.
 */
import type { Logger } from '../../shared/log/index.js';
import type { CommandAck, DroneEvent, DroneStatus, Metrics } from '../../shared/protocol/index.js';
import type { DropCounters } from '../broker/index.js';
import type { Dispatcher } from '../deliveries/index.js';
import type { ExperienceStore } from '../experience/index.js';
import type { FleetRegistry } from '../fleet/index.js';
import type { IngestHandlers } from '../link/index.js';
import type { StationStore } from '../storage/index.js';
import type { LatencyRecorder } from './latency.js';
import type { StationMonitoring } from './monitoring-port.js';
import type { SequenceTracker } from './sequences.js';
import type { TaskTracker } from './work.js';

export interface HandlerDeps {
  readonly registry: FleetRegistry;
  readonly dispatcher: Dispatcher;
  readonly monitoring: StationMonitoring;
  readonly experience: ExperienceStore;
  /** Where drone events are kept (once per drone, session and seq). */
  readonly events: Pick<StationStore, 'insertDroneEvent'>;
  readonly sequences: SequenceTracker;
  readonly drops: DropCounters;
  readonly latency: LatencyRecorder;
  readonly tasks: TaskTracker;
  /** A change that may let an order move: run a round soon. */
  readonly kick: () => void;
  /** Births and deaths are written to the database soon. */
  readonly dronesChanged: () => void;
  readonly clock: () => number;
  readonly logger: Logger;
  /** The rollout manager: births (policy slots), policy events, metrics windows and command acks. */
  readonly rollouts?: {
    onBirth(b: Extract<DroneStatus, { kind: 'birth' }>): void;
    onPolicyEvent(e: Extract<DroneEvent, { kind: 'policy' }>, nowMs: number): void;
    onMetrics(m: Metrics, nowMs: number): void;
    onAck(droneId: string, ack: CommandAck, nowMs: number): void;
  };
}

export function stationHandlers(deps: HandlerDeps): IngestHandlers {
  const { registry, dispatcher, monitoring, experience, latency, tasks, kick, clock, logger } = deps;
  const { events, sequences, drops } = deps;
  /** A message's own session, else the drone's current one ('' before any birth). */
  const sessionOf = (id: string, sessionId: string | undefined) => sessionId ?? registry.get(id)?.sessionId ?? '';
  return {
    status(status, nowMs) {
      const change = registry.applyStatus(status, nowMs);
      if (status.kind === 'birth' && change.kind !== 'stale-birth') deps.rollouts?.onBirth(status);
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
      const known = registry.get(t.id);
      // Telemetry of a session other than the drone's live one is not that drone's current state: an old process
      // still running, or someone publishing on its topic (the broker's ACL is what stops impersonation).
      if (known?.online && known.sessionId !== null && t.sessionId !== undefined && t.sessionId !== known.sessionId) {
        drops.drop('telemetry:session-mismatch');
        return;
      }
      const first = known?.telemetry === null;
      if (!registry.applyTelemetry(t, clock())) return;
      // Send stamp to applied: what the benchmark and /metrics report (needs drone and station clocks in step).
      latency.record(clock() - t.timeMs);
      monitoring.onTelemetry(t);
      // A drone's first report after its birth may make it assignable.
      if (first) kick();
    },
    event(e, nowMs) {
      const sessionId = sessionOf(e.id, e.sessionId);
      if (sequences.accept(e.id, sessionId, 'events', e.seq).kind === 'repeat') {
        drops.drop('events:repeat');
        registry.noteSeen(e.id, nowMs);
        return;
      }
      registry.noteEvent(e.id, e.seq, e.sessionId, nowMs);
      tasks.track(
        'events',
        events.insertDroneEvent({
          droneId: e.id,
          sessionId,
          seq: e.seq,
          timeMs: e.timeMs,
          receivedAtMs: nowMs,
          kind: e.kind,
          payload: e,
        }),
      );
      monitoring.onEvent(e);
      if (e.kind === 'mission') tasks.track('events', dispatcher.onEvent(e.id, e, nowMs).then(kick));
      if (e.kind === 'policy') deps.rollouts?.onPolicyEvent(e, nowMs);
    },
    metrics(m, nowMs) {
      if (sequences.accept(m.id, sessionOf(m.id, m.sessionId), 'metrics', m.seq).kind === 'repeat') {
        drops.drop('metrics:repeat');
        registry.noteSeen(m.id, nowMs);
        return;
      }
      monitoring.onMetrics(m);
      deps.rollouts?.onMetrics(m, nowMs);
    },
    experience(batch, nowMs) {
      tasks.track('experience', experience.accept(batch, registry.get(batch.id)?.sessionId ?? '', nowMs));
    },
    ack(droneId, ack, nowMs) {
      deps.rollouts?.onAck(droneId, ack, nowMs);
      tasks.track('acks', dispatcher.onAck(droneId, ack, nowMs).then(kick));
    },
  };
}
