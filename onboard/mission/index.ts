/** The delivery mission: a pure state machine the control loop's driver steps every tick. */
export { DEFAULT_LIMITS, DEFAULT_TIMING, DeliveryMission, type MissionLimits } from './delivery-mission.js';
export type * from './types.js';
