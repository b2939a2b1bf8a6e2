/** The control loop's configuration, declared once. */
import { type ConfigOf, declareConfig, parseConfig } from '../../shared/config/index.js';

export const CONTROL_CONFIG_SCHEMA = declareConfig({
  rateHz: {
    type: 'number',
    default: 50,
    unit: 'Hz',
    min: 20,
    max: 200,
    doc: 'Control loop rate (setpoints stream at this rate; PX4 needs > 2 Hz, Aerie keeps >= 20).',
  },
  policyDeadlineMs: {
    type: 'number',
    default: 8,
    unit: 'ms',
    min: 0.5,
    max: 50,
    doc: 'A policy answer later than this is a policy fault for the tick.',
  },
  shieldDeadlineMs: {
    type: 'number',
    default: 4,
    unit: 'ms',
    min: 0.5,
    max: 50,
    doc: 'A shield answer later than this counts as a missing verdict.',
  },
  maxHorizontalSpeedMS: {
    type: 'number',
    default: 10,
    unit: 'm/s',
    min: 0.5,
    max: 20,
    doc: 'Horizontal speed an action of magnitude 1 maps to.',
  },
  maxUpSpeedMS: {
    type: 'number',
    default: 3,
    unit: 'm/s',
    min: 0.2,
    max: 10,
    doc: 'Climb speed an action of -1 (down axis) maps to.',
  },
  maxDownSpeedMS: {
    type: 'number',
    default: 1.5,
    unit: 'm/s',
    min: 0.2,
    max: 10,
    doc: 'Descent speed an action of +1 (down axis) maps to.',
  },
  stallThresholdMs: {
    type: 'number',
    default: 500,
    unit: 'ms',
    min: 100,
    max: 5000,
    doc: 'A gap between ticks longer than this is an event-loop stall: stop streaming and fail safe.',
  },
  stallAction: {
    type: 'enum',
    values: ['hold', 'return', 'land'] as const,
    default: 'return',
    doc: 'What to command PX4 after an event-loop stall.',
  },
});

export type ControlConfig = ConfigOf<typeof CONTROL_CONFIG_SCHEMA>;

export function parseControlConfig(raw: Record<string, unknown> = {}): ControlConfig {
  return parseConfig(CONTROL_CONFIG_SCHEMA, raw);
}
