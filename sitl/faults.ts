/**
 * Fault injection: the typed faults a test or operator can put on a vehicle, their two textual forms (a CLI
 * schedule such as `0:gps-loss@20s` and JSON lines such as `{"vehicle":0,"fault":"gust","northMS":8}`), and a
 * transport wrapper that drops, loses or corrupts datagrams in either direction. Parsing failures are values
 * (`{ ok: false, reason }`): malformed control input is reported and ignored, never fatal.
 */
import { z } from 'zod';
import type { Transport, TransportCounters } from '../shared/mavlink/index.js';
import type { Rng } from '../shared/random/index.js';

export type LinkSelector = 'onboard' | 'gcs' | 'all';

export type Fault =
  /** Datagrams stop in one or both directions (`in` = toward the vehicle). */
  | { kind: 'link-drop'; direction: 'in' | 'out' | 'both'; link?: LinkSelector; durationS?: number }
  /** Each datagram, either direction, is lost with this probability (0-100 %). */
  | { kind: 'packet-loss'; percent: number; link?: LinkSelector; durationS?: number }
  /** Each datagram, either direction, has bytes flipped with this probability (0-100 %). */
  | { kind: 'corrupt'; percent: number; link?: LinkSelector; durationS?: number }
  /** GPS fix lost: no position estimate (arming refused, position modes fail safe). */
  | { kind: 'gps-loss'; durationS?: number }
  /** A sudden gust, m/s NED, that decays (dynamics addGust). */
  | { kind: 'gust'; northMS: number; eastMS: number; downMS: number }
  /** Steady wind with turbulence, m/s NED and m/s standard deviation. */
  | { kind: 'wind'; northMS: number; eastMS: number; downMS: number; gustStdMS: number }
  /** The pack fails: no voltage, no thrust. */
  | { kind: 'battery-fail' }
  /** The state of charge drops to `remaining` (0..1). */
  | { kind: 'battery-low'; remaining: number }
  /** The vehicle dies: it stops answering and streaming, its motors stop, it falls. */
  | { kind: 'die' }
  /** Clear link faults and GPS loss (the others are physical and stay). */
  | { kind: 'clear' };

export type FaultKind = Fault['kind'];

const num = z.number().refine(Number.isFinite, 'must be a finite number');
const link = z.enum(['onboard', 'gcs', 'all']).optional();
const duration = num.refine((v) => v > 0, 'must be > 0 s').optional();
const percent = num.refine((v) => v >= 0 && v <= 100, 'must be 0-100');

const FAULT_SCHEMA = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('link-drop'),
      direction: z.enum(['in', 'out', 'both']).default('both'),
      link,
      durationS: duration,
    })
    .strict(),
  z.object({ kind: z.literal('packet-loss'), percent, link, durationS: duration }).strict(),
  z.object({ kind: z.literal('corrupt'), percent, link, durationS: duration }).strict(),
  z.object({ kind: z.literal('gps-loss'), durationS: duration }).strict(),
  z
    .object({ kind: z.literal('gust'), northMS: num.default(0), eastMS: num.default(0), downMS: num.default(0) })
    .strict(),
  z
    .object({
      kind: z.literal('wind'),
      northMS: num.default(0),
      eastMS: num.default(0),
      downMS: num.default(0),
      gustStdMS: num.refine((v) => v >= 0, 'must be >= 0').default(0),
    })
    .strict(),
  z.object({ kind: z.literal('battery-fail') }).strict(),
  z
    .object({
      kind: z.literal('battery-low'),
      remaining: num.refine((v) => v >= 0 && v <= 1, 'must be 0..1').default(0.1),
    })
    .strict(),
  z.object({ kind: z.literal('die') }).strict(),
  z.object({ kind: z.literal('clear') }).strict(),
]);

export const FAULT_KINDS: readonly FaultKind[] = [
  'link-drop',
  'packet-loss',
  'corrupt',
  'gps-loss',
  'gust',
  'wind',
  'battery-fail',
  'battery-low',
  'die',
  'clear',
];

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Validate a fault object (kind plus its fields). */
export function parseFault(raw: unknown): Parsed<Fault> {
  const r = FAULT_SCHEMA.safeParse(raw);
  if (r.success) return { ok: true, value: r.data as Fault };
  const issue = r.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return { ok: false, reason: `${where}${issue?.message ?? 'invalid fault'}` };
}

/** Which vehicles a request targets: one index, or every vehicle. */
export type VehicleTarget = number | 'all';

export interface FaultRequest {
  readonly vehicle: VehicleTarget;
  readonly fault: Fault;
}

export interface ScheduledFault extends FaultRequest {
  /** Simulated time to inject at, s. */
  readonly atS: number;
}

function parseVehicle(text: unknown, count: number): Parsed<VehicleTarget> {
  if (text === '*' || text === 'all') return { ok: true, value: 'all' };
  const n =
    typeof text === 'number' ? text : typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n >= count)
    return { ok: false, reason: `vehicle must be 0-${count - 1} or "all"` };
  return { ok: true, value: n };
}

/**
 * One JSON control line: `{"vehicle":0,"fault":"gust","northMS":8}` (an optional `"atS"` schedules it in simulated
 * time). Returns a reason for anything malformed.
 */
