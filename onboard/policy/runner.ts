/**
 * Run a loaded ONNX model once per tick. The input and output tensors are made once and reused; a result is a value,
 * never an exception, in the loop: an answer that misses its deadline, holds NaN/Inf, or throws is a policy fault the
 * caller (the safety layer) acts on.
 */
import * as ort from 'onnxruntime-node';
import { ACTION_SIZE, OBSERVATION_LAYOUT, OBSERVATION_SIZE } from '../../shared/policy/index.js';
import type { ModelInfo } from './model-info.js';

export type PolicyFaultReason = 'deadline' | 'non-finite' | 'error';

export type InferenceFault = {
  readonly ok: false;
  readonly reason: PolicyFaultReason;
  readonly detail: string;
  /** Time from the call to the verdict (us). */
  readonly latencyUs: number;
};

export type InferenceOutcome =
  | { readonly ok: true; readonly output: Float32Array; readonly latencyUs: number }
  | InferenceFault;

/** A monotonic clock in microseconds. Injected so tests can make an inference "take" any time. */
export interface MicrosecondClock {
  nowUs(): number;
}

export const performanceClock: MicrosecondClock = { nowUs: () => performance.now() * 1000 };

/** What the hot path counts, for the monitoring uplink (read, never reset here). */
export interface InferenceCounters {
  runs: number;
  ok: number;
  deadline: number;
  nonFinite: number;
  error: number;
  maxLatencyUs: number;
}

function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return i;
  }
  return -1;
}

/** Name an input slot in fault details: the layout's name for observation slots, else "input[i]". */
function inputSlotName(i: number): string {
  return i < OBSERVATION_SIZE ? `observation[${i}] (${OBSERVATION_LAYOUT[i].name})` : `input[${i}]`;
}

const DONE = 0;
const EXPIRED = 1;
const FAILED = 2;
type Verdict = typeof DONE | typeof EXPIRED | typeof FAILED;

/** A model with one float32 input [1, n] and one float32 output [1, m], run at batch 1. */
export class ModelRunner {
  readonly info: ModelInfo;
  readonly counters: InferenceCounters = { runs: 0, ok: 0, deadline: 0, nonFinite: 0, error: 0, maxLatencyUs: 0 };
  private readonly session: ort.InferenceSession;
  private readonly clock: MicrosecondClock;
  private readonly input: Float32Array;
  private readonly output: Float32Array;
  private readonly feeds: Record<string, ort.Tensor>;
  private readonly fetches: Record<string, ort.Tensor>;
  private inFlight: Promise<unknown> | null = null;
  private released = false;
  /** The loop's run waiting for its verdict (null when none is). */
  private settle: ((verdict: Verdict) => void) | null = null;
  private runError: unknown = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private deadlineTimerMs = -1;

  constructor(session: ort.InferenceSession, info: ModelInfo, clock: MicrosecondClock = performanceClock) {
    this.session = session;
    this.info = info;
    this.clock = clock;
    this.input = new Float32Array(info.inputSize);
    this.output = new Float32Array(info.outputSize);
    this.feeds = { [info.inputName]: new ort.Tensor('float32', this.input, [1, info.inputSize]) };
    // A preallocated output: onnxruntime writes into it instead of allocating a result per run.
    this.fetches = { [info.outputName]: new ort.Tensor('float32', this.output, [1, info.outputSize]) };
  }

  /** Whether an inference is still running (e.g. one that missed its deadline and has not finished yet). */
  get busy(): boolean {
    return this.inFlight !== null;
  }

  /**
   * One raw inference: no deadline and no finiteness check. Throws on a wrong input size or a runtime error; for
   * tools, tests and load-time probes, not the loop. Waits for an inference still running. Returns a copy.
   */
  async infer(input: ArrayLike<number>): Promise<Float32Array> {
    if (this.released) throw new Error(`${this.info.source} was released`);
    if (input.length !== this.input.length) {
      throw new RangeError(`${this.info.kind} input has ${input.length} values, expected ${this.input.length}`);
    }
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    this.input.set(input);
    await this.track(this.session.run(this.feeds, this.fetches));
    return this.output.slice();
  }

