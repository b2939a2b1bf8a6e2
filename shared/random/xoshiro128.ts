/**
 * xoshiro128** (Blackman and Vigna) over caller-owned state words, so a fleet can keep one stream per vehicle in a
 * single Uint32Array and draw from it in a hot loop without allocating. Seeding and forking hash the seed and tag
 * through a 32-bit splitmix-style finaliser, so nearby seeds and tags give unrelated streams. Everything is integer
 * arithmetic (Math.imul, shifts), hence bit-identical on every platform; only `normalAt` uses Math.log/Math.cos,
 * which V8 implements in software (fdlibm), so it is identical across platforms for a given Node.
 */

/** Words of state per stream. */
export const RNG_STATE_WORDS = 4;

const GOLDEN = 0x9e3779b9;
const TWO_POW_MINUS_32 = 2.3283064365386963e-10;
const TWO_PI = 2 * Math.PI;

/** A 32-bit avalanche (every input bit flips about half the output bits); a bijection on uint32. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

const bitsView = new DataView(new ArrayBuffer(8));

/**
 * The two 32-bit words of a seed or tag. Integers (the usual case) map to their two's-complement low/high words, so
 * 0, 1, 2... and -1 are all distinct; other finite numbers map to their IEEE-754 bits (little-endian, so portable).
 */
function wordsOf(value: number, out: Uint32Array): void {
  if (Number.isSafeInteger(value)) {
    out[0] = value >>> 0;
    out[1] = Math.floor(value / 4294967296) >>> 0;
  } else {
    bitsView.setFloat64(0, value, true);
    out[0] = bitsView.getUint32(0, true) ^ 0x5bd1e995;
    out[1] = bitsView.getUint32(4, true);
  }
}

const scratch = new Uint32Array(2);

/** xoshiro must never hold an all-zero state (it would stay zero). */
function ensureNonZero(state: Uint32Array, o: number): void {
  if ((state[o] | state[o + 1] | state[o + 2] | state[o + 3]) === 0) state[o] = GOLDEN;
}

/** Write the root key of `seed` (any finite number) into `out[o..o+3]`. */
export function seedKeyInto(seed: number, out: Uint32Array, o: number): void {
  wordsOf(seed, scratch);
  // splitmix32: a Weyl sequence started from the hashed seed, each output finalised.
  let s = mix32(scratch[0] ^ mix32(scratch[1] ^ 0x6a09e667));
  for (let k = 0; k < RNG_STATE_WORDS; k++) {
    s = (s + GOLDEN) | 0;
    out[o + k] = mix32(s);
  }
  ensureNonZero(out, o);
}

/**
 * Write the key of child stream `tag` of the stream keyed at `parent[po..]` into `out[oo..]`. A function of the
 * parent's key and the tag only, so a fork does not depend on how much the parent has drawn.
 */
export function forkKeyInto(parent: Uint32Array, po: number, tag: number, out: Uint32Array, oo: number): void {
  wordsOf(tag, scratch);
  const t = mix32(scratch[0] ^ mix32(scratch[1] ^ 0xbb67ae85));
  let carry = 0x3c6ef372;
  for (let k = 0; k < RNG_STATE_WORDS; k++) {
    carry = mix32(parent[po + k] ^ mix32((t + Math.imul(k + 1, GOLDEN)) ^ carry));
    out[oo + k] = carry;
  }
  ensureNonZero(out, oo);
}

/** Next uint32 of the stream whose state is `s[o..o+3]`; advances it. */
export function nextUint32(s: Uint32Array, o: number): number {
  const s0 = s[o];
  const s1 = s[o + 1];
  const s2 = s[o + 2] ^ s0;
  const s3 = s[o + 3] ^ s1;
  const m = Math.imul(s1, 5);
  const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
  s[o] = s0 ^ s3;
  s[o + 1] = s1 ^ s2;
  s[o + 2] = s2 ^ (s1 << 9);
  s[o + 3] = (s3 << 11) | (s3 >>> 21);
  return result;
}

/** Uniform in [0, 1) with 32 random bits. */
export function uniformAt(s: Uint32Array, o: number): number {
  return nextUint32(s, o) * TWO_POW_MINUS_32;
}

/** Standard normal (Box-Muller, cosine branch: one normal per two uniforms, no hidden cache to carry). */
export function normalAt(s: Uint32Array, o: number): number {
  const u1 = 1 - uniformAt(s, o); // (0, 1]: log stays finite
  const u2 = uniformAt(s, o);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(TWO_PI * u2);
}

/** Uniform integer in [0, maxExclusive), maxExclusive an integer in [1, 2^32]; unbiased (rejection). */
export function intAt(s: Uint32Array, o: number, maxExclusive: number): number {
  if (maxExclusive === 4294967296) return nextUint32(s, o);
  // Reject the top partial block of 2^32 so every residue is equally likely.
  const limit = 4294967296 - (4294967296 % maxExclusive);
  for (;;) {
    const x = nextUint32(s, o);
    if (x < limit) return x % maxExclusive;
  }
}
