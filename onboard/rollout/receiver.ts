/**
 * Receiving bundle files: an install answered at once, then the file fetched over HTTP (three tries, the drone's
 * MQTT login as basic auth) or assembled from chunks kept on disk under the transfer id (chunks before the command,
 * or before a restart, count); `bundle-progress` events say what is missing once the station's pass is over, after a
 * quiet spell, and on reconnect. A complete file goes to `accept` (verify and store); a transfer that does not
 * complete in time is refused BUNDLE_TRANSFER_FAILED with its chunks kept.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/log/index.js';
import {
  type ChunkIn,
  ChunkTransfer,
  chunkProblem,
  fetchBundle,
  MAX_CHUNK_BYTES,
  type TransferMeta,
} from './transfer.js';
import type { PolicyEvent, RolloutAnswer } from './types.js';

/** Most missing indexes one progress event lists (the protocol's limit); the rest follow in later ones. */
const MAX_MISSING_REPORTED = 2048;

export interface ReceiverDeps {
  /** The slot folder: transfers live in DIR/transfers. */
  readonly dir: string;
  readonly installTimeoutMs?: number;
  readonly http?: { readonly username?: string; readonly password?: string };
  readonly nowMs: () => number;
  readonly log: Logger;
  emit(event: PolicyEvent): void;
  /** The slot already holding the bundle file with this SHA-256, and its version. */
  installed(sha256: string): { readonly slot: string; readonly version: string } | null;
  /** Verify and keep a complete file; its outcome is the manager's to report. */
  accept(bytes: Buffer, version: string, commandId: string): Promise<unknown>;
}

interface PendingInstall {
  readonly sha256: string;
  readonly transferId: string;
  deliver(bytes: Buffer): void;
}

export class BundleReceiver {
  private readonly pending = new Map<string, PendingInstall>();
  private readonly pendingTimers = new Map<string, NodeJS.Timeout>();
  private readonly installsInFlight = new Set<Promise<void>>();
  private readonly transfers = new Map<string, ChunkTransfer>();
  private readonly transferQueues = new Map<string, Promise<unknown>>();
  private readonly lastChunkAtMs = new Map<string, number>();
  /** Progress reports in a row with no chunk between them, and when the last went, per transfer. */
  private readonly quietReports = new Map<string, number>();
  private readonly lastReportAtMs = new Map<string, number>();

  constructor(private readonly d: ReceiverDeps) {}

  /** One BUNDLE_CHUNK. Never throws; a bad chunk is dropped (it stays missing in the next progress). */
  chunk(c: ChunkIn): Promise<void> {
    return this.onTransfer(c.transferId, () => this.onChunk(c));
  }

  /** The uplink came back: tell the station what each open transfer still misses. */
  onReconnect(): void {
    for (const t of this.transfers.values()) if (!t.complete) this.progress(t);
  }

  stop(): void {
    for (const t of this.pendingTimers.values()) clearTimeout(t);
  }

