/**
 * The control loop: pure stages (stages.ts), one tick that chains them through ports (control-loop.ts), and the
 * driver that owns the timer (driver.ts).
 */
export { CONTROL_CONFIG_SCHEMA, type ControlConfig, parseControlConfig } from './config.js';
export { type AutopilotPort, ControlLoop, type PolicyPort, type ShieldPort, type TickReport } from './control-loop.js';
export { type DriverCounters, LoopDriver, type PreciseWait, THREAD_SLEEP_WAIT } from './driver.js';
export {
  ageMs,
  missionView,
  observationInput,
  observationInputInto,
  safetyPhase,
  safetyVehicle,
} from './stages.js';
export { LoopStats, type LoopSummary, SampleRing } from './stats.js';
