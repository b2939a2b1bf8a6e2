/**
 * Message streams of one MAVLink link, as PX4's mavlink module keeps them per instance: a default rate per message
 * for the link's mode ("onboard" toward the companion, "normal" toward the GCS), changed by SET_MESSAGE_INTERVAL.
 * Scheduling runs on simulated time: a stream at 30 Hz sends 30 messages per simulated second whatever the speed.
 */

/** Message ids the simulated vehicle can stream or send on request. */
export const MSG = {
  HEARTBEAT: 0,
  SYS_STATUS: 1,
  GPS_RAW_INT: 24,
  ATTITUDE: 30,
  ATTITUDE_QUATERNION: 31,
  LOCAL_POSITION_NED: 32,
  GLOBAL_POSITION_INT: 33,
  VFR_HUD: 74,
  POSITION_TARGET_LOCAL_NED: 85,
  ALTITUDE: 141,
  BATTERY_STATUS: 147,
  HOME_POSITION: 242,
  MESSAGE_INTERVAL: 244,
  EXTENDED_SYS_STATE: 245,
  CURRENT_MODE: 436,
} as const;

export type LinkMode = 'onboard' | 'normal';

/**
 * Default rates (Hz). Onboard: what PX4 v1.15.4 SITL sent on 14580 in the recorded conversation (the recording
 * runs ~2.6% slow against the wall clock; these are the rates in PX4's own time). ATTITUDE, ATTITUDE_QUATERNION and
 * GLOBAL_POSITION_INT are off until requested. Normal: PX4's GCS-link defaults for the messages modelled here.
 */
export const DEFAULT_RATES_HZ: Record<LinkMode, Readonly<Partial<Record<number, number>>>> = {
  onboard: {
    [MSG.HEARTBEAT]: 1,
    [MSG.LOCAL_POSITION_NED]: 30,
    [MSG.ALTITUDE]: 10,
    [MSG.VFR_HUD]: 10,
    [MSG.POSITION_TARGET_LOCAL_NED]: 10,
    [MSG.GPS_RAW_INT]: 8,
    [MSG.SYS_STATUS]: 5,
    [MSG.EXTENDED_SYS_STATE]: 5,
    [MSG.CURRENT_MODE]: 0.5,
    [MSG.BATTERY_STATUS]: 0.5,
    [MSG.HOME_POSITION]: 0.5,
  },
  normal: {
    [MSG.HEARTBEAT]: 1,
    [MSG.SYS_STATUS]: 1,
    [MSG.EXTENDED_SYS_STATE]: 1,
    [MSG.GPS_RAW_INT]: 1,
    [MSG.GLOBAL_POSITION_INT]: 5,
    [MSG.LOCAL_POSITION_NED]: 1,
    [MSG.ATTITUDE]: 15,
    [MSG.ALTITUDE]: 1,
    [MSG.VFR_HUD]: 4,
    [MSG.BATTERY_STATUS]: 0.5,
    [MSG.HOME_POSITION]: 0.5,
    [MSG.CURRENT_MODE]: 0.5,
  },
};

/** Streams that exist on a link (can be given an interval); others are refused like PX4 refuses unknown ids. */
export const STREAMABLE: ReadonlySet<number> = new Set([
  MSG.SYS_STATUS,
  MSG.GPS_RAW_INT,
  MSG.ATTITUDE,
  MSG.ATTITUDE_QUATERNION,
  MSG.LOCAL_POSITION_NED,
  MSG.GLOBAL_POSITION_INT,
  MSG.VFR_HUD,
  MSG.POSITION_TARGET_LOCAL_NED,
  MSG.ALTITUDE,
  MSG.BATTERY_STATUS,
  MSG.HOME_POSITION,
  MSG.EXTENDED_SYS_STATE,
  MSG.CURRENT_MODE,
]);

interface Stream {
  intervalS: number;
  nextS: number;
}

export type IntervalResult = 'ok' | 'refused';

export class StreamScheduler {
  private readonly streams = new Map<number, Stream>();
  /** Streams in a fixed order (ids ascending) so the send order is deterministic. */
  private order: number[] = [];

  constructor(
    readonly mode: LinkMode,
    startS = 0,
  ) {
    for (const [id, hz] of Object.entries(DEFAULT_RATES_HZ[mode])) {
      if (hz !== undefined && hz > 0) this.streams.set(Number(id), { intervalS: 1 / hz, nextS: startS });
    }
    this.reorder();
  }

  private reorder(): void {
    this.order = [...this.streams.keys()].sort((a, b) => a - b);
  }

  /** Current interval in seconds (Infinity when off). */
  intervalS(msgid: number): number {
    return this.streams.get(msgid)?.intervalS ?? Number.POSITIVE_INFINITY;
  }

  /**
   * SET_MESSAGE_INTERVAL semantics as PX4: interval -1 us stops, 0 restores the default, > 0 sets it. HEARTBEAT and
   * ids without a stream are refused (PX4 answers FAILED).
   */
  setInterval(msgid: number, intervalUs: number, nowS: number): IntervalResult {
    if (msgid === MSG.HEARTBEAT || !STREAMABLE.has(msgid) || !Number.isFinite(intervalUs)) return 'refused';
    let intervalS: number;
    if (intervalUs < -0.00001) intervalS = Number.POSITIVE_INFINITY;
    else if (intervalUs > 0.00001) intervalS = intervalUs / 1e6;
    else {
      const hz = DEFAULT_RATES_HZ[this.mode][msgid];
      intervalS = hz ? 1 / hz : Number.POSITIVE_INFINITY;
    }
    if (intervalS === Number.POSITIVE_INFINITY) this.streams.delete(msgid);
    else this.streams.set(msgid, { intervalS, nextS: nowS });
    this.reorder();
    return 'ok';
  }

  /** Call `emit` for every stream due at `nowS`, at most once each per call. */
  due(nowS: number, emit: (msgid: number) => void): void {
    for (const id of this.order) {
      const s = this.streams.get(id) as Stream;
      if (nowS + 1e-9 < s.nextS) continue;
      s.nextS += s.intervalS;
      // Fell behind (a long step): resynchronise instead of bursting.
      if (s.nextS <= nowS) s.nextS = nowS + s.intervalS;
      emit(id);
    }
  }
}
