/**
 * Asks the autopilot for the telemetry the runtime needs (SET_MESSAGE_INTERVAL) and copes when it says no. PX4's
 * onboard stream may lack ATTITUDE or GLOBAL_POSITION_INT, and a request may be refused: a refusal is noted, a
 * fallback message is requested where one exists (ATTITUDE_QUATERNION for ATTITUDE; the tracker reads either), and
 * what is still missing is asked for again every `retryMs` while the link is up.
 *
 * Requests go one at a time: they share one command id, and the commander keeps one command of a kind in flight.
 */
import type { Logger } from '../../shared/log/index.js';
import type { Clock, TimerHandle } from './clock.js';
import type { CommandResult } from './commander.js';
import type { LinkConfig } from './config.js';
import { TRACKED_MESSAGE_IDS } from './vehicle-state.js';

export interface IntervalRequest {
  readonly messageId: number;
  readonly name: string;
  readonly rateHz: number;
  /** Asked for at the same rate when this one is refused. */
  readonly fallback?: { readonly messageId: number; readonly name: string };
}

export type IntervalStatus = 'pending' | 'accepted' | 'refused' | 'unanswered';

export interface IntervalState {
  readonly messageId: number;
  readonly name: string;
  readonly rateHz: number;
  status: IntervalStatus;
  attempts: number;
  /** The last failure reason or ACK result, e.g. 'denied' / 'UNSUPPORTED'. */
  lastOutcome: string;
  /** True for an entry added because another was refused. */
  readonly isFallback: boolean;
  /** True once this entry's fallback has been added. */
  fallbackRequested: boolean;
  readonly fallback?: { readonly messageId: number; readonly name: string };
}

/** The requests a link configuration asks for (rate 0 = leave that message as PX4 streams it). */
export function intervalRequestsFromConfig(config: LinkConfig): IntervalRequest[] {
  const ids = TRACKED_MESSAGE_IDS;
  const all: IntervalRequest[] = [
    {
      messageId: ids.ATTITUDE,
      name: 'ATTITUDE',
      rateHz: config.rateAttitudeHz,
      fallback: { messageId: ids.ATTITUDE_QUATERNION, name: 'ATTITUDE_QUATERNION' },
    },
    { messageId: ids.LOCAL_POSITION_NED, name: 'LOCAL_POSITION_NED', rateHz: config.rateLocalPositionHz },
    { messageId: ids.GLOBAL_POSITION_INT, name: 'GLOBAL_POSITION_INT', rateHz: config.rateGlobalPositionHz },
    { messageId: ids.EXTENDED_SYS_STATE, name: 'EXTENDED_SYS_STATE', rateHz: config.rateExtendedSysStateHz },
    { messageId: ids.BATTERY_STATUS, name: 'BATTERY_STATUS', rateHz: config.rateBatteryHz },
    { messageId: ids.GPS_RAW_INT, name: 'GPS_RAW_INT', rateHz: config.rateGpsHz },
    { messageId: ids.HOME_POSITION, name: 'HOME_POSITION', rateHz: config.rateHomeHz },
  ];
  return all.filter((r) => r.rateHz > 0);
}

export class MessageIntervals {
  private readonly entries: IntervalState[];
  private generation = 0;
  private retryTimer: TimerHandle | null = null;

  constructor(
    requests: readonly IntervalRequest[],
    private readonly deps: {
      readonly clock: Clock;
      readonly request: (messageId: number, rateHz: number) => Promise<CommandResult>;
      readonly retryMs: number;
      readonly log?: Logger;
    },
  ) {
    this.entries = requests.map((r) => ({
      messageId: r.messageId,
      name: r.name,
      rateHz: r.rateHz,
      status: 'pending',
      attempts: 0,
      lastOutcome: '',
      isFallback: false,
      fallbackRequested: false,
      fallback: r.fallback,
    }));
  }

  /** Where each request stands. */
  status(): readonly Readonly<IntervalState>[] {
    return this.entries;
  }

  /** The link came up (again): ask for everything, since an autopilot that rebooted forgot our rates. */
  start(): void {
    this.stop();
    for (const e of this.entries) if (e.status === 'accepted') e.status = 'pending';
    void this.pass(this.generation);
  }

  /** The link went down or we stop: no more requests or retries. */
  stop(): void {
    this.generation++;
    this.deps.clock.clearTimer(this.retryTimer);
    this.retryTimer = null;
  }

  private async pass(generation: number): Promise<void> {
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.status === 'accepted') continue;
      e.attempts++;
      const result = await this.deps.request(e.messageId, e.rateHz);
      if (generation !== this.generation) return;
      if (result.ok) {
        e.status = 'accepted';
        e.lastOutcome = result.result;
        continue;
      }
      if (result.reason === 'link-down') return;
      e.lastOutcome = result.result ?? result.reason;
      e.status = result.reason === 'timeout' || result.reason === 'cancelled' ? 'unanswered' : 'refused';
      this.deps.log?.warn(
        { message: e.name, rateHz: e.rateHz, outcome: e.lastOutcome, fallback: e.fallback?.name },
        'message interval request not accepted',
      );
      if (e.status === 'refused' && e.fallback && !e.fallbackRequested) {
        e.fallbackRequested = true;
        if (!this.entries.some((x) => x.messageId === e.fallback?.messageId)) {
          this.entries.push({
            messageId: e.fallback.messageId,
            name: e.fallback.name,
            rateHz: e.rateHz,
            status: 'pending',
            attempts: 0,
            lastOutcome: '',
            isFallback: true,
            fallbackRequested: false,
          });
        }
      }
    }
    if (this.entries.some((e) => e.status !== 'accepted')) {
      this.retryTimer = this.deps.clock.setTimer(() => {
        this.retryTimer = null;
        if (generation === this.generation) void this.pass(generation);
      }, this.deps.retryMs);
    }
  }
}
