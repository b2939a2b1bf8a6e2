/**
 * Receiving a bundle file: chunks from the drone's `bundle` channel kept on disk under their transfer id (so a
 * reconnect, or a restart of the process, resumes where it was and the station resends only the missing indexes),
 * each chunk checked against its SHA-256 and the whole file against the one the install names; or the whole file by
 * HTTP from the station, with the drone's MQTT login as basic auth.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Largest chunk payload accepted (bytes, decoded). */
export const MAX_CHUNK_BYTES = 48 * 1024;
/** Largest bundle file accepted (bytes). */
export const MAX_TRANSFER_BYTES = 64 * 1024 * 1024;

/** One chunk as it arrives (the BUNDLE_CHUNK payload's fields). */
export interface ChunkIn {
  readonly transferId: string;
  readonly version: string;
  /** SHA-256 of the whole file (hex). */
  readonly sha256: string;
  readonly totalBytes: number;
  readonly index: number;
  readonly count: number;
  readonly chunkSha256: string;
  /** Base64. */
  readonly data: string;
}

export interface TransferMeta {
  readonly transferId: string;
  readonly version: string;
  readonly sha256: string;
  readonly totalBytes: number;
  readonly count: number;
  readonly startedAtMs: number;
}

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/** Check a chunk's own fields (before any disk access). Null when it is well formed, else why not. */
export function chunkProblem(c: ChunkIn): string | null {
  if (!SAFE_ID.test(c.transferId)) return 'bad transfer id';
  if (!HEX64.test(c.sha256) || !HEX64.test(c.chunkSha256)) return 'bad sha256';
  if (!Number.isInteger(c.totalBytes) || c.totalBytes <= 0 || c.totalBytes > MAX_TRANSFER_BYTES)
    return `totalBytes ${c.totalBytes} out of range`;
  if (!Number.isInteger(c.count) || c.count < Math.ceil(c.totalBytes / MAX_CHUNK_BYTES) || c.count > c.totalBytes)
    return `count ${c.count} cannot carry ${c.totalBytes} bytes in chunks of at most ${MAX_CHUNK_BYTES}`;
  if (!Number.isInteger(c.index) || c.index < 0 || c.index >= c.count) return `index ${c.index} not in [0, ${c.count})`;
  return null;
}

export type ChunkResult =
  | { readonly ok: true; readonly duplicate: boolean; readonly received: number; readonly complete: boolean }
  | { readonly ok: false; readonly reason: string };

/** One transfer's folder: meta.json and one file per received chunk. */
export class ChunkTransfer {
  private readonly have = new Set<number>();

  private constructor(
    readonly dir: string,
    readonly meta: TransferMeta,
  ) {}

