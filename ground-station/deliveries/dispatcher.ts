/**
 * The dispatcher: moves orders through queued -> assigned -> in-flight -> delivered | failed | cancelled.
 * Each round (on a timer and soon after any change) it plans with planRound over the queued orders and the idle
 * drones, sends `assign-delivery` (QoS 1) to the chosen drones and waits for their acks and mission events.
 *
 * Policy when things go wrong (stated once, here):
 *  - rejected / failed / unsupported ack, a 'command-refused' mission event, or no ack within ackTimeoutMs:
 *    the order goes back to the queue (the drone sits out rejectCooldownMs); after maxAttempts hand-outs it fails.
 *  - the drone goes offline before accepting: back to the queue at once.
 *  - the drone goes offline in flight: the parcel is on board, so the order cannot go to another drone. It stays
 *    in-flight for inFlightOfflineGraceMs; if the drone is back and reports the task it goes on, otherwise it
 *    fails ("recover the parcel").
 *  - a queued order whose deadline has passed fails.
 *  - a queued order the airspace no longer allows (`orderRefusal`: drop outside the geofence or in a no-fly zone)
 *    fails with the reason; orders already handed out fly on (the drone's safety filter enforces the airspace).
 *  - cancelling an assigned or in-flight order sends the drone an `abort`.
 * Every move is a compare-and-set in the store, so a late ack or a second station never moves an order twice.
 * Several stations on one PostgreSQL database: planning and hand-out run under the store's assignment lock (a
 * round that finds it taken is skipped and counted; the next one comes soon), and drones holding an order in the
 * database - whichever station handed it out - are not available, so no drone is booked twice.
 */
import type { Result } from '../../shared/errors.js';
import type { GeoPoint } from '../../shared/geo/index.js';
import type { Logger } from '../../shared/log/index.js';
import type { Command, CommandAck, DroneEvent } from '../../shared/protocol/index.js';
import {
  type AssignableDrone,
  type AssignmentConfig,
  DEFAULT_ASSIGNMENT_CONFIG,
  planRound,
  type RoundPlan,
} from '../assignment/index.js';
import type { FleetRegistry } from '../fleet/index.js';
import type { OrderRecord, OrderStatus, StationStore } from '../storage/index.js';
import { abortCommand, assignDeliveryCommand, commandRecord, newCommandId } from './commands.js';
import { assignableDrones, deliveryOrder } from './planning.js';

export interface CommandSender {
  sendCommand(droneId: string, command: Command): Promise<Result<void, string>>;
}

export interface DispatcherOptions {
  readonly ackTimeoutMs: number;
  readonly rejectCooldownMs: number;
  readonly maxAttempts: number;
  readonly inFlightOfflineGraceMs: number;
  readonly cruiseAltM: number;
  readonly releaseBy: 'hover' | 'land';
  /** Fleet frame origin for planning (the first depot). */
  readonly fleetOrigin: GeoPoint;
  readonly assignment?: AssignmentConfig;
  /** Most queued orders considered in one round (oldest first). */
  readonly maxOrdersPerRound?: number;
  /** Why a queued order can no longer be flown (the fleet airspace), or null; such orders fail. */
  readonly orderRefusal?: (order: OrderRecord) => string | null;
  /** Drones flying a rollout's candidate now: the assignment steers them to low-risk orders. */
  readonly canaryDrones?: () => ReadonlySet<string>;
  /** Drones to leave out of rounds for now (a policy switch waiting for them on the ground). */
  readonly heldDrones?: () => ReadonlySet<string>;
  /** An order's risk 0..1 (trip length, priority, no-fly zones near the route); absent: no risk term. */
  readonly orderRisk?: (order: OrderRecord) => number;
}

export interface DispatcherStats {
  rounds: number;
  /** Rounds skipped because another station held the assignment lock. */
  roundsLockedOut: number;
  commandsSent: number;
  sendFailures: number;
  acks: Record<string, number>;
  requeued: number;
  delivered: number;
  failed: number;
  cancelled: number;
  lastRound: RoundPlan['stats'] | null;
  lastRoundAtMs: number | null;
}

const ACTIVE: readonly OrderStatus[] = ['assigned', 'in-flight'];

export class Dispatcher {
  private readonly store: StationStore;
  private readonly registry: FleetRegistry;
  private readonly sender: CommandSender;
  private readonly options: DispatcherOptions;
  private readonly logger: Logger;
  /** Drone -> the order it holds (assigned or in flight). */
  private readonly busy = new Map<string, string>();
  /** Command id -> the hand-out waiting for its ack. */
  private readonly pending = new Map<string, { orderId: string; droneId: string; sentAtMs: number }>();
  /** In-flight order -> when its drone was seen going offline. */
  private readonly offlineSince = new Map<string, number>();
  /** Drone -> until when it sits out of rounds. */
  private readonly cooldown = new Map<string, number>();
  private serial: Promise<unknown> = Promise.resolve();
  readonly stats: DispatcherStats = {
    rounds: 0,
    roundsLockedOut: 0,
    commandsSent: 0,
    sendFailures: 0,
    acks: {},
    requeued: 0,
    delivered: 0,
    failed: 0,
    cancelled: 0,
    lastRound: null,
    lastRoundAtMs: null,
  };

