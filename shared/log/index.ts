/**
 * Structured logs (pino), one child logger per component. Log transitions, not ticks. Level from AERIE_LOG_LEVEL
 * (default info; tests default to silent unless it is set). Logs go to stderr so stdout stays for reports.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

const level = process.env.AERIE_LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');

export const rootLogger: Logger = pino({ level, base: { pid: process.pid } }, pino.destination(2));

export function componentLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
}
