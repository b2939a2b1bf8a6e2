/** The station benchmark: station.max_drones_p99_100ms (simulated drones at 10 Hz through the embedded broker). */
export {
  type FleetStep,
  type MaxDronesOptions,
  type MaxDronesResult,
  measureMaxDrones,
  stationBenchmark,
} from './max-drones.js';