  /**
   * One guarded inference for the loop. Never throws. On success `output` is the runner's own output buffer, valid
   * until its next run: copy it to keep it.
   */
  inferWithDeadline(input: ArrayLike<number>, deadlineMs: number): Promise<InferenceOutcome> {
    return this.guarded(input, deadlineMs, this.outputOutcome);
  }

  private readonly outputOutcome = (latencyUs: number): InferenceOutcome => ({
    ok: true,
    output: this.output,
    latencyUs,
  });

  /**
   * The guarded run under every loop call: `ok` makes the caller's success value from the latency (the output is in
   * `this.output`), so a subclass answers in its own shape without a second async layer.
   */
  protected async guarded<T>(
    input: ArrayLike<number>,
    deadlineMs: number,
    ok: (latencyUs: number) => T,
  ): Promise<T | InferenceFault> {
    const startUs = this.clock.nowUs();
    this.counters.runs++;
    if (this.released) return this.fault('error', `${this.info.source} was released`, startUs);
    if (input.length !== this.input.length) {
      return this.fault('error', `input has ${input.length} values, expected ${this.input.length}`, startUs);
    }
    // An inference that overran is still using the tensors: starting another would race it, and the overrun itself
    // means this policy cannot keep the loop's rate.
    if (this.inFlight) return this.fault('deadline', 'the previous inference is still running', startUs);
    this.input.set(input);
    const badInput = firstNonFinite(this.input);
    if (badInput >= 0) {
      return this.fault('non-finite', `${inputSlotName(badInput)} is ${this.input[badInput]}`, startUs);
    }

    const run = this.session.run(this.feeds, this.fetches);
    this.inFlight = run;
    this.runError = null;
    run.then(this.onRunDone, this.onRunFailed);
    // onnxruntime-node may finish on the calling thread before any timer can fire; the measured latency below
    // catches a late answer then, and the deadline timer catches one that runs in the background. One timer per
    // runner, re-armed from now on each run (no timer made and cleared per tick); a firing with no run waiting is
    // a no-op.
    this.armDeadline(deadlineMs);
    const verdict = await new Promise<Verdict>(this.awaitVerdict);
    this.settle = null;
    const latencyUs = this.clock.nowUs() - startUs;
    if (verdict === EXPIRED) return this.fault('deadline', `no answer within ${deadlineMs} ms`, startUs);
    if (verdict === FAILED) {
      const err = this.runError;
      this.runError = null;
      return this.fault('error', `inference failed: ${err instanceof Error ? err.message : String(err)}`, startUs);
    }
    if (latencyUs > deadlineMs * 1000) {
      return this.fault('deadline', `answered after ${Math.round(latencyUs)} us, deadline ${deadlineMs} ms`, startUs);
    }
    const badOutput = firstNonFinite(this.output);
    if (badOutput >= 0) {
      return this.fault('non-finite', `${this.info.outputName}[${badOutput}] is ${this.output[badOutput]}`, startUs);
    }
    this.counters.ok++;
    if (latencyUs > this.counters.maxLatencyUs) this.counters.maxLatencyUs = latencyUs;
    return ok(latencyUs);
  }

  /** The output buffer the last successful loop run wrote (for subclasses' success values). */
  protected get lastOutput(): Float32Array {
    return this.output;
  }

  private fault(reason: PolicyFaultReason, detail: string, startUs: number): InferenceFault {
    if (reason === 'deadline') this.counters.deadline++;
    else if (reason === 'non-finite') this.counters.nonFinite++;
    else this.counters.error++;
    return { ok: false, reason, detail, latencyUs: this.clock.nowUs() - startUs };
  }

  private armDeadline(deadlineMs: number): void {
    if (this.deadlineTimer !== null && this.deadlineTimerMs === deadlineMs) {
      this.deadlineTimer.refresh();
      return;
    }
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(this.onDeadline, deadlineMs);
    this.deadlineTimer.unref();
    this.deadlineTimerMs = deadlineMs;
  }

