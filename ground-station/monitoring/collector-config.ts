/**
 * The collector's configuration (declared once, validated at start-up) and the shapes it ingests. The message inputs
 * are the fields the collector reads; the decoded shared/protocol payloads fit them as they are.
 */
import { type ConfigOf, declareConfig, parseConfig } from '../../shared/config/index.js';
import { AerieError } from '../../shared/errors.js';

export const COLLECTOR_CONFIG = declareConfig({
  fineBucketS: { type: 'integer', default: 10, unit: 's', min: 1, max: 600, doc: 'Bucket width of short windows.' },
  fineWindowS: {
    type: 'integer',
    default: 300,
    unit: 's',
    min: 1,
    max: 86_400,
    doc: 'Longest window served from fine buckets.',
  },
  coarseBucketS: { type: 'integer', default: 60, unit: 's', min: 1, max: 3600, doc: 'Bucket width of long windows.' },
  coarseWindowS: { type: 'integer', default: 3600, unit: 's', min: 1, max: 7 * 86_400, doc: 'Longest window kept.' },
  maxSeries: {
    type: 'integer',
    default: 200_000,
    min: 1,
    max: 10_000_000,
    doc: 'Most (metric, scope) series kept; samples for new series beyond it are dropped and counted.',
  },
});
export type CollectorConfig = ConfigOf<typeof COLLECTOR_CONFIG>;

export function parseCollectorConfig(raw: Record<string, unknown>): CollectorConfig {
  const cfg = parseConfig(COLLECTOR_CONFIG, raw);
  const whole = (w: number, b: number) => w % b === 0 && w >= b;
  if (!whole(cfg.fineWindowS, cfg.fineBucketS) || !whole(cfg.coarseWindowS, cfg.coarseBucketS)) {
    throw new AerieError('CONFIG_CONFLICT', 'each window must be a whole number (>= 1) of its buckets', { ...cfg });
  }
  if (cfg.coarseWindowS < cfg.fineWindowS) {
    throw new AerieError('CONFIG_CONFLICT', 'coarseWindowS must be at least fineWindowS', { ...cfg });
  }
  return cfg;
}

/** One measurement. */
export interface MetricSample {
  /** snake_case, as in METRIC_HELP or any other. */
  readonly name: string;
  readonly value: number;
  /** Unix ms of the measurement (station receive time, or drone time the station trusts). */
  readonly timeMs: number;
  readonly droneId?: string;
  readonly policyVersion?: string;
}

/** The drone's windowed metrics message (shared/protocol `Metrics`, `aerie/v1/drones/{id}/metrics`), fields used here. */
export interface MetricsWindowInput {
  readonly id: string;
  readonly timeMs: number;
  readonly windowS: number;
  readonly episodes: number;
  readonly successes: number;
  readonly returnSum: number;
  readonly ticks: number;
  readonly policyTicks: number;
  readonly interventionsByLayer: Readonly<Record<string, number>>;
  readonly violations: number;
  readonly policyFaults: number;
  /** Null when the window had no policy tick to time. */
  readonly inferenceLatencyUs: { readonly p50: number | null; readonly p99: number | null };
  readonly policyVersion?: string | null;
}

/** Telemetry fields used here (shared/protocol `Telemetry` fits). */
export interface TelemetryInput {
  readonly id: string;
  readonly timeMs: number;
  readonly batteryRemaining?: number | null;
  readonly policyVersion?: string | null;
}

/** Event fields used here (shared/protocol `DroneEvent` fits). */
export interface EventInput {
  readonly id: string;
  readonly timeMs: number;
  readonly kind: string;
  readonly policyVersion?: string | null;
}
