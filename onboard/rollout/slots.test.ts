import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BundleFiles, type CrashPoint, DEFAULT_SLOT, type SlotState, SlotStore } from './slots.js';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

function bundle(tag: string): BundleFiles {
  const policy = Buffer.from(`policy-${tag}`);
  const filter = Buffer.from(`{"tag":"${tag}"}`);
  const file = Buffer.from(`bundle-${tag}`);
  return {
    info: {
      version: `sha256:${sha(policy).slice(0, 16)}`,
      sha256: sha(file),
      policySha256: sha(policy),
      parts: [
        { name: 'policy.onnx', sha256: sha(policy), bytes: policy.length },
        { name: 'filter.json', sha256: sha(filter), bytes: filter.length },
      ],
      installedAtMs: 1,
    },
    bundle: file,
    manifest: { tag },
    parts: { 'policy.onnx': policy, 'filter.json': filter },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aerie-slots-'));
  dirs.push(d);
  return d;
}

const idOf = (b: BundleFiles) => b.info.sha256.slice(0, 32);

/** Every slot the state names is complete on disk, its link points there, and nothing else is left in the store. */
function expectConsistent(dir: string, state: SlotState): void {
  const named = new Set<string>();
  for (const slot of ['active', 'candidate', 'previous'] as const) {
    const id = state[slot];
    const link = join(dir, slot);
    if (id === null || id === DEFAULT_SLOT) {
      expect(existsSync(link), `${slot} link should be absent`).toBe(false);
      continue;
    }
    named.add(id);
    expect(readlinkSync(link)).toBe(join('store', id));
    const info = JSON.parse(readFileSync(join(link, 'slot.json'), 'utf8'));
    for (const p of info.parts) expect(sha(readFileSync(join(link, p.name)))).toBe(p.sha256);
  }
  expect(new Set(readdirSync(join(dir, 'store')))).toEqual(named);
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

describe('SlotStore', () => {
  it('installs a candidate, activates it (previous: the default), installs and activates another, reverts', async () => {
    const dir = tempDir();
    const { store } = await SlotStore.open(dir);
    const a = bundle('a');
    const b = bundle('b');
    await store.installCandidate(a);
    expect(store.current).toMatchObject({ active: null, candidate: idOf(a), previous: null });
    expect(readFileSync(join(dir, 'candidate', 'policy.onnx'), 'utf8')).toBe('policy-a');
    await store.activateCandidate(10, 3);
    expect(store.current).toMatchObject({ active: idOf(a), candidate: null, previous: DEFAULT_SLOT });
    expect(store.current.probation).toEqual({ activatedAtMs: 10, flights: 0, limit: 3, tripped: null });
    await store.installCandidate(b);
    await store.activateCandidate(20, 0);
    expect(store.current).toMatchObject({ active: idOf(b), previous: idOf(a), probation: null });
    expectConsistent(dir, store.current);
    await store.revertToPrevious();
    expect(store.current).toMatchObject({ active: idOf(a), previous: null });
    expectConsistent(dir, store.current);
    // A reopen sees the same state.
    const again = await SlotStore.open(dir);
    expect(again.store.current).toEqual(store.current);
    expect(again.report.dropped).toEqual([]);
    expect(again.store.info(idOf(a))?.version).toBe(a.info.version);
  });

  it('refuses to activate without a candidate and to revert without a previous', async () => {
    const { store } = await SlotStore.open(tempDir());
    await expect(store.activateCandidate(0, 3)).rejects.toThrow(/no candidate/);
    await expect(store.revertToPrevious()).rejects.toThrow(/no previous/);
  });

  it('drops a slot whose parts no longer match their hashes, and sweeps what no state names', async () => {
    const dir = tempDir();
    const { store } = await SlotStore.open(dir);
    await store.installCandidate(bundle('a'));
    await store.activateCandidate(0, 0);
    await store.installCandidate(bundle('b'));
    writeFileSync(join(dir, 'active', 'policy.onnx'), 'tampered');
    mkdirSync(join(dir, 'store', 'deadbeefdeadbeefdeadbeefdeadbeef'));
    writeFileSync(join(dir, '.state-1234.tmp'), '{');
    const { store: reopened, report } = await SlotStore.open(dir);
    expect(report.dropped).toEqual([
      { slot: 'active', id: idOf(bundle('a')), reason: 'part policy.onnx does not match its hash' },
    ]);
    expect(reopened.current).toMatchObject({ active: null, candidate: idOf(bundle('b')), probation: null });
    expectConsistent(dir, reopened.current);
  });

  const points: CrashPoint[] = [
    'store:parts-written',
    'store:renamed',
    'state:tmp-written',
    'state:renamed',
    'links:partial',
    'links:done',
  ];

  for (const point of points) {
    it(`survives a crash at ${point} in install, activate and revert: the state is the old or the new, complete`, async () => {
      const dir = tempDir();
      // Set up: a active (previous default), b candidate.
      const setup = (await SlotStore.open(dir)).store;
      await setup.installCandidate(bundle('a'));
      await setup.activateCandidate(0, 3);
      await setup.installCandidate(bundle('b'));
      const ops: [string, (s: SlotStore) => Promise<unknown>][] = [
        ['install c', (s) => s.installCandidate(bundle('c'))],
        ['activate', (s) => s.activateCandidate(1, 3)],
        ['revert', (s) => s.revertToPrevious()],
      ];
      for (const [name, op] of ops) {
        const before = (await SlotStore.open(dir)).store.current;
        let armed = false;
        const crashing = (
          await SlotStore.open(dir, {
            crashAt: (p) => {
              if (armed && p === point) {
                armed = false;
                throw new Error(`crash at ${p}`);
              }
            },
          })
        ).store;
        armed = true;
        const outcome = await op(crashing).then(
          () => 'completed',
          (e: Error) => e.message,
        );
        // Installs of a bundle already stored, or writes without links to change, may not reach every point.
        expect(['completed', `crash at ${point}`]).toContain(outcome);
        const { store: after, report } = await SlotStore.open(dir);
        expect(report.dropped, name).toEqual([]);
        const s = after.current;
        const crashedBeforeState = point.startsWith('store:') || point === 'state:tmp-written';
        if (outcome !== 'completed' && crashedBeforeState) expect(s, name).toEqual(before);
        else expect(s, name).not.toEqual(before);
        expectConsistent(dir, s);
        // Bring it to the completed state so the next operation starts from it.
        if (outcome !== 'completed' && crashedBeforeState) await op(after);
      }
    });
  }
});
