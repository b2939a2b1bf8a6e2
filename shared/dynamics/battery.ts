/**
 * Lithium-polymer pack: open-circuit voltage from state of charge, and the current a given electrical power draws
 * through the pack's internal resistance. Scalar functions the step kernel calls per vehicle (V8 inlines them).
 */

/**
 * Open-circuit voltage of one LiPo cell at state of charge 0, 0.1, ... 1.0 (V): the usual shape, a steep knee below
 * 10 %, a long plateau around 3.7-3.9 V, and a rise to 4.2 V when full.
 */
const CELL_OCV_V = [3.3, 3.58, 3.68, 3.73, 3.77, 3.81, 3.85, 3.91, 3.98, 4.08, 4.2] as const;
const OCV_STEPS = CELL_OCV_V.length - 1;

/** Open-circuit voltage of one cell at `remaining` (0..1, clamped), V. */
export function cellOpenCircuitVoltageV(remaining: number): number {
  const x = (remaining <= 0 ? 0 : remaining >= 1 ? 1 : remaining) * OCV_STEPS;
  const k = x >= OCV_STEPS ? OCV_STEPS - 1 : Math.floor(x);
  return CELL_OCV_V[k] + (CELL_OCV_V[k + 1] - CELL_OCV_V[k]) * (x - k);
}

/**
 * Current drawn by `powerW` from a source of open-circuit voltage `ocvV` behind `resistanceOhm`, A: the smaller root
 * of R*I^2 - V*I + P = 0. A demand beyond what the pack can deliver (past the maximum-power point) gets the current
 * of that point, V/(2R): the voltage has collapsed to half and the motors get less than they asked for.
 */
export function packCurrentA(ocvV: number, resistanceOhm: number, powerW: number): number {
  if (powerW <= 0) return 0;
  if (resistanceOhm <= 0) return powerW / ocvV;
  const disc = ocvV * ocvV - 4 * resistanceOhm * powerW;
  if (disc <= 0) return ocvV / (2 * resistanceOhm);
  // Written as 2P / (V + sqrt(disc)) rather than (V - sqrt(disc)) / 2R to avoid cancellation at low power.
  return (2 * powerW) / (ocvV + Math.sqrt(disc));
}
