/**
 * The station's JSON answers as the ground-station scenarios read them, and checks over them: fleet views, orders,
 * stored events per session, alerts, Prometheus samples.
 */

export interface DroneViewJson {
  readonly id: string;
  readonly online: boolean;
  readonly sessionId: string | null;
  readonly policyVersion: string | null;
  readonly health: { readonly level: string; readonly reasons: readonly string[] };
  readonly battery: number | null;
  readonly task: string | null;
  readonly state: {
    readonly mode: string;
    readonly armed: boolean;
    readonly landed: boolean;
    readonly missionPhase: string;
    readonly geo: { readonly latDeg: number; readonly lonDeg: number; readonly altAmslM: number } | null;
    readonly gpsFixType: number;
    readonly ageMs: number;
  } | null;
  readonly home: { readonly latDeg: number; readonly lonDeg: number; readonly altAmslM: number } | null;
  readonly capabilities: readonly string[];
  readonly eventsMissed: number;
}

export interface OrderJson {
  readonly id: string;
  readonly status: string;
  readonly droneId: string | null;
  readonly drop: {
    readonly latDeg: number;
    readonly lonDeg: number;
    readonly northM?: number;
    readonly eastM?: number;
  };
  readonly reason: string | null;
  readonly attempts: number;
  readonly history?: readonly {
    readonly status: string;
    readonly droneId: string | null;
    readonly reason: string | null;
  }[];
}

export interface StoredEventJson {
  readonly rowId: number;
  readonly sessionId: string;
  readonly seq: number;
  readonly kind: string;
  /** The drone's clock and the station's receive time, Unix ms. */
  readonly timeMs: number;
  readonly receivedAtMs: number;
  readonly event: Record<string, unknown>;
}

export interface AlertJson {
  readonly id: string;
  readonly rule: string;
  readonly scopeKey: string;
  readonly severity: string;
  readonly state: string;
}

/** Sessions whose stored seqs are not exactly 1..N, with what was found (empty when every session is whole). */
export function sequenceGaps(items: readonly { sessionId: string; seq: number }[]): string[] {
  const bySession = new Map<string, number[]>();
  for (const e of items) {
    const list = bySession.get(e.sessionId) ?? [];
    list.push(e.seq);
    bySession.set(e.sessionId, list);
  }
  const problems: string[] = [];
  for (const [session, seqs] of bySession) {
    const sorted = [...seqs].sort((a, b) => a - b);
    const whole = sorted.every((s, i) => s === i + 1);
    if (!whole) problems.push(`${session}: ${sorted.join(',')}`);
  }
  return problems;
}

/** The value of one Prometheus sample (`name{labels} value`) whose labels include all of `labels`; null if absent. */
export function promSample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[l[1]] = l[2];
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[4]);
  }
  return null;
}

/** One line per event but the interventions: `missionEvent:phase=outcome(detail)` or `kind:code(message)`. */
export function describeEvents(events: readonly StoredEventJson[]): string {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : '');
  return events
    .filter((e) => e.kind !== 'intervention')
    .map((e) => {
      const ev = e.event;
      const what = text(ev.missionEvent) || e.kind;
      const where = text(ev.phase) || text(ev.code);
      const outcome = text(ev.outcome) ? `=${text(ev.outcome)}` : '';
      const why = text(ev.detail) || text(ev.message);
      return `${e.seq} ${what}:${where}${outcome}${why ? ` (${why})` : ''}`;
    })
    .join('\n');
}
