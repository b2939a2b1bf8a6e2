/**
 * Load an ONNX policy or shield and refuse it at the edge, with a precise AerieError, unless it fits the contract.
 *
 * onnxruntime-node reports input/output names, types and shapes but not custom metadata_props, so the bytes are
 * parsed with onnx-proto first (contract version, kind, normalisation, declared interface), then the session is
 * created, its own view of the interface cross-checked, and one probe inference run on the neutral observation: a
 * model that cannot answer it is refused here instead of faulting in flight.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { AerieError, isAerieError } from '../../shared/errors.js';
import {
  ABSENT_OBSERVATION,
  assertContract,
  describeOnnxModel,
  METADATA_KEYS,
  type ModelDescription,
  type ModelInterface,
  POLICY_INTERFACE,
  SHIELD_INTERFACE,
} from '../../shared/policy/index.js';
import type { ModelInfo } from './model-info.js';
import { type MicrosecondClock, type ModelRunner, PolicyRunner, ShieldRunner } from './runner.js';

/** Where a model comes from: a file path, or bytes already in memory (a verified bundle, a built-in model). */
export type ModelSource = string | Uint8Array;

export interface LoadOptions {
  /** How to name bytes in messages and ModelInfo.source (default 'bytes'); ignored for a path. */
  readonly label?: string;
  /** The clock the runner times inferences with (default: performance.now). */
  readonly clock?: MicrosecondClock;
}

/**
 * One thread, sequential: the loop runs one batch-1 inference per tick on a small computer that has other work.
 * onnxruntime's own log is limited to fatal errors: every failure it reports reaches us as an exception whose message
 * goes into our structured error or fault value, so its stderr lines would only duplicate them.
 */
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = Object.freeze({
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  logSeverityLevel: 4,
});

async function readSource(source: ModelSource, label: string): Promise<{ bytes: Uint8Array; name: string }> {
  if (typeof source !== 'string') return { bytes: source, name: label };
  try {
    const buf = await readFile(source);
    return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), name: source };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new AerieError('POLICY_LOAD_FAILED', `cannot read model file ${source}: ${why}`, { source, errno: code });
  }
}

function statsOf(raw: string | undefined): readonly number[] | null {
  // assertContract has already checked the shape of these arrays.
  return raw === undefined ? null : Object.freeze(JSON.parse(raw) as number[]);
}

function sessionProblems(session: ort.InferenceSession, iface: ModelInterface): string[] {
  const problems: string[] = [];
  const check = (role: string, metas: readonly ort.InferenceSession.ValueMetadata[], name: string, size: number) => {
    const m = metas.find((x) => x.name === name);
    if (!m || metas.length !== 1) {
      problems.push(`onnxruntime sees ${role}s ${metas.map((x) => `'${x.name}'`).join(', ')}, expected '${name}'`);
    } else if (!m.isTensor || m.type !== 'float32') {
      problems.push(`onnxruntime sees ${role} '${name}' as ${m.isTensor ? m.type : 'a non-tensor'}, expected float32`);
    } else if (m.shape.length === 2 && typeof m.shape[1] === 'number' && m.shape[1] !== size) {
      problems.push(`onnxruntime sees ${role} '${name}' with shape [${m.shape.join(', ')}], expected [batch, ${size}]`);
    }
  };
  check('input', session.inputMetadata, iface.inputName, iface.inputSize);
  check('output', session.outputMetadata, iface.outputName, iface.outputSize);
  return problems;
}

function infoOf(desc: ModelDescription, iface: ModelInterface, bytes: Uint8Array, source: string): ModelInfo {
  const md = desc.metadata;
  return Object.freeze({
    kind: iface.kind,
    source,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sizeBytes: bytes.length,
    contractVersion: md[METADATA_KEYS.contractVersion],
    name: md[METADATA_KEYS.name] ?? null,
    inputName: iface.inputName,
    inputSize: iface.inputSize,
    outputName: iface.outputName,
    outputSize: iface.outputSize,
    obsMean: statsOf(md[METADATA_KEYS.obsMean]),
    obsStd: statsOf(md[METADATA_KEYS.obsStd]),
    metadata: Object.freeze({ ...md }),
  });
}

/** The neutral input a probe runs: every source absent, and for a shield a zero (hover) action after it. */
function probeInput(iface: ModelInterface): Float32Array {
  const input = new Float32Array(iface.inputSize);
  input.set(ABSENT_OBSERVATION);
  return input;
}

async function loadModel<R extends ModelRunner>(
  source: ModelSource,
  iface: ModelInterface,
  make: (session: ort.InferenceSession, info: ModelInfo, clock?: MicrosecondClock) => R,
  options: LoadOptions,
): Promise<R> {
  const { bytes, name } = await readSource(source, options.label ?? 'bytes');
  const desc = describeOnnxModel(bytes, name);
  assertContract(desc, iface, name);

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  } catch (err) {
    throw new AerieError('POLICY_LOAD_FAILED', `onnxruntime cannot load ${name}: ${(err as Error).message}`, {
      source: name,
    });
  }
  const runner = make(session, infoOf(desc, iface, bytes, name), options.clock);
  try {
    const problems = sessionProblems(session, iface);
    if (problems.length > 0) {
      throw new AerieError(
        'POLICY_CONTRACT_MISMATCH',
        `${name} does not fit the ${iface.kind} contract: ${problems.join('; ')}`,
        {
          source: name,
          problems,
        },
      );
    }
    let output: Float32Array;
    try {
      output = await runner.infer(probeInput(iface));
    } catch (err) {
      // A declared [batch, n] output that is really another size surfaces here, as onnxruntime's shape error.
      throw new AerieError(
        'POLICY_CONTRACT_MISMATCH',
        `${name} fails a probe inference on the neutral ${iface.inputName}: ${(err as Error).message}`,
        { source: name },
      );
    }
    const bad = output.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new AerieError(
        'POLICY_CONTRACT_MISMATCH',
        `${name} answers ${iface.outputName}[${bad}] = ${output[bad]} to the neutral ${iface.inputName}`,
        { source: name },
      );
    }
    return runner;
  } catch (err) {
    await runner.release().catch(() => undefined);
    if (isAerieError(err)) throw err;
    throw new AerieError('POLICY_LOAD_FAILED', `${name}: ${(err as Error).message}`, { source: name });
  }
}

/** Load a policy (observation [batch, 32] -> action [batch, 3]). Throws POLICY_LOAD_FAILED / POLICY_CONTRACT_MISMATCH. */
export function loadPolicy(source: ModelSource, options: LoadOptions = {}): Promise<PolicyRunner> {
  return loadModel(source, POLICY_INTERFACE, (s, info, clock) => new PolicyRunner(s, info, clock), options);
}

/** Load a shield (observation_action [batch, 35] -> cost [batch, 1]). Same errors as loadPolicy. */
export function loadShield(source: ModelSource, options: LoadOptions = {}): Promise<ShieldRunner> {
  return loadModel(source, SHIELD_INTERFACE, (s, info, clock) => new ShieldRunner(s, info, clock), options);
}