  constructor(
    store: StationStore,
    registry: FleetRegistry,
    sender: CommandSender,
    options: DispatcherOptions,
    logger: Logger,
  ) {
    this.store = store;
    this.registry = registry;
    this.sender = sender;
    this.options = options;
    this.logger = logger;
  }

  /** Load what was in progress when the station stopped. */
  async restore(nowMs: number): Promise<void> {
    const active = await this.store.listOrders({ statuses: ACTIVE, limit: 1000 });
    for (const o of active) {
      if (o.droneId === null) continue;
      this.busy.set(o.droneId, o.id);
      if (o.status === 'assigned' && o.commandId) {
        this.pending.set(o.commandId, { orderId: o.id, droneId: o.droneId, sentAtMs: o.updatedAtMs });
      }
      // Until its drone says otherwise, an in-flight order found at start is treated as out of touch.
      if (o.status === 'in-flight') this.offlineSince.set(o.id, nowMs);
    }
  }

  /** The order a drone holds, if any. */
  taskOf(droneId: string): string | null {
    return this.busy.get(droneId) ?? null;
  }

  /** Run `fn` after every earlier dispatcher operation: rounds, acks and events never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /** One round: housekeeping (deadlines, ack timeouts, lost drones), then plan and hand out. */
  round(nowMs: number): Promise<RoundPlan | null> {
    return this.exclusive(async () => {
      await this.housekeeping(nowMs);
      return this.planAndSend(nowMs);
    });
  }

  private async housekeeping(nowMs: number): Promise<void> {
    for (const [commandId, p] of [...this.pending]) {
      if (nowMs - p.sentAtMs < this.options.ackTimeoutMs) continue;
      this.pending.delete(commandId);
      const reason = `no ack from ${p.droneId} within ${Math.round(this.options.ackTimeoutMs / 1000)} s`;
      await this.requeueOrFail(p.orderId, ['assigned'], p.droneId, reason, nowMs);
      this.cooldown.set(p.droneId, nowMs + this.options.rejectCooldownMs);
    }
    for (const [orderId, since] of [...this.offlineSince]) {
      const order = await this.store.getOrder(orderId);
      if (order?.status !== 'in-flight' || order.droneId === null) {
        this.offlineSince.delete(orderId);
        continue;
      }
      const drone = this.registry.get(order.droneId);
      if (drone?.online && drone.telemetry?.taskId === orderId) {
        this.offlineSince.delete(orderId);
        continue;
      }
      if (nowMs - since >= this.options.inFlightOfflineGraceMs) {
        this.offlineSince.delete(orderId);
        await this.finish(
          order,
          'failed',
          `drone ${order.droneId} lost in flight with the parcel on board; recover it`,
          nowMs,
        );
      }
    }
    const queued = await this.store.listOrders({ statuses: ['queued'], limit: 1000 });
    for (const o of queued) {
      const expired = o.deadlineMs !== null && o.deadlineMs <= nowMs;
      const refused = expired ? null : (this.options.orderRefusal?.(o) ?? null);
      if (expired || refused !== null) {
        const moved = await this.store.transitionOrder(
          o.id,
          ['queued'],
          {
            status: 'failed',
            reason: expired ? 'deadline passed before a drone could take it' : `not flyable: ${refused}`,
          },
          nowMs,
        );
        if (moved) this.stats.failed++;
      }
    }
    for (const [droneId, until] of [...this.cooldown]) if (until <= nowMs) this.cooldown.delete(droneId);
  }

  /** Drones as planRound sees them (busy and cooling-down drones unavailable). */
  assignableDrones(nowMs: number): AssignableDrone[] {
    return assignableDrones(
      this.registry,
      (id) => this.busy.has(id) || this.cooldown.has(id),
      nowMs,
      this.options.canaryDrones?.(),
    );
  }

  private async planAndSend(nowMs: number): Promise<RoundPlan | null> {
    const locked = await this.store.withAssignmentLock(() => this.planAndSendLocked(nowMs));
    if (!locked.acquired) {
      this.stats.roundsLockedOut++;
      return null;
    }
    return locked.value;
  }