  /**
   * Open the transfer `meta.transferId` under `root`, resuming the chunks already on disk. A folder of the same id
   * for another file (sha256, size or count differ) is started afresh.
   */
  static async open(root: string, meta: TransferMeta): Promise<ChunkTransfer> {
    if (!SAFE_ID.test(meta.transferId)) throw new Error(`bad transfer id ${JSON.stringify(meta.transferId)}`);
    const dir = join(root, meta.transferId);
    const old = await readFile(join(dir, 'meta.json'), 'utf8')
      .then((t) => JSON.parse(t) as TransferMeta)
      .catch(() => null);
    const same =
      old !== null && old.sha256 === meta.sha256 && old.totalBytes === meta.totalBytes && old.count === meta.count;
    if (!same) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writeAtomic(join(dir, 'meta.json'), `${JSON.stringify(meta)}\n`);
    }
    const t = new ChunkTransfer(dir, same && old ? old : meta);
    for (const f of await readdir(dir)) {
      const m = /^(\d+)\.chunk$/.exec(f);
      if (m) t.have.add(Number(m[1]));
    }
    return t;
  }

  get received(): number {
    return this.have.size;
  }

  get complete(): boolean {
    return this.have.size === this.meta.count;
  }

  /** Indexes not yet received, ascending (at most `limit`). */
  missing(limit = Number.POSITIVE_INFINITY): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.meta.count && out.length < limit; i++) if (!this.have.has(i)) out.push(i);
    return out;
  }

  /** Check and keep one chunk. A repeated chunk is accepted (and not written again). */
  async accept(c: ChunkIn): Promise<ChunkResult> {
    const problem = chunkProblem(c);
    if (problem) return { ok: false, reason: problem };
    const m = this.meta;
    if (c.sha256 !== m.sha256 || c.totalBytes !== m.totalBytes || c.count !== m.count)
      return { ok: false, reason: `chunk ${c.index} belongs to another file than transfer ${m.transferId}` };
    if (this.have.has(c.index)) return { ok: true, duplicate: true, received: this.have.size, complete: this.complete };
    const data = Buffer.from(c.data, 'base64');
    if (data.length === 0 || data.length > MAX_CHUNK_BYTES)
      return { ok: false, reason: `chunk ${c.index} carries ${data.length} bytes` };
    if (sha256Hex(data) !== c.chunkSha256) return { ok: false, reason: `chunk ${c.index} does not match its SHA-256` };
    await writeAtomic(join(this.dir, `${c.index}.chunk`), data);
    this.have.add(c.index);
    return { ok: true, duplicate: false, received: this.have.size, complete: this.complete };
  }

  /**
   * The whole file, once every chunk is there, checked against the transfer's size and SHA-256. On a mismatch the
   * chunks are dropped (the station starts again).
   */
  async assemble(): Promise<{ ok: true; bytes: Buffer } | { ok: false; reason: string }> {
    if (!this.complete) return { ok: false, reason: `${this.meta.count - this.have.size} chunks missing` };
    const parts: Buffer[] = [];
    for (let i = 0; i < this.meta.count; i++) parts.push(await readFile(join(this.dir, `${i}.chunk`)));
    const bytes = Buffer.concat(parts);
    if (bytes.length !== this.meta.totalBytes || sha256Hex(bytes) !== this.meta.sha256) {
      await this.reset();
      return {
        ok: false,
        reason: `the assembled file (${bytes.length} bytes) does not match the transfer's size and SHA-256`,
      };
    }
    return { ok: true, bytes };
  }

  /** Forget every chunk (keep the transfer open). */
  async reset(): Promise<void> {
    for (const i of this.have) await rm(join(this.dir, `${i}.chunk`), { force: true });
    this.have.clear();
  }

  /** Remove the transfer's folder. */
  async remove(): Promise<void> {
    this.have.clear();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Remove transfer folders older than `maxAgeMs` (abandoned transfers). */
export async function sweepTransfers(root: string, nowMs: number, maxAgeMs: number): Promise<string[]> {
  const swept: string[] = [];
  for (const f of await readdir(root).catch(() => [] as string[])) {
    const dir = join(root, f);
    const s = await stat(dir).catch(() => null);
    if (s && nowMs - s.mtimeMs > maxAgeMs) {
      await rm(dir, { recursive: true, force: true });
      swept.push(f);
    }
  }
  return swept;
}

export interface FetchOptions {
  readonly username?: string;
  readonly password?: string;
  readonly timeoutMs?: number;
  /** Expected size and SHA-256 of the file (from the install command). */
  readonly totalBytes: number;
  readonly sha256: string;
}

/** GET the bundle over HTTP(S). Never throws: a failure is a value with its reason. */
export async function fetchBundle(
  url: string,
  o: FetchOptions,
): Promise<{ ok: true; bytes: Buffer } | { ok: false; reason: string }> {
  const headers: Record<string, string> = {};
  if (o.username !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(o.timeoutMs ?? 60_000) });
  } catch (err) {
    return { ok: false, reason: `GET ${url} failed: ${(err as Error).message}` };
  }
  if (!res.ok) return { ok: false, reason: `GET ${url} answered ${res.status} ${res.statusText}`.trim() };
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > MAX_TRANSFER_BYTES)
    return { ok: false, reason: `GET ${url}: ${declared} bytes is more than a bundle may be` };
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    return { ok: false, reason: `GET ${url}: body not read: ${(err as Error).message}` };
  }
  if (bytes.length !== o.totalBytes)
    return { ok: false, reason: `GET ${url}: ${bytes.length} bytes, the install names ${o.totalBytes}` };
  if (sha256Hex(bytes) !== o.sha256)
    return { ok: false, reason: `GET ${url}: the file does not match the SHA-256 the install names` };
  return { ok: true, bytes };
}

/** Used by tests and tools: split a file into chunk payloads (the station's side does the same). */
export function splitIntoChunks(
  bytes: Uint8Array,
  transferId: string,
  version: string,
  chunkBytes = MAX_CHUNK_BYTES,
): ChunkIn[] {
  const sha256 = sha256Hex(bytes);
  const count = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  const out: ChunkIn[] = [];
  for (let i = 0; i < count; i++) {
    const data = Buffer.from(bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes));
    out.push({
      transferId,
      version,
      sha256,
      totalBytes: bytes.length,
      index: i,
      count,
      chunkSha256: sha256Hex(data),
      data: data.toString('base64'),
    });
  }
  return out;
}
