/**
 * Training checkpoints: one JSON file holding everything a run needs to continue exactly where it stopped (network
 * weights, optimizer moments, observation statistics, the Lagrange multiplier, the random stream, and every
 * environment's state down to the gust generators), plus the learning curve. Written atomically (temp + rename).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { AerieError } from '../../shared/errors.js';
import type { IterationRecord } from './history.js';
import type { AgentState } from './ppo/agent.js';
import type { TrainConfig } from './train-config.js';
import type { BestPolicy } from './trainer.js';

export const CHECKPOINT_FORMAT = 'aerie-train-checkpoint';
export const CHECKPOINT_VERSION = 1;

type Typed = Float32Array | Float64Array | Uint8Array | Uint32Array;
const TYPES = { Float32Array, Float64Array, Uint8Array, Uint32Array } as const;
type TypeName = keyof typeof TYPES;
interface EncodedArray {
  readonly type: TypeName;
  readonly base64: string;
}

export interface Checkpoint {
  readonly config: TrainConfig;
  readonly configHash: string;
  readonly iteration: number;
  readonly envSteps: number;
  readonly wallS: number;
  readonly lambda: number;
  readonly rngState: readonly number[];
  readonly agent: AgentState;
  readonly env: { env: Record<string, ArrayBufferView>; fleet: Record<string, ArrayBufferView> };
  readonly history: readonly IterationRecord[];
  /** The best validated policy so far (absent in runs without validation). */
  readonly best?: BestPolicy | null;
}

function encodeArray(a: Typed): EncodedArray {
  return {
    type: a.constructor.name as TypeName,
    base64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'),
  };
}

function decodeArray(e: unknown, where: string): Typed {
  const x = e as EncodedArray;
  if (!x || typeof x.base64 !== 'string' || !(x.type in TYPES)) throw bad(`${where} is not an encoded array`);
  const bytes = Buffer.from(x.base64, 'base64');
  const Ctor = TYPES[x.type];
  if (bytes.length % Ctor.BYTES_PER_ELEMENT !== 0) throw bad(`${where} has a partial element`);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Ctor(copy.buffer);
}

function bad(message: string): AerieError {
  return new AerieError('TRAIN_CHECKPOINT_INVALID', message);
}

/** Replace typed arrays by {type, base64} throughout a value. */
function encodeDeep(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return { $typed: encodeArray(value as Typed) };
  if (Array.isArray(value)) return value.map(encodeDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeDeep(v)]));
  }
  return value;
}

function decodeDeep(value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => decodeDeep(v, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if ('$typed' in obj) return decodeArray(obj.$typed, where);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, decodeDeep(v, `${where}.${k}`)]));
  }
  return value;
}

export async function writeCheckpoint(path: string, cp: Checkpoint): Promise<void> {
  const text = JSON.stringify({
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    ...(encodeDeep(cp) as object),
  });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export async function readCheckpoint(path: string): Promise<Checkpoint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AerieError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'TRAIN_CHECKPOINT_INVALID',
      `cannot read checkpoint ${path}: ${code}`,
      {
        path,
      },
    );
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(`${path} is not JSON: ${(err as Error).message}`);
  }
  if (raw.format !== CHECKPOINT_FORMAT) throw bad(`${path} is not a training checkpoint`);
  if (raw.version !== CHECKPOINT_VERSION)
    throw bad(`${path} is checkpoint version ${raw.version}, expected ${CHECKPOINT_VERSION}`);
  const decoded = decodeDeep(raw, 'checkpoint') as Record<string, unknown>;
  for (const key of [
    'config',
    'configHash',
    'iteration',
    'envSteps',
    'lambda',
    'rngState',
    'agent',
    'env',
    'history',
  ]) {
    if (!(key in decoded)) throw bad(`${path} lacks ${key}`);
  }
  return decoded as unknown as Checkpoint;
}
