/**
 * The HTTP API's ports over the station's parts: deliveries (store + dispatcher), fleet (registry, stored events),
 * the fleet airspace.
 */
import type { Depot, Dispatcher } from '../deliveries/index.js';
import { orderView, resolveDeliveryRequest } from '../deliveries/index.js';
import { droneView, type FleetRegistry } from '../fleet/index.js';
import type { StationStore } from '../storage/index.js';
import type { AirspacePort, DeliveriesPort, FleetPort } from '../web/index.js';
import { parseAirspaceRequest, type StationAirspace } from './airspace.js';

export function deliveriesPort(
  store: StationStore,
  dispatcher: Dispatcher,
  depots: readonly Depot[],
  maxDropDistanceM: number,
  onCreated: () => void,
  airspace?: Pick<StationAirspace, 'orderRefusal' | 'refresh'>,
): DeliveriesPort {
  return {
    async create(body, nowMs) {
      const resolved = resolveDeliveryRequest(body, { depots, maxDropDistanceM, nowMs });
      if (!resolved.ok) return resolved;
      // Not flyable under the fleet airspace (drop outside the geofence or in a no-fly zone): refused here.
      await airspace?.refresh();
      const refused = airspace?.orderRefusal(resolved.value);
      if (refused) return { ok: false, reason: [refused] };
      await store.insertOrder(resolved.value);
      onCreated();
      return { ok: true, value: orderView(resolved.value) };
    },
    async list(query) {
      return (await store.listOrders(query)).map(orderView);
    },
    async get(id) {
      const order = await store.getOrder(id);
      if (!order) return null;
      return { order: orderView(order), history: await store.orderEvents(id) };
    },
    async cancel(id, nowMs) {
      const r = await dispatcher.cancel(id, nowMs);
      if (!r) return null;
      return { order: r.order, view: orderView(r.order), changed: r.changed };
    },
  };
}

export function fleetPort(registry: FleetRegistry, dispatcher: Dispatcher, store: StationStore): FleetPort {
  return {
    async events(id, query) {
      const events = await store.listDroneEvents({ droneId: id, ...query });
      if (events.length === 0 && registry.get(id) === undefined) return null;
      return events.map((e) => ({
        rowId: e.rowId,
        sessionId: e.sessionId,
        seq: e.seq,
        kind: e.kind,
        timeMs: e.timeMs,
        receivedAtMs: e.receivedAtMs,
        event: e.payload,
      }));
    },
    list(nowMs) {
      return registry.all().map((d) => droneView(registry, d, nowMs, dispatcher.taskOf(d.id)));
    },
    get(id, nowMs) {
      const d = registry.get(id);
      return d ? droneView(registry, d, nowMs, dispatcher.taskOf(d.id)) : null;
    },
  };
}

/** GET/PUT /api/airspace: a valid PUT becomes the fleet airspace (stored, published) and starts a round. */
export function airspacePort(airspace: StationAirspace, onChanged: () => void): AirspacePort {
  return {
    get: () => airspace.refresh(),
    async put(body, nowMs) {
      const parsed = parseAirspaceRequest(body);
      if (!parsed.ok) return parsed;
      const r = await airspace.set(parsed.value, nowMs);
      if (r.changed) onChanged();
      return { ok: true, value: r };
    },
  };
}
