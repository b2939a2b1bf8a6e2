import type { ModelKind } from '../../shared/policy/index.js';

/** What the runtime knows about a loaded model: for logs, telemetry and the policy registry's bookkeeping. */
export interface ModelInfo {
  readonly kind: ModelKind;
  /** The file path it came from, or the label given with bytes (e.g. 'builtin:go-to-goal', 'bundle:42'). */
  readonly source: string;
  /** SHA-256 of the model bytes (hex): the identity a rollout refers to. */
  readonly sha256: string;
  readonly sizeBytes: number;
  /** aerie.contract_version of the model. */
  readonly contractVersion: string;
  /** aerie.name when present. */
  readonly name: string | null;
  readonly inputName: string;
  readonly inputSize: number;
  readonly outputName: string;
  readonly outputSize: number;
  /** The normalisation the graph applies, as its metadata declares it (informative; null when none). */
  readonly obsMean: readonly number[] | null;
  readonly obsStd: readonly number[] | null;
  /** All metadata_props. */
  readonly metadata: Readonly<Record<string, string>>;
}
