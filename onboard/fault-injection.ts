/**
 * Fault injection for SITL tests of the fail-closed paths (never set on a real vehicle): AERIE_FAULT_INJECT holds
 * one of `crash@S` (an uncaught exception S seconds after start), `stall@S:MS` (the event loop blocked for MS
 * milliseconds at S seconds). Times are on the runtime's clock: under --time-scale F they are simulated seconds, so
 * a fault lands at the same point of a flight whatever F the simulator runs at. Policy faults need no hook: fly a
 * model that outputs NaN.
 */
export type InjectedFault =
  | { readonly kind: 'crash'; readonly atS: number }
  | { readonly kind: 'stall'; readonly atS: number; readonly forMs: number };

export function parseInjectedFault(text: string | undefined): InjectedFault | null {
  if (!text) return null;
  let m = /^crash@(\d+(?:\.\d+)?)$/.exec(text);
  if (m) return { kind: 'crash', atS: Number(m[1]) };
  m = /^stall@(\d+(?:\.\d+)?):(\d+)$/.exec(text);
  if (m) return { kind: 'stall', atS: Number(m[1]), forMs: Number(m[2]) };
  throw new Error(`AERIE_FAULT_INJECT=${text}: expected crash@S or stall@S:MS`);
}

/** Arm the fault on a wall-clock timer; `timeScale` is the runtime's (the fault's times are divided by it). */
export function armProcessFault(fault: InjectedFault | null, timeScale = 1): void {
  if (fault === null) return;
  const atWallMs = (fault.atS * 1000) / timeScale;
  if (fault.kind === 'crash') {
    setTimeout(() => {
      throw new Error('injected crash (AERIE_FAULT_INJECT)');
    }, atWallMs);
  } else {
    const forWallMs = fault.forMs / timeScale;
    setTimeout(() => {
      const until = performance.now() + forWallMs;
      while (performance.now() < until) {
        // Busy-wait on purpose: this is the event-loop stall under test.
      }
    }, atWallMs);
  }
}