  private async planAndSendLocked(nowMs: number): Promise<RoundPlan | null> {
    const queued = await this.store.listOrders({ statuses: ['queued'], limit: this.options.maxOrdersPerRound ?? 500 });
    this.stats.rounds++;
    this.stats.lastRoundAtMs = nowMs;
    if (queued.length === 0) return null;
    // Drones holding an order in the database, whoever handed it out (another station on the same database).
    const held = new Set<string>();
    for (const o of await this.store.listOrders({ statuses: ACTIVE, limit: 1000 })) {
      if (o.droneId !== null) held.add(o.droneId);
    }
    const switching = this.options.heldDrones?.() ?? new Set<string>();
    const drones = assignableDrones(
      this.registry,
      (id) => this.busy.has(id) || this.cooldown.has(id) || held.has(id) || switching.has(id),
      nowMs,
      this.options.canaryDrones?.(),
    );
    const risk = this.options.orderRisk;
    const plan = planRound(
      drones,
      queued.map((o) => deliveryOrder(o, this.options.fleetOrigin, risk?.(o))),
      {
        nowMs,
        config: this.options.assignment ?? DEFAULT_ASSIGNMENT_CONFIG,
        fleetOrigin: this.options.fleetOrigin,
      },
    );
    this.stats.lastRound = plan.stats;
    const byId = new Map(queued.map((o) => [o.id, o]));
    for (const a of plan.assignments) {
      const order = byId.get(a.orderId);
      if (order) await this.handOut(order, a.droneId, nowMs);
    }
    return plan;
  }

  private async handOut(order: OrderRecord, droneId: string, nowMs: number): Promise<void> {
    const commandId = newCommandId();
    const moved = await this.store.transitionOrder(
      order.id,
      ['queued'],
      { status: 'assigned', droneId, commandId, reason: null, attemptsDelta: 1 },
      nowMs,
    );
    if (!moved) return; // cancelled meanwhile, or another station took it
    const home = this.registry.get(droneId)?.home ?? null;
    const command = assignDeliveryCommand(moved, droneId, home, commandId, nowMs, this.options);
    await this.store.insertCommand(commandRecord(command, droneId, order.id, nowMs));
    this.busy.set(droneId, order.id);
    this.pending.set(commandId, { orderId: order.id, droneId, sentAtMs: nowMs });
    const sent = await this.sender.sendCommand(droneId, command);
    if (!sent.ok) {
      this.stats.sendFailures++;
      this.pending.delete(commandId);
      this.busy.delete(droneId);
      await this.store.transitionOrder(
        order.id,
        ['assigned'],
        { status: 'queued', commandId: null, reason: `could not send to ${droneId}: ${sent.reason}` },
        nowMs,
      );
      this.logger.warn({ orderId: order.id, droneId, reason: sent.reason }, 'assign-delivery not sent');
      return;
    }
    this.stats.commandsSent++;
    this.logger.info({ orderId: order.id, droneId, commandId }, 'order assigned');
  }

  /** Back to the queue, or failed when the order has had its hand-outs. */
  private async requeueOrFail(
    orderId: string,
    from: readonly OrderStatus[],
    droneId: string,
    reason: string,
    nowMs: number,
  ): Promise<void> {
    if (this.busy.get(droneId) === orderId) this.busy.delete(droneId);
    const order = await this.store.getOrder(orderId);
    if (!order || !from.includes(order.status)) return;
    if (order.attempts >= this.options.maxAttempts) {
      const failed = await this.store.transitionOrder(
        orderId,
        from,
        { status: 'failed', reason: `${reason}; gave up after ${order.attempts} attempts` },
        nowMs,
      );
      if (failed) this.stats.failed++;
      return;
    }
    const moved = await this.store.transitionOrder(orderId, from, { status: 'queued', commandId: null, reason }, nowMs);
    if (moved) {
      this.stats.requeued++;
      this.logger.info({ orderId, droneId, reason }, 'order re-queued');
    }
  }

  private async finish(order: OrderRecord, status: 'delivered' | 'failed', reason: string | null, nowMs: number) {
    const moved = await this.store.transitionOrder(order.id, ACTIVE, { status, reason }, nowMs);
    if (order.droneId !== null && this.busy.get(order.droneId) === order.id) this.busy.delete(order.droneId);
    if (order.commandId) this.pending.delete(order.commandId);
    this.offlineSince.delete(order.id);
    if (moved) {
      if (status === 'delivered') this.stats.delivered++;
      else this.stats.failed++;
      this.logger.info({ orderId: order.id, droneId: order.droneId, status, reason }, 'order finished');
    }
    return moved;
  }