  // Made once: the loop's run hands these to promises and the timer instead of new closures per tick.
  private readonly awaitVerdict = (resolve: (verdict: Verdict) => void): void => {
    this.settle = resolve;
  };
  private readonly onDeadline = (): void => {
    this.settle?.(EXPIRED);
  };
  private readonly onRunDone = (): void => {
    this.inFlight = null;
    this.settle?.(DONE);
  };
  private readonly onRunFailed = (err: unknown): void => {
    this.inFlight = null;
    this.runError = err;
    this.settle?.(FAILED);
  };

  /** Release the session once any inference still running has finished. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    await this.session.release();
  }

  private track<T>(run: Promise<T>): Promise<T> {
    const tracked = run.finally(() => {
      if (this.inFlight === tracked) this.inFlight = null;
    });
    this.inFlight = tracked;
    return tracked;
  }
}

export type PolicyOutcome =
  | { readonly ok: true; readonly action: Float32Array; readonly latencyUs: number }
  | InferenceFault;

/** The policy-runner port the control loop's driver uses: observation -> action. */
export class PolicyRunner extends ModelRunner {
  /** Raw inference (throws on error; no checks): the action for one observation. */
  run(observation: ArrayLike<number>): Promise<Float32Array> {
    return this.infer(observation);
  }

  /**
   * The loop's call: the action, or a policy fault as a value. Never throws. The action is the runner's own buffer,
   * valid until its next run: copy it to keep it.
   */
  runWithDeadline(observation: ArrayLike<number>, deadlineMs: number): Promise<PolicyOutcome> {
    return this.guarded(observation, deadlineMs, this.actionOutcome);
  }

  private readonly actionOutcome = (latencyUs: number): PolicyOutcome => ({
    ok: true,
    action: this.lastOutput,
    latencyUs,
  });
}

export type ShieldOutcome = { readonly ok: true; readonly cost: number; readonly latencyUs: number } | InferenceFault;

/** A cost critic: (observation, candidate action) -> expected safety cost (larger is worse). */
export class ShieldRunner extends ModelRunner {
  private readonly joint = new Float32Array(OBSERVATION_SIZE + ACTION_SIZE);

  /** Raw inference (throws on error or wrong sizes): the cost of taking `action` given `observation`. */
  async cost(observation: ArrayLike<number>, action: ArrayLike<number>): Promise<number> {
    if (observation.length !== OBSERVATION_SIZE || action.length !== ACTION_SIZE) {
      throw new RangeError(`shield needs ${OBSERVATION_SIZE} observation and ${ACTION_SIZE} action values`);
    }
    // Its own buffer: a raw call may wait for an inference in flight, and the loop's buffer may change meanwhile.
    const joint = new Float32Array(OBSERVATION_SIZE + ACTION_SIZE);
    joint.set(observation, 0);
    joint.set(action, OBSERVATION_SIZE);
    return (await this.infer(joint))[0];
  }

  /** The loop's call: the cost, or a fault as a value. Never throws. */
  async costWithDeadline(
    observation: ArrayLike<number>,
    action: ArrayLike<number>,
    deadlineMs: number,
  ): Promise<ShieldOutcome> {
    if (observation.length !== OBSERVATION_SIZE || action.length !== ACTION_SIZE) {
      this.counters.runs++;
      this.counters.error++;
      const detail = `shield needs ${OBSERVATION_SIZE} observation and ${ACTION_SIZE} action values`;
      return { ok: false, reason: 'error', detail, latencyUs: 0 };
    }
    // inferWithDeadline copies the buffer into its input tensor before its first await, so reusing it is safe.
    this.joint.set(observation, 0);
    this.joint.set(action, OBSERVATION_SIZE);
    return this.guarded(this.joint, deadlineMs, this.costOutcome);
  }

  private readonly costOutcome = (latencyUs: number): ShieldOutcome => ({
    ok: true,
    cost: this.lastOutput[0],
    latencyUs,
  });
}
