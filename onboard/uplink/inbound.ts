/**
 * What the uplink receives: commands (decoded, de-duplicated by commandId, applied through the runtime port, each
 * answered with an ack) and the fleet's estop, airspace and traffic. Bad input is refused as a value and counted.
 */
import type { Logger } from '../../shared/log/index.js';
import {
  type CommandAck,
  decodeCommand,
  decodePayload,
  type FleetAirspace,
  type FleetTraffic,
  PROTOCOL_VERSION,
  parseFleetTopic,
  topics,
} from '../../shared/protocol/index.js';
import { applyCommand, type CommandAnswer } from './commands.js';
import type { UplinkCounters, WindowCounters } from './counters.js';
import { airspaceToHomeFrame, trafficToNeighbours } from './fleet.js';
import type { UplinkRuntimePort } from './ports.js';
import type { Sender } from './sender.js';

/** Remembered command ids (a repeated command gets the first answer again). */
const RECENT_COMMANDS = 256;

export interface InboundDeps {
  readonly id: string;
  readonly port: UplinkRuntimePort;
  readonly sender: Sender;
  readonly counters: UplinkCounters;
  readonly window: WindowCounters;
  readonly nowMs: () => number;
  readonly log: Logger;
  readonly trafficMaxAgeMs: number;
  /** An assignment was accepted: the task the drone flies now. */
  readonly onTask: (taskId: string) => void;
}

export class Inbound {
  private readonly recentAcks = new Map<string, CommandAck>();
  private readonly inProgress = new Set<string>();
  private traffic: FleetTraffic | null = null;
  private fleetAirspace: FleetAirspace | null = null;
  private appliedAirspaceVersion: number | null = null;

  constructor(private readonly d: InboundDeps) {}

  /** The subscriptions this handler serves. */
  get filters(): string[] {
    const f = [topics.droneCommands(this.d.id), topics.fleetAll];
    if (this.d.port.rollout) f.push(topics.droneBundle(this.d.id));
    return f;
  }

  onMessage(topic: string, payload: Buffer): void {
    try {
      if (topic === topics.droneCommands(this.d.id)) {
        this.onCommand(payload);
        return;
      }
      if (topic === topics.droneBundle(this.d.id)) {
        this.onBundleChunk(payload);
        return;
      }
      switch (parseFleetTopic(topic)) {
        case 'estop':
          this.onFleetEstop(payload);
          break;
        case 'airspace':
          this.onFleetAirspace(payload);
          break;
        case 'traffic':
          this.onTraffic(payload);
          break;
        default:
          break;
      }
    } catch (err) {
      // Not expected (decoding refuses as values); kept so one bad message cannot take the process down.
      this.d.log.error({ err: err instanceof Error ? err.message : String(err), topic }, 'incoming message failed');
    }
  }

  /** Periodic: traffic ages brought to now (stale neighbours drop out), a pending fleet airspace applied. */
  refresh(): void {
    if (this.traffic) this.applyTraffic(this.traffic, false);
    if (this.fleetAirspace && this.appliedAirspaceVersion !== this.fleetAirspace.version) {
      this.applyFleetAirspace(this.fleetAirspace);
    }
  }

  private onCommand(payload: Buffer): void {
    const d = this.d;
    d.counters.commandsReceived++;
    const decoded = decodeCommand(payload);
    if (!decoded.ok) {
      if (decoded.commandId === null) {
        d.counters.commandsDropped++;
        d.window.commandsDropped++;
        d.log.warn({ reason: decoded.reason, bytes: payload.byteLength }, 'unreadable command dropped');
        return;
      }
      this.answer(decoded.commandId, decoded.kind, {
        result: decoded.unsupported ? 'unsupported' : 'rejected',
        reason: decoded.reason,
      });
      return;
    }
    const cmd = decoded.value;
    if (this.repeatAnswer(cmd.commandId)) return;
    if (cmd.target !== undefined && cmd.target !== d.id) {
      this.answer(cmd.commandId, cmd.kind, { result: 'rejected', reason: `addressed to ${cmd.target}, not ${d.id}` });
      return;
    }
    const applied = applyCommand(cmd, { port: d.port, home: () => d.port.vehicle().home, setTask: d.onTask });
    if (applied instanceof Promise) {
      // Answered once done; a repeat in the meantime is not applied twice.
      this.inProgress.add(cmd.commandId);
      void applied.then((answer) => {
        this.inProgress.delete(cmd.commandId);
        this.answer(cmd.commandId, cmd.kind, answer);
        d.log.info({ commandId: cmd.commandId, kind: cmd.kind, ...answer }, 'command');
      });
      return;
    }
    const answer = applied;
    this.answer(cmd.commandId, cmd.kind, answer);
    d.log.info({ commandId: cmd.commandId, kind: cmd.kind, ...answer }, 'command');
    if (answer.result !== 'accepted') return;
    if (cmd.kind === 'assign-delivery') {
      d.sender.publishEvent({
        kind: 'mission',
        missionEvent: 'assigned',
        phase: d.port.mission()?.phase ?? 'idle',
        taskId: cmd.taskId,
      });
    } else if (cmd.kind === 'emergency-stop') {
      d.sender.publishEvent({
        kind: 'alert',
        level: 'critical',
        code: 'emergency-stop',
        message: `emergency stop (command ${cmd.commandId})`,
      });
    }
  }

