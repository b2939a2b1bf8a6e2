/**
 * The experience store: batches drones send are kept once per (drone, session, seq) - a drone's store-and-forward
 * may send a batch again after a reconnect - with their records framed exactly as the dataset file frames them
 * (shared/experience), so an export is the file header followed by the stored frames, streamed page by page.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { encodeExperienceHeader, encodeExperienceRecord } from '../../shared/experience/index.js';
import type { Logger } from '../../shared/log/index.js';
import type { ExperienceBatch } from '../../shared/protocol/index.js';
import type { DropCounters } from '../broker/index.js';
import type { ExperienceQuery, StationStore } from '../storage/index.js';

export interface ExperienceStats {
  batchesStored: number;
  recordsStored: number;
  duplicates: number;
  refused: number;
}

export type ExperienceFilter = Pick<ExperienceQuery, 'droneId' | 'policyVersion'>;

export class ExperienceStore {
  private readonly store: StationStore;
  private readonly drops: DropCounters;
  private readonly logger: Logger;
  readonly stats: ExperienceStats = { batchesStored: 0, recordsStored: 0, duplicates: 0, refused: 0 };

  constructor(store: StationStore, drops: DropCounters, logger: Logger) {
    this.store = store;
    this.drops = drops;
    this.logger = logger;
  }

  /**
   * Keep a batch unless already kept. `sessionId` is the batch's own when it carries one, else the drone's current
   * session from the registry ('' when unknown).
   */
  async accept(batch: ExperienceBatch, sessionId: string, nowMs: number): Promise<'stored' | 'duplicate' | 'refused'> {
    const frames: Uint8Array[] = [];
    try {
      for (const r of batch.records) frames.push(encodeExperienceRecord(r));
    } catch (err) {
      // A value that passed the JSON schema but does not fit the file (e.g. beyond float32): refuse the batch whole.
      this.stats.refused++;
      this.drops.drop('experience:record-invalid');
      this.logger.warn({ droneId: batch.id, seq: batch.seq, err: (err as Error).message }, 'experience batch refused');
      return 'refused';
    }
    const bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let o = 0;
    for (const f of frames) {
      bytes.set(f, o);
      o += f.length;
    }
    const stored = await this.store.insertExperienceBatch({
      droneId: batch.id,
      sessionId: batch.sessionId ?? sessionId,
      seq: batch.seq,
      timeMs: batch.timeMs,
      receivedAtMs: nowMs,
      policyVersion: batch.policyVersion,
      recordCount: batch.records.length,
      frames: bytes,
    });
    if (!stored) {
      this.stats.duplicates++;
      return 'duplicate';
    }
    this.stats.batchesStored++;
    this.stats.recordsStored += batch.records.length;
    return 'stored';
  }

  /** The dataset file as chunks: the header, then every stored batch's frames in arrival order. */
  async *exportChunks(filter: ExperienceFilter = {}, pageSize = 200): AsyncGenerator<Uint8Array> {
    yield encodeExperienceHeader();
    let after = 0;
    for (;;) {
      const page = await this.store.listExperienceBatches({ ...filter, afterRowId: after, limit: pageSize });
      for (const b of page) yield b.frames;
      if (page.length < pageSize) return;
      after = page[page.length - 1].rowId;
    }
  }

  /** Write the dataset file; returns its size and how many records it holds. */
  async exportToFile(path: string, filter: ExperienceFilter = {}): Promise<{ bytes: number; batches: number }> {
    const out = createWriteStream(path);
    let bytes = 0;
    let batches = -1; // the header is the first chunk
    try {
      for await (const chunk of this.exportChunks(filter)) {
        bytes += chunk.length;
        batches++;
        if (!out.write(chunk)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    return { bytes, batches };
  }
}