export function parseFaultLine(line: string, count: number): Parsed<FaultRequest & { atS?: number }> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, reason: 'expected a JSON object' };
  const { vehicle, fault, atS, ...fields } = raw as Record<string, unknown>;
  const v = parseVehicle(vehicle, count);
  if (!v.ok) return v;
  if (typeof fault !== 'string') return { ok: false, reason: `"fault" must be one of ${FAULT_KINDS.join(', ')}` };
  if (atS !== undefined && !(typeof atS === 'number' && Number.isFinite(atS) && atS >= 0)) {
    return { ok: false, reason: '"atS" must be a number >= 0' };
  }
  const f = parseFault({ kind: fault, ...fields });
  if (!f.ok) return { ok: false, reason: `${fault}: ${f.reason}` };
  return { ok: true, value: { vehicle: v.value, fault: f.value, ...(atS === undefined ? {} : { atS }) } };
}

/**
 * A CLI schedule: `;`-separated `VEHICLE:KIND@TIME[:key=value,...]`, e.g. `0:gps-loss@20s` or
 * `all:gust@5s:northMS=8;1:packet-loss@0s:percent=30,durationS=10`. VEHICLE is an index or `all`.
 */
export function parseFaultSchedule(text: string, count: number): Parsed<ScheduledFault[]> {
  const out: ScheduledFault[] = [];
  for (const item of text
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^:]+):([a-z-]+)@(\d+(?:\.\d+)?)s?(?::(.*))?$/.exec(item);
    if (!m) return { ok: false, reason: `${JSON.stringify(item)}: expected VEHICLE:KIND@SECONDSs[:key=value,...]` };
    const [, vehicleText, kind, at, rest] = m;
    const v = parseVehicle(vehicleText, count);
    if (!v.ok) return { ok: false, reason: `${JSON.stringify(item)}: ${v.reason}` };
    const fields: Record<string, unknown> = {};
    for (const pair of (rest ?? '').split(',').filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return { ok: false, reason: `${JSON.stringify(item)}: ${JSON.stringify(pair)} is not key=value` };
      const key = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      fields[key] = value !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
    }
    const f = parseFault({ kind, ...fields });
    if (!f.ok) return { ok: false, reason: `${JSON.stringify(item)}: ${f.reason}` };
    out.push({ vehicle: v.value, fault: f.value, atS: Number(at) });
  }
  return { ok: true, value: out };
}

/** What a FaultyTransport does to traffic now. */
export interface LinkFaultState {
  dropIn: boolean;
  dropOut: boolean;
  lossPercent: number;
  corruptPercent: number;
}

export interface LinkFaultCounters {
  droppedIn: number;
  droppedOut: number;
  corruptedIn: number;
  corruptedOut: number;
}

/** A transport that passes datagrams through a fault filter in both directions. Seeded: the same losses per seed. */
export class FaultyTransport implements Transport {
  readonly faults: LinkFaultState = { dropIn: false, dropOut: false, lossPercent: 0, corruptPercent: 0 };
  readonly faultCounters: LinkFaultCounters = { droppedIn: 0, droppedOut: 0, corruptedIn: 0, corruptedOut: 0 };

  constructor(
    readonly inner: Transport,
    private readonly rng: Rng,
  ) {}

  get mode(): Transport['mode'] {
    return this.inner.mode;
  }

  get counters(): TransportCounters {
    return this.inner.counters;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  describe(): string {
    return this.inner.describe();
  }

  clear(): void {
    this.faults.dropIn = false;
    this.faults.dropOut = false;
    this.faults.lossPercent = 0;
    this.faults.corruptPercent = 0;
  }

  /** Returns the bytes to pass on, or null to drop them. */
  private filter(bytes: Buffer, drop: boolean, outgoing: boolean): Buffer | null {
    const f = this.faults;
    const c = this.faultCounters;
    if (drop || (f.lossPercent > 0 && this.rng.next() * 100 < f.lossPercent)) {
      if (outgoing) c.droppedOut++;
      else c.droppedIn++;
      return null;
    }
    if (f.corruptPercent > 0 && bytes.length > 0 && this.rng.next() * 100 < f.corruptPercent) {
      const copy = Buffer.from(bytes);
      const flips = 1 + this.rng.int(3);
      for (let k = 0; k < flips; k++) copy[this.rng.int(copy.length)] ^= 1 + this.rng.int(255);
      if (outgoing) c.corruptedOut++;
      else c.corruptedIn++;
      return copy;
    }
    return bytes;
  }

  send(bytes: Buffer): void {
    const passed = this.filter(bytes, this.faults.dropOut, true);
    if (passed !== null) this.inner.send(passed);
  }

  onData(listener: (bytes: Buffer) => void): void {
    this.inner.onData((bytes) => {
      const passed = this.filter(bytes, this.faults.dropIn, false);
      if (passed !== null) listener(passed);
    });
  }
}

/** A transport that goes nowhere: counts what is sent (companion-less fleets and benchmarks). */
export class NullTransport implements Transport {
  readonly mode = 'datagram' as const;
  readonly counters: TransportCounters = { bytesIn: 0, bytesOut: 0, sendErrors: 0, noPeerDrops: 0 };
  private readonly listeners: ((bytes: Buffer) => void)[] = [];

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  describe(): string {
    return 'null';
  }
  send(bytes: Buffer): void {
    this.counters.bytesOut += bytes.length;
  }
  onData(listener: (bytes: Buffer) => void): void {
    this.listeners.push(listener);
  }
  /** Deliver bytes as if they arrived (tests). */
  inject(bytes: Buffer): void {
    this.counters.bytesIn += bytes.length;
    for (const l of this.listeners) l(bytes);
  }
}
