/**
 * Seeded random numbers: small, fast and reproducible (same seed, same sequence, on every run and platform). The
 * generator is xoshiro128** seeded through a splitmix-style hash; `fork(tag)` derives an independent child stream
 * per vehicle, episode or component, so adding draws in one place does not shift the numbers seen in another.
 * The state-array functions are exported too, for hot loops that keep many streams in one Uint32Array.
 */
import { AerieError } from '../errors.js';
import { forkKeyInto, intAt, normalAt, RNG_STATE_WORDS, seedKeyInto, uniformAt } from './xoshiro128.js';

export {
  forkKeyInto,
  intAt,
  mix32,
  nextUint32,
  normalAt,
  RNG_STATE_WORDS,
  seedKeyInto,
  uniformAt,
} from './xoshiro128.js';

/** A seeded random stream. */
export interface Rng {
  /** Uniform in [0, 1), 32 random bits. */
  next(): number;
  /** Standard normal: mean 0, standard deviation 1. */
  normal(): number;
  /** Uniform integer in [0, maxExclusive); maxExclusive an integer in [1, 2^32]. */
  int(maxExclusive: number): number;
  /**
   * An independent child stream named by `tag` (any finite number). Depends only on this stream's seed (its
   * lineage) and the tag, not on how many numbers were drawn: fork(3) always gives the same child.
   */
  fork(tag: number): Rng;
}

class Xoshiro128Rng implements Rng {
  /** Immutable key this stream started from; forks derive from it. */
  private readonly key: Uint32Array;
  private readonly state: Uint32Array;

  constructor(key: Uint32Array) {
    this.key = key;
    this.state = key.slice();
  }

  next(): number {
    return uniformAt(this.state, 0);
  }

  normal(): number {
    return normalAt(this.state, 0);
  }

  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > 4294967296) {
      throw new AerieError('CONFIG_INVALID_VALUE', `rng.int: maxExclusive must be an integer in [1, 2^32]`, {
        maxExclusive,
      });
    }
    return intAt(this.state, 0, maxExclusive);
  }

  fork(tag: number): Rng {
    checkFinite('rng.fork: tag', tag);
    const child = new Uint32Array(RNG_STATE_WORDS);
    forkKeyInto(this.key, 0, tag, child, 0);
    return new Xoshiro128Rng(child);
  }
}

function checkFinite(what: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AerieError('CONFIG_INVALID_VALUE', `${what} must be a finite number`, { value });
  }
}

/** A stream seeded by `seed` (any finite number; integers are the usual choice). */
export function createRng(seed: number): Rng {
  checkFinite('createRng: seed', seed);
  const key = new Uint32Array(RNG_STATE_WORDS);
  seedKeyInto(seed, key, 0);
  return new Xoshiro128Rng(key);
}
