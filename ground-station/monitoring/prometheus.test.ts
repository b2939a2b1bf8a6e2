import { describe, expect, it } from 'vitest';
import { AlertEngine } from './alert-engine.js';
import { threshold } from './alert-rules.js';
import { MetricsCollector } from './collector.js';
import { escapeLabelValue, formatValue, renderPrometheus } from './prometheus.js';

interface ParsedSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/**
 * A strict reader of the text exposition format 0.0.4: HELP/TYPE before a family's samples, families contiguous,
 * valid metric and label names, label values with only \\ \" \n escapes, float values, no duplicate series.
 * Throws on the first rule broken.
 */
function parseExposition(text: string): { types: Map<string, string>; samples: ParsedSample[] } {
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const finished = new Set<string>();
  const seen = new Set<string>();
  const samples: ParsedSample[] = [];
  let current = '';
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const [, kind, name, ...rest] = line.split(' ');
      if (!NAME.test(name)) throw new Error(`bad family name ${name}`);
      if (name !== current) {
        if (finished.has(name)) throw new Error(`family ${name} is split`);
        if (current) finished.add(current);
        current = name;
      }
      if (kind === 'TYPE') {
        if (types.has(name)) throw new Error(`second TYPE for ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest[0]))
          throw new Error(`type ${rest[0]}`);
        types.set(name, rest[0]);
      } else {
        if (helps.has(name)) throw new Error(`second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.join(' ').replace(/\\\\/g, ''))) throw new Error(`bad escape in HELP of ${name}`);
        helps.add(name);
      }
      continue;
    }
    if (line.startsWith('#') || line === '') throw new Error(`unexpected line ${JSON.stringify(line)}`);
    // name{labels} value
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad sample line ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = m;
    if (name !== current || !types.has(name)) throw new Error(`sample ${name} outside its family`);
    const labels: Record<string, string> = {};
    if (labelText) {
      let i = 1;
      while (i < labelText.length - 1) {
        const eq = labelText.indexOf('=', i);
        const key = labelText.slice(i, eq);
        if (!LABEL.test(key) || key in labels) throw new Error(`bad label name ${key}`);
        if (labelText[eq + 1] !== '"') throw new Error('label value must be quoted');
        let j = eq + 2;
        let value = '';
        for (;;) {
          const ch = labelText[j];
          if (ch === undefined) throw new Error('unterminated label value');
          if (ch === '"') break;
          if (ch === '\n') throw new Error('raw newline in label value');
          if (ch === '\\') {
            const next = labelText[j + 1];
            if (next === '\\') value += '\\';
            else if (next === '"') value += '"';
            else if (next === 'n') value += '\n';
            else throw new Error(`bad escape \\${next}`);
            j += 2;
            continue;
          }
          value += ch;
          j++;
        }
        labels[key] = value;
        i = j + 1;
        if (labelText[i] === ',') i++;
        else if (i !== labelText.length - 1) throw new Error(`junk after label ${key}`);
      }
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value ${valueText}`);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`duplicate series ${id}`);
    seen.add(id);
    if (types.get(name) === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} without _total`);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

const T0 = 1_699_999_980_000;

function populated(): { collector: MetricsCollector; engine: AlertEngine } {
  const collector = new MetricsCollector();
  const weird = 'v"2\\beta\nrc'; // a policy version with every character that needs escaping
  for (let tS = 0; tS < 120; tS += 10) {
    for (const [id, policyVersion] of [
      ['d1', 'v1'],
      ['d2', weird],
    ]) {
      collector.ingestTelemetry({ id, timeMs: T0 + tS * 1000, batteryRemaining: 0.8, policyVersion });
      collector.ingestMetricsWindow({
        id,
        timeMs: T0 + tS * 1000,
        windowS: 10,
        episodes: 2,
        successes: id === 'd1' ? 2 : 1,
        returnSum: 4,
        ticks: 500,
        policyTicks: 500,
        interventionsByLayer: { sanity: 1, box: 2, barrier: 0, shield: 0, monitor: 0, geofence: 1 },
        violations: id === 'd2' ? 1 : 0,
        policyFaults: 0,
        inferenceLatencyUs: { p50: 20, p99: id === 'd2' ? 400 : 100 },
        policyVersion,
      });
    }
  }
  const engine = new AlertEngine(collector, [
    {
      name: 'v',
      expr: threshold('violations', 60, '>', 0, { agg: 'sum' }),
      scope: 'drone',
      forS: 0,
      severity: 'critical',
    },
  ]);
  engine.evaluate(T0 + 115_000);
  return { collector, engine };
}

