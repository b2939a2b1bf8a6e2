/** The fleet traffic message: where airborne drones with fresh telemetry are, for the drones' separation barrier. */
import { type FleetTraffic, MAX_TRAFFIC_DRONES, PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import type { FleetRegistry } from '../fleet/index.js';

export function fleetTraffic(registry: FleetRegistry, nowMs: number, freshMs: number): FleetTraffic | null {
  const drones: FleetTraffic['drones'][number][] = [];
  for (const d of registry.all()) {
    const t = d.telemetry;
    if (!d.online || !t?.geo || !t.velocityNedMS || d.telemetryAtMs === null) continue;
    if (nowMs - d.telemetryAtMs > freshMs || t.landed) continue;
    drones.push({ id: d.id, geo: t.geo, velocityNedMS: t.velocityNedMS, timeMs: t.timeMs });
    if (drones.length >= MAX_TRAFFIC_DRONES) break;
  }
  return drones.length === 0 ? null : { schema: PROTOCOL_VERSION, timeMs: nowMs, drones };
}