  private onFleetEstop(payload: Buffer): void {
    const d = this.d;
    const r = decodePayload('estop', payload);
    if (!r.ok) {
      d.counters.fleetRefused++;
      // An estop nobody can read is still someone's intent: log it loudly; the station sees no ack.
      d.log.error({ reason: r.reason }, 'fleet estop refused');
      return;
    }
    if (this.repeatAnswer(r.value.commandId)) return;
    d.port.triggerEmergencyStop();
    this.answer(r.value.commandId, 'emergency-stop', { result: 'accepted' });
    d.sender.publishEvent({
      kind: 'alert',
      level: 'critical',
      code: 'emergency-stop',
      message: `fleet emergency stop (command ${r.value.commandId}): ${r.value.reason}`.slice(0, 1024),
    });
  }

  private onFleetAirspace(payload: Buffer): void {
    if (payload.byteLength === 0) return; // the station cleared the retained airspace: keep what flies now
    const r = decodePayload('airspace', payload);
    if (!r.ok) {
      this.d.counters.fleetRefused++;
      this.d.sender.publishEvent({
        kind: 'alert',
        level: 'warning',
        code: 'airspace-refused',
        message: r.reason.slice(0, 1024),
      });
      return;
    }
    this.fleetAirspace = r.value;
    if (this.appliedAirspaceVersion !== r.value.version) this.applyFleetAirspace(r.value);
  }

  private applyFleetAirspace(msg: FleetAirspace): void {
    const d = this.d;
    const home = d.port.vehicle().home;
    if (!home) return; // kept until the autopilot reports home (refresh retries)
    this.appliedAirspaceVersion = msg.version;
    const r = airspaceToHomeFrame(msg.airspace, msg.origin, home);
    if (!r.ok) {
      d.sender.publishEvent({
        kind: 'alert',
        level: 'warning',
        code: 'airspace-refused',
        message: `fleet airspace v${msg.version}: ${r.reason}`.slice(0, 1024),
      });
      return;
    }
    d.port.setAirspace(r.value);
    d.sender.publishEvent({
      kind: 'alert',
      level: 'info',
      code: 'airspace-applied',
      message: `fleet airspace v${msg.version} applied`,
    });
  }

  private onTraffic(payload: Buffer): void {
    const r = decodePayload('traffic', payload);
    if (!r.ok) {
      this.d.counters.fleetRefused++;
      return;
    }
    this.d.counters.trafficUpdates++;
    this.traffic = r.value;
    this.applyTraffic(r.value, true);
  }

  private applyTraffic(traffic: FleetTraffic, fresh: boolean): void {
    const d = this.d;
    const home = d.port.vehicle().home;
    if (!home) return;
    const r = trafficToNeighbours(traffic, d.id, home, d.nowMs(), d.trafficMaxAgeMs);
    if (fresh) d.counters.trafficStale += r.droppedStale;
    d.port.setNeighbours(r.neighbours);
    if (r.neighbours.length === 0) this.traffic = null;
  }

  private onBundleChunk(payload: Buffer): void {
    const d = this.d;
    const r = decodePayload('bundle', payload);
    if (!r.ok) {
      d.counters.fleetRefused++;
      d.log.warn({ reason: r.reason }, 'bundle chunk refused');
      return;
    }
    void d.port.rollout?.chunk(r.value);
  }

  private repeatAnswer(commandId: string): boolean {
    if (this.inProgress.has(commandId)) {
      this.d.counters.commandsDuplicate++;
      return true;
    }
    const prior = this.recentAcks.get(commandId);
    if (!prior) return false;
    this.d.counters.commandsDuplicate++;
    void this.d.sender.sendAck({ ...prior, timeMs: this.d.nowMs() });
    return true;
  }

  private answer(commandId: string, kind: string | null, answer: CommandAnswer): void {
    const d = this.d;
    const ack: CommandAck = {
      schema: PROTOCOL_VERSION,
      id: d.id,
      commandId,
      ...(kind !== null ? { kind } : {}),
      result: answer.result,
      ...(answer.reason !== undefined ? { reason: answer.reason.slice(0, 1024) } : {}),
      timeMs: d.nowMs(),
    };
    if (answer.result === 'accepted') d.counters.commandsAccepted++;
    else {
      d.counters.commandsRefused++;
      d.window.commandsRefused++;
    }
    this.recentAcks.set(commandId, ack);
    if (this.recentAcks.size > RECENT_COMMANDS) this.recentAcks.delete(this.recentAcks.keys().next().value as string);
    void d.sender.sendAck(ack);
  }
}