  /** Start an install: answered at once; the outcome is an 'installed' or 'refused' event. */
  install(cmd: {
    commandId: string;
    version: string;
    sha256: string;
    totalBytes: number;
    url?: string;
    transferId?: string;
  }): RolloutAnswer {
    const have = this.d.installed(cmd.sha256);
    if (have) {
      const reason = `already installed (${have.slot})`;
      this.d.emit({
        kind: 'policy',
        action: 'installed',
        policyVersion: have.version,
        reason,
        commandId: cmd.commandId,
      });
      return { result: 'accepted', reason };
    }
    if (this.pending.has(cmd.sha256)) return { result: 'accepted', reason: 'already being installed' };
    const transferId = cmd.transferId ?? cmd.sha256;
    let deliver: (b: Buffer) => void = () => {};
    const timeoutMs = this.d.installTimeoutMs ?? 600_000;
    const bytes = new Promise<Buffer | string>((resolve) => {
      deliver = resolve;
      if (cmd.url) {
        void this.fetchWithRetries(cmd.url, cmd.totalBytes, cmd.sha256).then((r) =>
          resolve(r.ok ? r.bytes : `transfer failed: ${r.reason}`),
        );
        return;
      }
      const t = setTimeout(() => {
        const tr = this.transfers.get(transferId);
        const missing = tr ? tr.meta.count - tr.received : null;
        resolve(
          `transfer incomplete after ${Math.round(timeoutMs / 1000)} s: ` +
            (missing === null ? 'no chunk received' : `${missing} chunks missing (kept on disk: resend them)`),
        );
      }, timeoutMs);
      t.unref();
      this.pendingTimers.set(cmd.sha256, t);
    });
    this.pending.set(cmd.sha256, { sha256: cmd.sha256, transferId, deliver: (b) => deliver(b) });
    const done = bytes.then(async (b) => {
      const timer = this.pendingTimers.get(cmd.sha256);
      if (timer) clearTimeout(timer);
      this.pendingTimers.delete(cmd.sha256);
      if (typeof b === 'string') {
        this.d.log.warn({ version: cmd.version, reason: b }, 'bundle transfer failed');
        this.d.emit({
          kind: 'policy',
          action: 'refused',
          policyVersion: cmd.version,
          code: 'BUNDLE_TRANSFER_FAILED',
          reason: b.slice(0, 1024),
          commandId: cmd.commandId,
          transferId,
        });
        return;
      }
      await this.d.accept(b, cmd.version, cmd.commandId);
    });
    void done
      .catch((err: unknown) => {
        const reason = `install failed: ${err instanceof Error ? err.message : String(err)}`;
        this.d.log.error({ version: cmd.version, reason }, 'install failed');
        this.d.emit({
          kind: 'policy',
          action: 'refused',
          policyVersion: cmd.version,
          reason,
          commandId: cmd.commandId,
        });
      })
      .finally(() => this.pending.delete(cmd.sha256));
    this.installsInFlight.add(done);
    void done.finally(() => this.installsInFlight.delete(done));
    if (!cmd.url) void this.resumeTransfer(transferId, cmd);
    return { result: 'accepted' };
  }

  /** Wait until every install in flight is installed or refused (tests, stop). */
  async settled(): Promise<void> {
    while (this.installsInFlight.size > 0) await Promise.allSettled([...this.installsInFlight]);
  }

  /**
   * The install's transfer as it stands on disk (chunks that came before the command, or before a restart): used at
   * once when complete, else the station is told what is missing.
   */
  private resumeTransfer(
    transferId: string,
    cmd: { version: string; sha256: string; totalBytes: number },
  ): Promise<void> {
    return this.onTransfer(transferId, async () => {
      let t = this.transfers.get(transferId);
      if (!t) {
        const root = join(this.d.dir, 'transfers');
        // Chunks already on disk for this file keep their own layout; a fresh transfer takes the protocol's.
        const kept = await readFile(join(root, transferId, 'meta.json'), 'utf8')
          .then((text) => JSON.parse(text) as TransferMeta)
          .catch(() => null);
        const same = kept !== null && kept.sha256 === cmd.sha256 && kept.totalBytes === cmd.totalBytes;
        t = await ChunkTransfer.open(
          root,
          same
            ? kept
            : {
                transferId,
                version: cmd.version,
                sha256: cmd.sha256,
                totalBytes: cmd.totalBytes,
                count: Math.ceil(cmd.totalBytes / MAX_CHUNK_BYTES),
                startedAtMs: this.d.nowMs(),
              },
        );
        this.transfers.set(transferId, t);
      }
      // Incomplete: the station's chunks follow the command; what still misses is reported after a quiet spell.
      this.lastChunkAtMs.set(transferId, this.d.nowMs());
      if (t.complete) await this.finishTransfer(t);
    });
  }