describe('renderPrometheus', () => {
  it('produces a valid exposition with the fleet, scopes, windows, counters and alerts', () => {
    const { collector, engine } = populated();
    const nowMs = T0 + 115_000;
    const text = renderPrometheus(
      collector,
      {
        drones: [
          { id: 'd2', online: true, batteryRemaining: 0.8, policyVersion: 'v"2\\beta\nrc', lastSeenMs: nowMs - 5000 },
          { id: 'd1', online: true, batteryRemaining: 0.5, policyVersion: 'v1', lastSeenMs: nowMs - 1000 },
          { id: 'd9', online: false, batteryRemaining: null },
        ],
      },
      { nowMs, alerts: engine.alerts() },
    );
    const { types, samples } = parseExposition(text);
    const find = (name: string, labels: Record<string, string>) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    const one = (name: string, labels: Record<string, string>) => {
      const got = find(name, labels);
      expect(got, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
      return got[0].value;
    };
    expect(types.get('aerie_interventions_total')).toBe('counter');
    expect(types.get('aerie_success_rate')).toBe('gauge');
    expect(one('aerie_drone_online', { drone_id: 'd1' })).toBe(1);
    expect(one('aerie_drone_online', { drone_id: 'd9' })).toBe(0);
    expect(one('aerie_drone_battery_remaining', { drone_id: 'd1' })).toBe(0.5);
    expect(find('aerie_drone_battery_remaining', { drone_id: 'd9' })).toHaveLength(0);
    expect(one('aerie_drone_last_seen_age_seconds', { drone_id: 'd2' })).toBe(5);
    expect(one('aerie_drone_policy_info', { drone_id: 'd2' })).toBe(1);
    expect(find('aerie_drone_policy_info', { drone_id: 'd2' })[0].labels.policy_version).toBe('v"2\\beta\nrc');
    expect(one('aerie_drones', { state: 'offline' })).toBe(1);
    // 1-min window at 115 s: buckets 60..110 s hold 6 windows per drone.
    expect(one('aerie_success_rate', { scope: 'fleet', window: '1m' })).toBeCloseTo(18 / 24, 12);
    expect(one('aerie_success_rate', { scope: 'drone', drone_id: 'd2', window: '5m' })).toBe(0.5);
    expect(one('aerie_success_rate', { scope: 'policy', policy_version: 'v"2\\beta\nrc', window: '60m' })).toBe(0.5);
    expect(one('aerie_intervention_share', { scope: 'fleet', window: '5m' })).toBeCloseTo(4 / 500, 12);
    expect(one('aerie_inference_latency_p99_seconds', { scope: 'fleet', window: '5m' })).toBe(400e-6);
    expect(one('aerie_messages_per_second', { scope: 'drone', drone_id: 'd1', window: '1m' })).toBeCloseTo(12 / 55, 12);
    expect(one('aerie_interventions_total', { scope: 'fleet', layer: 'box' })).toBe(48);
    expect(one('aerie_interventions_total', { scope: 'drone', drone_id: 'd1', layer: 'geofence' })).toBe(12);
    expect(one('aerie_violations_total', { scope: 'drone', drone_id: 'd2' })).toBe(12);
    expect(one('aerie_alerts_firing', { severity: 'critical' })).toBe(1);
    expect(one('aerie_alerts_firing', { severity: 'warning' })).toBe(0);
    expect(one('aerie_metrics_samples_dropped_total', {})).toBe(0);
  });

  it('leaves per-drone series out when asked, and renders an empty station validly', () => {
    const { collector } = populated();
    const text = renderPrometheus(collector, { drones: [] }, { nowMs: T0 + 115_000, perDrone: false });
    const { samples } = parseExposition(text);
    expect(samples.some((s) => s.labels.scope === 'drone')).toBe(false);
    expect(samples.some((s) => s.labels.scope === 'policy')).toBe(true);
    const empty = parseExposition(renderPrometheus(new MetricsCollector(), { drones: [] }, { nowMs: T0 }));
    expect(empty.samples.find((s) => s.name === 'aerie_metrics_series')?.value).toBe(0);
  });

  it('escapes label values and formats special numbers as the format asks', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect([Number.NaN, Infinity, -Infinity, 0.25, 1e-7].map(formatValue)).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      '0.25',
      '1e-7',
    ]);
  });

  it('the reader used above does reject broken expositions', () => {
    expect(() => parseExposition('# TYPE a gauge\na{x="\\q"} 1\n')).toThrow(/bad escape/);
    expect(() => parseExposition('a 1\n')).toThrow(/outside its family/);
    expect(() => parseExposition('# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n')).toThrow();
    expect(() => parseExposition('# TYPE a_count counter\na_count 1\n')).toThrow(/_total/);
  });
});