  /** A drone's ack of one of our commands. */
  onAck(droneId: string, ack: CommandAck, nowMs: number): Promise<void> {
    return this.exclusive(async () => {
      // Only the drone the command went to may answer it; anyone else's ack must not use up the answer.
      const sent = await this.store.getCommand(ack.commandId);
      if (!sent || sent.droneId !== droneId) return;
      const command = await this.store.recordAck(ack.commandId, ack.result, ack.reason ?? null, nowMs);
      if (!command || command.orderId === null) return;
      this.stats.acks[ack.result] = (this.stats.acks[ack.result] ?? 0) + 1;
      this.pending.delete(ack.commandId);
      if (command.kind !== 'assign-delivery') return;
      // A late answer to an earlier hand-out of the same order (since re-queued) is history, not news.
      const order = await this.store.getOrder(command.orderId);
      if (order?.commandId !== command.commandId) return;
      if (ack.result === 'accepted') {
        await this.store.transitionOrder(command.orderId, ['assigned'], { status: 'in-flight' }, nowMs);
        return;
      }
      this.cooldown.set(droneId, nowMs + this.options.rejectCooldownMs);
      const why = `${droneId} answered ${ack.result}${ack.reason ? `: ${ack.reason}` : ''}`;
      await this.requeueOrFail(command.orderId, ['assigned'], droneId, why, nowMs);
    });
  }

  /** Mission events move orders: assigned -> in-flight, released/delivered -> delivered, aborted/failed -> failed. */
  onEvent(droneId: string, event: DroneEvent, nowMs: number): Promise<void> {
    if (event.kind !== 'mission' || event.taskId === null) return Promise.resolve();
    const taskId = event.taskId;
    return this.exclusive(async () => {
      const order = await this.store.getOrder(taskId);
      if (!order || order.droneId !== droneId) return;
      switch (event.missionEvent) {
        case 'assigned':
        case 'phase':
          if (order.status === 'assigned') {
            if (order.commandId) this.pending.delete(order.commandId);
            await this.store.transitionOrder(order.id, ['assigned'], { status: 'in-flight' }, nowMs);
          }
          return;
        case 'released':
          await this.finish(order, 'delivered', null, nowMs);
          return;
        case 'outcome':
          if (event.outcome === 'delivered') await this.finish(order, 'delivered', null, nowMs);
          else {
            const detail = event.detail ? `: ${event.detail}` : '';
            await this.finish(order, 'failed', `mission ${event.outcome ?? 'ended'} in ${event.phase}${detail}`, nowMs);
          }
          return;
        case 'command-refused':
          this.cooldown.set(droneId, nowMs + this.options.rejectCooldownMs);
          await this.requeueOrFail(
            order.id,
            ['assigned'],
            droneId,
            `${droneId} refused: ${event.detail ?? 'no reason'}`,
            nowMs,
          );
          return;
      }
    });
  }

  /** The drone's session ended (death). */
  onDroneOffline(droneId: string, nowMs: number): Promise<void> {
    return this.exclusive(async () => {
      const orderId = this.busy.get(droneId);
      if (!orderId) return;
      const order = await this.store.getOrder(orderId);
      if (!order) return;
      if (order.status === 'assigned') {
        if (order.commandId) this.pending.delete(order.commandId);
        await this.requeueOrFail(orderId, ['assigned'], droneId, `${droneId} went offline before accepting`, nowMs);
      } else if (order.status === 'in-flight' && !this.offlineSince.has(orderId)) {
        this.offlineSince.set(orderId, nowMs);
        this.logger.warn({ orderId, droneId }, 'drone offline in flight');
      }
    });
  }

  /**
   * Cancel an order. Queued: cancelled at once. Assigned or in flight: cancelled, and the drone is told to abort.
   * Returns the order after the attempt (unchanged when it had already ended), or null when unknown.
   */
  cancel(orderId: string, nowMs: number): Promise<{ order: OrderRecord; changed: boolean } | null> {
    return this.exclusive(async () => {
      const order = await this.store.getOrder(orderId);
      if (!order) return null;
      if (!['queued', 'assigned', 'in-flight'].includes(order.status)) return { order, changed: false };
      const moved = await this.store.transitionOrder(
        orderId,
        ['queued', 'assigned', 'in-flight'],
        { status: 'cancelled', reason: 'cancelled by an operator' },
        nowMs,
      );
      if (!moved) return { order: (await this.store.getOrder(orderId)) ?? order, changed: false };
      this.stats.cancelled++;
      if (order.droneId !== null && order.status !== 'queued') {
        if (this.busy.get(order.droneId) === orderId) this.busy.delete(order.droneId);
        if (order.commandId) this.pending.delete(order.commandId);
        this.offlineSince.delete(orderId);
        const commandId = newCommandId();
        const abort = abortCommand(order.droneId, commandId, `order ${orderId} cancelled`, nowMs);
        await this.store.insertCommand(commandRecord(abort, order.droneId, orderId, nowMs));
        const sent = await this.sender.sendCommand(order.droneId, abort);
        if (!sent.ok) this.stats.sendFailures++;
      }
      return { order: moved, changed: true };
    });
  }

  /** Wait for every queued operation (tests, shutdown). */
  async idle(): Promise<void> {
    await this.exclusive(async () => undefined);
  }
}
