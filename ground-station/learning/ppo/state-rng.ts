/**
 * A seeded stream whose whole state is four words the caller can save and restore, for the trainer's action noise
 * and minibatch shuffles: a resumed run draws exactly the numbers an uninterrupted one would have.
 */
import { createRng, intAt, normalAt, RNG_STATE_WORDS, type Rng, uniformAt } from '../../../shared/random/index.js';

export class StateRng implements Rng {
  readonly state = new Uint32Array(RNG_STATE_WORDS);

  constructor(seed: number) {
    // Draw the initial words from the shared generator, so the stream is a function of the seed alone.
    const seeder = createRng(seed);
    for (let k = 0; k < RNG_STATE_WORDS; k++) this.state[k] = seeder.int(2 ** 32);
    if ((this.state[0] | this.state[1] | this.state[2] | this.state[3]) === 0) this.state[0] = 1;
  }

  next(): number {
    return uniformAt(this.state, 0);
  }

  normal(): number {
    return normalAt(this.state, 0);
  }

  int(maxExclusive: number): number {
    return intAt(this.state, 0, maxExclusive);
  }

  fork(tag: number): Rng {
    return createRng(this.state[0] ^ tag).fork(this.state[1]);
  }
}
