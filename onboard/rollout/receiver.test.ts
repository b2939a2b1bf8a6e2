import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { componentLogger } from '../../shared/log/index.js';
import { BundleReceiver } from './receiver.js';
import { splitIntoChunks } from './transfer.js';
import type { PolicyEvent } from './types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('BundleReceiver', () => {
  it('reports a quiet transfer with back-off, and stops reporting one the station gave up on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-receiver-'));
    dirs.push(dir);
    let now = 0;
    const events: PolicyEvent[] = [];
    const accepted: Buffer[] = [];
    const r = new BundleReceiver({
      dir,
      installTimeoutMs: 10_000,
      nowMs: () => now,
      log: componentLogger('test'),
      emit: (e) => events.push(e),
      installed: () => null,
      accept: async (b) => accepted.push(b),
    });
    const chunks = splitIntoChunks(randomBytes(3000), 'tx', 'sha256:0123456789abcdef', 1000);
    await r.chunk(chunks[0]);
    const reportsAt: number[] = [];
    for (now = 0; now <= 20_000; now += 50) {
      const before = events.length;
      r.reportIdle(100);
      if (events.length > before) reportsAt.push(now);
    }
    // After 100 ms of quiet, then each gap doubled (at most 64x), until 10 s without a chunk.
    expect(reportsAt).toEqual([100, 300, 700, 1500, 3100, 6300]);
    expect(events.every((e) => e.action === 'bundle-progress' && e.missingChunks?.join() === '1,2')).toBe(true);
    // The chunks stay on disk: an install later resumes the transfer and completes it.
    expect(
      r.install({
        commandId: 'i',
        version: chunks[0].version,
        sha256: chunks[0].sha256,
        totalBytes: 3000,
        transferId: 'tx',
      }),
    ).toEqual({
      result: 'accepted',
    });
    await r.chunk(chunks[1]);
    await r.chunk(chunks[2]);
    await r.settled();
    expect(accepted).toHaveLength(1);
    r.stop();
  });
});
