import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeExperienceFile, type ExperienceRecord } from '../../shared/experience/index.js';
import { componentLogger } from '../../shared/log/index.js';
import { type ExperienceBatch, examplePayloads } from '../../shared/protocol/index.js';
import { DropCounters } from '../broker/index.js';
import { type OpenedStore, storeBackends } from '../storage/test-support.js';
import { ExperienceStore } from './experience-store.js';

function record(episode: number, step: number, reward: number): ExperienceRecord {
  return { ...examplePayloads().experience.records[0], episode, step, reward };
}

function batch(id: string, seq: number, records: ExperienceRecord[], sessionId?: string): ExperienceBatch {
  const b = { ...examplePayloads().experience, id, seq, records: records as ExperienceBatch['records'] };
  if (sessionId === undefined) delete (b as { sessionId?: string }).sessionId;
  else b.sessionId = sessionId;
  return b;
}

/** What a record reads back as: the file keeps float32. */
const f32 = (r: ExperienceRecord): ExperienceRecord => ({
  ...r,
  observation: r.observation.map(Math.fround),
  action: r.action.map(Math.fround),
  filteredAction: r.filteredAction.map(Math.fround),
  reward: Math.fround(r.reward),
  cost: Math.fround(r.cost),
});

for (const backend of storeBackends()) {
  describe(`ExperienceStore on ${backend.name}`, () => {
    let opened: OpenedStore;
    let experience: ExperienceStore;
    let drops: DropCounters;
    let dir: string;
    beforeEach(async () => {
      opened = await backend.open();
      drops = new DropCounters();
      experience = new ExperienceStore(opened.store, drops, componentLogger('exp-test'));
      dir = mkdtempSync(join(tmpdir(), 'aerie-exp-'));
    });
    afterEach(async () => {
      await opened.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps a batch once per (drone, session, seq) and exports every kept record in arrival order', async () => {
      const a = [record(1, 0, 0.5), record(1, 1, 0.25)];
      const b = [record(2, 0, -1)];
      const c = [record(1, 2, 2)];
      expect(await experience.accept(batch('d1', 1, a, 's1'), '', 10)).toBe('stored');
      expect(await experience.accept(batch('d1', 1, a, 's1'), '', 11)).toBe('duplicate');
      // No sessionId in the batch: the registry's current session is used.
      expect(await experience.accept(batch('d1', 1, b), 's2', 12)).toBe('stored');
      expect(await experience.accept(batch('d1', 1, b), 's2', 13)).toBe('duplicate');
      expect(await experience.accept(batch('d2', 1, c, 's1'), '', 14)).toBe('stored');
      expect(experience.stats).toEqual({ batchesStored: 3, recordsStored: 4, duplicates: 2, refused: 0 });

      const file = join(dir, 'all.aexp');
      const written = await experience.exportToFile(file);
      expect(written.batches).toBe(3);
      const dataset = decodeExperienceFile(readFileSync(file));
      expect(dataset.truncatedTailBytes).toBe(0);
      expect(dataset.records).toEqual([...a, ...b, ...c].map(f32));
      expect(written.bytes).toBe(readFileSync(file).length);

      const onlyD2 = join(dir, 'd2.aexp');
      await experience.exportToFile(onlyD2, { droneId: 'd2' });
      expect(decodeExperienceFile(readFileSync(onlyD2)).records).toEqual(c.map(f32));
    });

    it('pages through many batches when exporting', async () => {
      for (let seq = 1; seq <= 7; seq++) await experience.accept(batch('d1', seq, [record(seq, 0, seq)], 's'), '', seq);
      const chunks: Uint8Array[] = [];
      for await (const chunk of experience.exportChunks({}, 3)) chunks.push(chunk);
      expect(chunks.length).toBe(8);
      const joined = Buffer.concat(chunks);
      expect(decodeExperienceFile(joined).records.map((r) => r.episode)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it('refuses a batch whose values do not fit the file, and counts it', async () => {
      const bad = { ...record(1, 0, 1), reward: 1e300 };
      expect(await experience.accept(batch('d1', 1, [bad], 's'), '', 1)).toBe('refused');
      expect(drops.get('experience:record-invalid')).toBe(1);
      expect(await opened.store.experienceStats()).toEqual({ batches: 0, records: 0 });
    });
  });
}