  private onTransfer(transferId: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.transferQueues.get(transferId) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => {
      this.d.log.warn({ err: err instanceof Error ? err.message : String(err), transferId }, 'transfer step failed');
    });
    this.transferQueues.set(transferId, next);
    void next.finally(() => {
      if (this.transferQueues.get(transferId) === next) this.transferQueues.delete(transferId);
    });
    return next;
  }

  private async fetchWithRetries(url: string, totalBytes: number, sha256: string) {
    let last = { ok: false as const, reason: 'not tried' };
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await fetchBundle(url, {
        totalBytes,
        sha256,
        username: this.d.http?.username,
        password: this.d.http?.password,
      });
      if (r.ok) return r;
      last = r;
      await new Promise((res) => setTimeout(res, 500 * 2 ** attempt));
    }
    return last;
  }

  private async onChunk(c: ChunkIn): Promise<void> {
    const problem = chunkProblem(c);
    if (problem) {
      this.d.log.warn({ transferId: c.transferId, index: c.index, problem }, 'chunk refused');
      return;
    }
    const root = join(this.d.dir, 'transfers');
    let t = this.transfers.get(c.transferId);
    if (!t || t.meta.sha256 !== c.sha256) {
      t = await ChunkTransfer.open(root, {
        transferId: c.transferId,
        version: c.version,
        sha256: c.sha256,
        totalBytes: c.totalBytes,
        count: c.count,
        startedAtMs: this.d.nowMs(),
      });
      this.transfers.set(c.transferId, t);
      if (t.received > 0) this.d.log.info({ transferId: c.transferId, have: t.received }, 'transfer resumed from disk');
    }
    this.lastChunkAtMs.set(c.transferId, this.d.nowMs());
    this.quietReports.delete(c.transferId);
    const r = await t.accept(c);
    if (!r.ok) {
      this.d.log.warn({ transferId: c.transferId, index: c.index, reason: r.reason }, 'chunk refused');
      return;
    }
    if (r.complete) {
      await this.finishTransfer(t);
      return;
    }
    // The last index arrived: the station's pass is over, say what it lost on the way. Not sooner, or chunks still
    // on their way would be asked for twice.
    if (!r.duplicate && c.index === c.count - 1) this.progress(t);
  }

  private async finishTransfer(t: ChunkTransfer): Promise<void> {
    const a = await t.assemble();
    if (!a.ok) {
      this.d.log.warn({ transferId: t.meta.transferId, reason: a.reason }, 'assembled bundle refused');
      this.progress(t, a.reason);
      return;
    }
    this.transfers.delete(t.meta.transferId);
    this.lastChunkAtMs.delete(t.meta.transferId);
    this.quietReports.delete(t.meta.transferId);
    const p = this.pending.get(t.meta.sha256);
    this.progress(t);
    if (p) {
      p.deliver(a.bytes);
      await t.remove();
    }
    // Without an install command yet the chunks stay on disk until it comes (resumeTransfer finds them).
  }

  private progress(t: ChunkTransfer, reason?: string): void {
    this.d.emit({
      kind: 'policy',
      action: 'bundle-progress',
      policyVersion: t.meta.version,
      transferId: t.meta.transferId,
      count: t.meta.count,
      receivedChunks: t.received,
      missingChunks: t.missing(MAX_MISSING_REPORTED),
      ...(reason ? { reason } : {}),
    });
  }

  /** Report what each transfer quiet for `idleMs` still misses (the manager's timer calls this). */
  reportIdle(idleMs: number): void {
    const now = this.d.nowMs();
    const giveUpMs = this.d.installTimeoutMs ?? 600_000;
    for (const [id, t] of this.transfers) {
      if (t.complete) continue;
      const last = this.lastChunkAtMs.get(id) ?? 0;
      // A transfer the station has given up on stays on disk (a later install resumes it) but is no longer reported.
      if (now - last >= giveUpMs) {
        this.transfers.delete(id);
        this.lastChunkAtMs.delete(id);
        this.quietReports.delete(id);
        this.lastReportAtMs.delete(id);
        continue;
      }
      // Reports while it stays quiet back off (idle, 2x, 4x ... at most 64x): events are never dropped.
      const n = this.quietReports.get(id) ?? 0;
      const since = Math.max(last, this.lastReportAtMs.get(id) ?? 0);
      if (now - since >= idleMs * 2 ** Math.min(n, 6)) {
        this.progress(t);
        this.lastReportAtMs.set(id, now);
        this.quietReports.set(id, n + 1);
      }
    }
  }
}
