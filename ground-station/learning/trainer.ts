/**
 * `aerie train`'s engine: PPO-Lagrangian over the vectorised delivery environment, with the shield trained from the
 * same rollouts. Deterministic for a seed (every random draw comes from seeded streams; the wasm backend computes
 * the same floats every run) and resumable exactly from a checkpoint.
 */
import { AerieError } from '../../shared/errors.js';
import type { ExperienceRecord } from '../../shared/experience/index.js';
import { componentLogger } from '../../shared/log/index.js';
import { METADATA_KEYS } from '../../shared/policy/index.js';
import { createRng } from '../../shared/random/index.js';
import { type Checkpoint, writeCheckpoint } from './checkpoint.js';
import { DeliveryEnv, type EpisodeSummary } from './env/delivery-env.js';
import type { IterationRecord } from './history.js';
import { initTf } from './nn/tf.js';
import { type OfflineStats, offlinePretrain } from './offline.js';
import { Agent, type PolicySnapshot } from './ppo/agent.js';
import { RolloutBuffer } from './ppo/buffer.js';
import { collectRollout } from './ppo/rollout.js';
import { StateRng } from './ppo/state-rng.js';
import { ppoUpdate, shieldUpdate, updateLagrange } from './ppo/update.js';
import { type ProgressSink, silentProgress } from './progress.js';
import { type TeacherStartStats, teacherStart } from './teacher-start.js';
import { configHash, type TrainConfig } from './train-config.js';
import { type ValidationResult, validatePolicy, validationScore } from './validate.js';

const log = componentLogger('trainer');

export type StopReason = 'iterations' | 'target' | 'wall';

export interface TrainerOptions {
  readonly config: TrainConfig;
  /** Where checkpoints go (checkpoint.json); null writes nothing. */
  readonly checkpointPath?: string | null;
  readonly progress?: ProgressSink;
  /** Continue from this checkpoint (its configuration must match but for the stopping keys). */
  readonly resume?: Checkpoint | null;
  /** Recorded experience to start from (behaviour cloning and critic warm start) before on-policy training. */
  readonly dataset?: readonly ExperienceRecord[] | null;
  /** Wall clock in seconds (injected so tests need not depend on time). */
  readonly clock?: () => number;
}

export interface TrainResult {
  readonly stoppedBy: StopReason;
  readonly iterations: number;
  readonly envSteps: number;
  readonly wallS: number;
  /** Wall seconds when the success target was first met, cost aside (null when never). */
  readonly wallSToTarget: number | null;
  readonly history: readonly IterationRecord[];
  readonly offline: OfflineStats | null;
  readonly teacherStart: TeacherStartStats | null;
  /** The best validated policy (null without validation). */
  readonly best: { readonly iteration: number; readonly validation: ValidationResult } | null;
}

/** Keys that may change between a checkpoint and its resumption (how long to go on, not what is learned). */
const RESUMABLE_KEYS = [
  'iterations',
  'maxWallS',
  'targetSuccess',
  'targetCostRate',
  'stopAfterIterations',
  'checkpointEvery',
  'finalEvalEpisodes',
  'validateEvery',
  'validateEpisodes',
  'targetInterventionShare',
  'keepBest',
] as const;

/** The best validated policy so far (what is exported with keepBest). */
export interface BestPolicy {
  readonly iteration: number;
  readonly score: number;
  readonly validation: ValidationResult;
  readonly snapshot: PolicySnapshot;
}

/** Scenario seed of the validation deliveries: fixed for a run, apart from training's and the final evaluation's. */
export const VALIDATION_SEED_OFFSET = 2_000_003;

function learningHash(config: TrainConfig): string {
  const train: Record<string, unknown> = { ...config.train };
  for (const k of RESUMABLE_KEYS) delete train[k];
  return configHash({ env: config.env, train: train as unknown as TrainConfig['train'] });
}

