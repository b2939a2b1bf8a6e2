/**
 * The SITL evaluation section: deliveries flown by the onboard runtime against the simulated PX4 fleet, with breaches
 * judged on the true simulated position.
 */
export { SITL_SCENARIO_OVERRIDES, type SitlScenario, sitlScenarios } from './scenarios.js';
export {
  type SitlDelivery,
  type SitlEvalOptions,
  type SitlOutcome,
  type SitlReport,
  sitlSection,
} from './sitl-section.js';
export { type BreachTicks, breachesAt, clearancesAt } from './truth.js';
