/**
 * The station's parts as the dashboard stream's source (fleet frames from the registry, alerts from monitoring,
 * the fleet origin and depots), and the fleet emergency stop as one publish on the fleet estop channel.
 */
import { randomBytes } from 'node:crypto';
import type { Result } from '../../shared/errors.js';
import { geoToNed } from '../../shared/geo/index.js';
import { type FleetEstop, PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import type { Depot } from '../deliveries/index.js';
import type { FleetRegistry } from '../fleet/index.js';
import type { StreamSource } from './stream.js';
import { droneFrame } from './stream-frame.js';

export interface StationStreamParts {
  readonly registry: FleetRegistry;
  readonly taskOf: (droneId: string) => string | null;
  readonly alerts: (nowMs: number) => unknown;
  readonly depots: readonly Depot[];
}

export function stationStreamSource(p: StationStreamParts): StreamSource {
  const origin = p.depots[0].geo;
  return {
    fleet(nowMs) {
      return p.registry
        .all()
        .map((d) => droneFrame(d, origin, nowMs, { health: p.registry.health(d, nowMs).level, task: p.taskOf(d.id) }));
    },
    alerts: p.alerts,
    setup(nowMs) {
      return {
        timeMs: nowMs,
        origin,
        depots: p.depots.map((d) => {
          const ne = geoToNed(origin, d.geo);
          return { id: d.id, geo: d.geo, northM: ne.n, eastM: ne.e };
        }),
      };
    },
  };
}

/** Send the fleet-wide emergency stop (QoS 1); every onboard runtime lands at once and acks it. */
export async function publishFleetEstop(
  publish: (payload: FleetEstop) => Promise<Result<void, string>>,
  reason: string,
  nowMs: number,
): Promise<Result<{ commandId: string }, string>> {
  const commandId = `estop-${nowMs}-${randomBytes(3).toString('hex')}`;
  const sent = await publish({ schema: PROTOCOL_VERSION, commandId, timeMs: nowMs, reason });
  return sent.ok ? { ok: true, value: { commandId } } : sent;
}
