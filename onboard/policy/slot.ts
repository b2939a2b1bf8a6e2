/**
 * A slot holds the model the loop flies with and swaps it only for one that loads and validates. A refused model
 * leaves the current one flying, and the refusal comes back as a value with its code and message.
 */
import type { ErrorCode } from '../../shared/errors.js';
import { isAerieError } from '../../shared/errors.js';
import { componentLogger, type Logger } from '../../shared/log/index.js';
import type { ModelKind } from '../../shared/policy/index.js';
import { type LoadOptions, loadPolicy, loadShield, type ModelSource } from './load.js';
import type { ModelInfo } from './model-info.js';
import type {
  InferenceFault,
  ModelRunner,
  PolicyOutcome,
  PolicyRunner,
  ShieldOutcome,
  ShieldRunner,
} from './runner.js';

export type SwapRefusal = 'load-failed' | 'contract-mismatch';

export type SwapOutcome =
  | { readonly ok: true; readonly info: ModelInfo; readonly previous: ModelInfo | null }
  | {
      readonly ok: false;
      readonly reason: SwapRefusal;
      readonly code: ErrorCode;
      readonly message: string;
      /** The model still in the slot (still flying), or null when the slot is empty. */
      readonly kept: ModelInfo | null;
    };

type Loader<R> = (source: ModelSource, options: LoadOptions) => Promise<R>;

export class ModelSlot<R extends ModelRunner> {
  private currentRunner: R | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly loader: Loader<R>;
  private readonly log: Logger;

  constructor(kind: ModelKind, loader: Loader<R>, log: Logger = componentLogger(`${kind}-slot`)) {
    this.loader = loader;
    this.log = log;
  }

  /** The model flying now, or null before the first successful swap. */
  get current(): R | null {
    return this.currentRunner;
  }

  /**
   * Load `source` and, if it conforms, make it current and release the previous one (after any inference still
   * running on it). Swaps apply in call order. Never throws.
   */
  swap(source: ModelSource, options: LoadOptions = {}): Promise<SwapOutcome> {
    const next = this.queue.then(() => this.doSwap(source, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Empty the slot and release its model. */
  async clear(): Promise<void> {
    await this.queue;
    const old = this.currentRunner;
    this.currentRunner = null;
    await old?.release();
  }

  private async doSwap(source: ModelSource, options: LoadOptions): Promise<SwapOutcome> {
    const kept = this.currentRunner?.info ?? null;
    let runner: R;
    try {
      runner = await this.loader(source, options);
    } catch (err) {
      const code: ErrorCode = isAerieError(err) ? err.code : 'POLICY_LOAD_FAILED';
      const message = err instanceof Error ? err.message : String(err);
      const reason: SwapRefusal = code === 'POLICY_CONTRACT_MISMATCH' ? 'contract-mismatch' : 'load-failed';
      this.log.warn(
        { code, reason, kept: kept?.sha256 ?? null, err: message },
        'model refused; the current one keeps flying',
      );
      return { ok: false, reason, code, message, kept };
    }
    const old = this.currentRunner;
    this.currentRunner = runner;
    this.log.info(
      {
        source: runner.info.source,
        sha256: runner.info.sha256,
        name: runner.info.name,
        previous: kept?.sha256 ?? null,
      },
      'model swapped in',
    );
    // The loop already flies the new model; the old session goes once its last inference is done.
    await old?.release().catch((err: unknown) => this.log.warn({ err }, 'releasing the previous model failed'));
    return { ok: true, info: runner.info, previous: kept };
  }
}

const emptySlot = (): InferenceFault => ({ ok: false, reason: 'error', detail: 'no model loaded', latencyUs: 0 });

/** The policy slot the control loop's driver runs every tick. */
export class PolicySlot extends ModelSlot<PolicyRunner> {
  constructor(log?: Logger) {
    super('policy', loadPolicy, log);
  }

  /** The current policy's action, or a fault as a value ('error' when the slot is empty). Never throws. */
  runWithDeadline(observation: ArrayLike<number>, deadlineMs: number): Promise<PolicyOutcome> {
    const runner = this.current;
    return runner ? runner.runWithDeadline(observation, deadlineMs) : Promise.resolve(emptySlot());
  }
}

/** The shield (cost critic) slot the safety layer consults. */
export class ShieldSlot extends ModelSlot<ShieldRunner> {
  constructor(log?: Logger) {
    super('shield', loadShield, log);
  }

  costWithDeadline(
    observation: ArrayLike<number>,
    action: ArrayLike<number>,
    deadlineMs: number,
  ): Promise<ShieldOutcome> {
    const runner = this.current;
    return runner ? runner.costWithDeadline(observation, action, deadlineMs) : Promise.resolve(emptySlot());
  }
}