export class Trainer {
  readonly config: TrainConfig;
  readonly env: DeliveryEnv;
  readonly agent: Agent;
  readonly configHash: string;
  iteration = 0;
  envSteps = 0;
  lambda: number;
  history: IterationRecord[] = [];
  offline: OfflineStats | null = null;
  teacherStartStats: TeacherStartStats | null = null;
  best: BestPolicy | null = null;
  readonly #buffer: RolloutBuffer;
  readonly #rng: StateRng;
  readonly #progress: ProgressSink;
  readonly #checkpointPath: string | null;
  readonly #clock: () => number;
  #wallOffsetS = 0;
  #startS: number;
  #lastEpisodes: EpisodeSummary[][] = [];

  private constructor(options: TrainerOptions) {
    const { config } = options;
    this.config = config;
    this.configHash = configHash(config);
    const t = config.train;
    const root = createRng(t.seed);
    this.env = new DeliveryEnv(t.envs, config.env, root.fork(10).int(2 ** 31));
    this.agent = new Agent(t, root.fork(20));
    this.#rng = new StateRng(root.fork(30).int(2 ** 31));
    this.#buffer = new RolloutBuffer(t.rolloutSteps, t.envs);
    this.lambda = t.lagrangeInit;
    this.#progress = options.progress ?? silentProgress;
    this.#checkpointPath = options.checkpointPath ?? null;
    this.#clock = options.clock ?? (() => performance.now() / 1000);
    this.#startS = this.#clock();
  }

  static async create(options: TrainerOptions): Promise<Trainer> {
    await initTf();
    const trainer = new Trainer(options);
    const t = trainer.config.train;
    if (options.resume) {
      trainer.#restore(options.resume);
    } else if (
      t.teacherStartSteps > 0 &&
      t.teacherStartEpochs > 0 &&
      !(options.dataset && options.dataset.length > 0)
    ) {
      const stats = teacherStart(trainer.agent, trainer.env, trainer.config, trainer.#rng);
      trainer.teacherStartStats = stats;
      trainer.envSteps += stats.samples;
      trainer.#progress.message(
        `kickstarted start: the teacher flew ${stats.samples} steps (${stats.episodes} episodes, ` +
          `${(100 * stats.teacherSuccessRate).toFixed(0)}% delivered), clone loss ${stats.cloneLoss.toFixed(4)}`,
      );
    } else if (options.dataset && options.dataset.length > 0) {
      trainer.offline = offlinePretrain(trainer.agent, options.dataset, trainer.config, trainer.#rng);
      trainer.#progress.message(
        `offline start: ${options.dataset.length} recorded ticks, behaviour-cloning loss ${trainer.offline.cloneLoss.toFixed(4)}`,
      );
    }
    return trainer;
  }

  get wallS(): number {
    return this.#wallOffsetS + this.#clock() - this.#startS;
  }

  get gamma(): number {
    return Math.exp(-this.config.env.controlDtS / this.config.train.discountHorizonS);
  }

