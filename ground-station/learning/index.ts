/**
 * Policy learning at the ground station: the vectorised delivery environment, the PPO-Lagrangian trainer (with the
 * shield trained from the same rollouts, kickstarted from a teacher, validated on its mean policy), ONNX export,
 * evaluation with pluggable sections (vectorised, and SITL through the real onboard runtime), and the benchmark
 * figures. The CLIs are train-cli.ts (`aerie train`) and eval-cli.ts (`aerie eval`).
 */
export { type TrainFigure, trainBenchmark, trainBenchmarkFigures } from './bench.js';
export { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
export {
  DeliveryEnv,
  type DeliveryEnvOptions,
  type EpisodeOutcome,
  type EpisodeSummary,
  type FilterContext,
  type SetpointFilter,
} from './env/delivery-env.js';
export { DEFAULT_ENV_CONFIG, ENV_CONFIG_SCHEMA, type EnvConfig, parseEnvConfig } from './env/env-config.js';
export { BREACH_KINDS, type BreachKind } from './env/env-state.js';
export {
  type EvaluateOptions,
  type EvaluationContext,
  type EvaluationReport,
  type EvaluationSection,
  evaluate,
  type SafetyMode,
  type SectionReport,
  type VectorisedEvalOptions,
  type VectorisedReport,
  vectorisedSection,
} from './evaluate.js';
export { readExperienceFile } from './files.js';
export type { IterationRecord } from './history.js';
export { experienceColumns, type OfflineStats, offlinePretrain } from './offline.js';
export { trainingPlotSvg } from './plot.js';
export { DEFAULT_TEACHER, type TeacherParams, teacherActions } from './ppo/teacher.js';
export { type Headline, headline } from './report.js';
export { OnboardSafetyFilter } from './safety-adapter.js';
export {
  type SitlDelivery,
  type SitlEvalOptions,
  type SitlReport,
  type SitlScenario,
  sitlScenarios,
  sitlSection,
} from './sitl-eval/index.js';
export { type TeacherStartStats, teacherStart } from './teacher-start.js';
export {
  configHash,
  parseTrainConfig,
  TRAIN_CONFIG_SCHEMA,
  type TrainConfig,
  type TrainSection,
} from './train-config.js';
export { type BestPolicy, type StopReason, Trainer, type TrainerOptions, type TrainResult } from './trainer.js';
export { type ValidationResult, validatePolicy, validationScore } from './validate.js';