  /** One iteration: collect a rollout, update the multiplier, the policy and critics, and the shield. */
  iterate(): IterationRecord {
    const t = this.config.train;
    const t0 = this.#clock();
    const progressBefore = Math.min(1, this.iteration / t.iterations);
    const teacherCoef = t.teacherCoef * Math.max(0, 1 - progressBefore / t.teacherDecay);
    const stats = collectRollout(this.env, this.agent, this.#buffer, this.#rng, teacherCoef > 0);
    const collectS = this.#clock() - t0;
    this.lambda = updateLagrange(this.lambda, stats.costRate, t);
    const progress = Math.min(1, this.iteration / t.iterations);
    this.agent.optimizer.learningRate = t.learningRate * (1 - (1 - t.learningRateEnd) * progress);
    // Anneal the noise: the exported policy is the mean, so the noisy policy must end up flying like it.
    const startMax = t.initialStd * 2;
    const annealed = Math.min(1, progress / t.stdAnnealShare);
    this.agent.maxStd = t.finalMaxStd > 0 ? startMax + (t.finalMaxStd - startMax) * annealed : startMax;
    this.agent.clampStd();
    const t1 = this.#clock();
    const env = this.config.env;
    const warm = t.smoothnessWarmup > 0 ? Math.min(1, progress / t.smoothnessWarmup) : 1;
    const update = ppoUpdate(this.agent, this.#buffer, this.lambda, this.gamma, this.#rng, {
      coef: t.smoothnessCoef * warm,
      teacherCoef,
      limits: this.env.limits,
      dtS: env.controlDtS,
    });
    const updateS = this.#clock() - t1;
    const shieldLoss = shieldUpdate(this.agent, this.#buffer, this.config.env.controlDtS, this.#rng);
    // Statistics for the next rollout, after the update, so each update saw the inputs its rollout was acted on.
    this.agent.normaliser.update(this.#buffer.obs, this.#buffer.size);
    this.agent.refreshNormalisation();
    this.iteration++;
    this.envSteps += this.#buffer.size;
    const eps = stats.episodes;
    const std = this.agent.std;
    const record: IterationRecord = {
      iteration: this.iteration,
      envSteps: this.envSteps,
      wallS: this.wallS,
      episodes: eps.length,
      successRate: eps.length ? eps.filter((e) => e.success).length / eps.length : Number.NaN,
      meanReturn: eps.length ? eps.reduce((s, e) => s + e.returnSum, 0) / eps.length : Number.NaN,
      costRate: stats.costRate,
      breachRate: stats.breachRate,
      interventionRate: stats.interventionRate,
      rateLimitRate: stats.rateLimitRate,
      smoothLoss: update.smoothLoss,
      lambda: this.lambda,
      std: std.reduce((a, b) => a + b, 0) / std.length,
      approxKl: update.approxKl,
      valueLoss: update.valueLoss,
      shieldLoss,
      envStepsPerS: this.#buffer.size / Math.max(collectS, 1e-9),
      gradientStepsPerS: update.gradientSteps / Math.max(updateS, 1e-9),
    };
    const validated = this.#validateNow() ? this.validate() : null;
    const full: IterationRecord = validated ? { ...record, validation: validated } : record;
    this.history.push(full);
    this.#lastEpisodes.push(eps);
    if (this.#lastEpisodes.length > t.stopAfterIterations) this.#lastEpisodes.shift();
    return full;
  }

  #validateNow(): boolean {
    const t = this.config.train;
    return t.validateEvery > 0 && (this.iteration % t.validateEvery === 0 || this.iteration === t.iterations);
  }

  /** Validate the mean policy now; keep it as the best when it scores higher. */
  validate(): ValidationResult {
    const t = this.config.train;
    const v = validatePolicy(this.agent, this.config.env, t.validateEpisodes, t.seed + VALIDATION_SEED_OFFSET);
    const score = validationScore(v, t.targetInterventionShare);
    if (this.best === null || score > this.best.score) {
      this.best = { iteration: this.iteration, score, validation: v, snapshot: this.agent.snapshot() };
    }
    return v;
  }

  /** The last validation, if the last iteration had one. */
  get lastValidation(): ValidationResult | null {
    return this.history.at(-1)?.validation ?? null;
  }

  /**
   * Whether the success target is reached: by the last validation when validating (the policy that ships), else by
   * the training episodes of the last stopAfterIterations iterations together.
   */
  atSuccessTarget(): boolean {
    const t = this.config.train;
    if (t.targetSuccess <= 0) return false;
    if (t.validateEvery > 0) {
      const v = this.lastValidation;
      return v !== null && v.successRate >= t.targetSuccess;
    }
    if (this.#lastEpisodes.length < t.stopAfterIterations) return false;
    const eps = this.#lastEpisodes.flat();
    return eps.length > 0 && eps.filter((e) => e.success).length / eps.length >= t.targetSuccess;
  }

  /** The success target, and the cost per tick of those iterations at or below targetCostRate: time to stop. */
  atTarget(): boolean {
    const t = this.config.train;
    if (t.validateEvery > 0) {
      const v = this.lastValidation;
      return (
        this.atSuccessTarget() &&
        v !== null &&
        v.interventionShare <= t.targetInterventionShare &&
        v.costPerTick <= t.targetCostRate
      );
    }
    const recent = this.history.slice(-t.stopAfterIterations);
    const cost = recent.reduce((s, r) => s + r.costRate, 0) / Math.max(recent.length, 1);
    return this.atSuccessTarget() && cost <= t.targetCostRate;
  }

  async run(): Promise<TrainResult> {
    const t = this.config.train;
    let stoppedBy: StopReason = 'iterations';
    let wallSToTarget: number | null = null;
    while (this.iteration < t.iterations) {
      const record = this.iterate();
      this.#progress.update(record, t.iterations);
      if (t.checkpointEvery > 0 && this.iteration % t.checkpointEvery === 0) await this.saveCheckpoint();
      if (wallSToTarget === null && this.atSuccessTarget()) wallSToTarget = this.wallS;
      if (this.atTarget()) {
        stoppedBy = 'target';
        break;
      }
      if (t.maxWallS > 0 && this.wallS >= t.maxWallS) {
        stoppedBy = 'wall';
        break;
      }
    }
    this.#progress.done();
    await this.saveCheckpoint();
    log.info({ iterations: this.iteration, envSteps: this.envSteps, stoppedBy }, 'training stopped');
    return {
      stoppedBy,
      iterations: this.iteration,
      envSteps: this.envSteps,
      wallS: this.wallS,
      wallSToTarget,
      history: this.history,
      offline: this.offline,
      teacherStart: this.teacherStartStats,
      best: this.best ? { iteration: this.best.iteration, validation: this.best.validation } : null,
    };
  }

  checkpoint(): Checkpoint {
    return {
      config: this.config,
      configHash: this.configHash,
      iteration: this.iteration,
      envSteps: this.envSteps,
      wallS: this.wallS,
      lambda: this.lambda,
      rngState: Array.from(this.#rng.state),
      agent: this.agent.state(),
      env: this.env.saveState(),
      history: this.history,
      best: this.best,
    };
  }

  async saveCheckpoint(): Promise<void> {
    if (this.#checkpointPath) await writeCheckpoint(this.#checkpointPath, this.checkpoint());
  }

  #restore(cp: Checkpoint): void {
    if (learningHash(cp.config) !== learningHash(this.config)) {
      throw new AerieError(
        'TRAIN_CHECKPOINT_INVALID',
        'the checkpoint was trained with another configuration (only stopping keys may change on resume)',
        { checkpoint: cp.configHash, config: this.configHash },
      );
    }
    this.agent.restore(cp.agent);
    this.env.loadState(cp.env);
    this.#rng.state.set(cp.rngState);
    this.iteration = cp.iteration;
    this.envSteps = cp.envSteps;
    this.lambda = cp.lambda;
    this.history = [...cp.history];
    this.best = cp.best ?? null;
    this.#wallOffsetS = cp.wallS;
    this.#startS = this.#clock();
  }

  /** The policy and shield as ONNX, with the contract's metadata and the given final metrics. */
  exportModels(metrics: Record<string, number>): { policy: Uint8Array; shield: Uint8Array } {
    const best = this.config.train.keepBest ? this.best : null;
    if (best) return this.agent.withSnapshot(best.snapshot, () => this.#export(metrics, best.iteration));
    return this.#export(metrics, this.iteration);
  }

  #export(metrics: Record<string, number>, iteration: number): { policy: Uint8Array; shield: Uint8Array } {
    const metadata = {
      [METADATA_KEYS.trainingConfigHash]: this.configHash,
      [METADATA_KEYS.metrics]: JSON.stringify(metrics),
      [METADATA_KEYS.name]: 'ppo-lagrangian-delivery',
    };
    return {
      policy: this.agent.exportPolicy({
        ...metadata,
        [METADATA_KEYS.description]: `PPO-Lagrangian delivery policy, iteration ${iteration} of a ${this.iteration}-iteration run (${this.envSteps} env steps).`,
      }),
      shield: this.agent.exportShield(metadata),
    };
  }

  dispose(): void {
    this.agent.dispose();
  }
}
