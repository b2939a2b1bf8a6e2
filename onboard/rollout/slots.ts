/**
 * Policy slots on disk: `DIR/active`, `DIR/candidate` and `DIR/previous`, each a verified bundle's parts with its
 * manifest. The truth is `DIR/state.json` (which stored bundle fills which slot, and the probation of a fresh
 * activation), replaced by write-fsync-rename; the bundles themselves live once in `DIR/store/<id>/`, written to a
 * temporary folder, fsynced and renamed into place before the state names them; the three slot names are symlinks
 * into the store, rebuilt from the state on every open. A crash at any point leaves either the old state or the new
 * one, each pointing only at complete folders; half-written folders are swept on the next open.
 *
 * `previous` may be the shipped default policy (DEFAULT_SLOT): reverting then flies the default again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The id standing for the shipped default policy in `previous` (bundle ids are hex, so it cannot clash). */
export const DEFAULT_SLOT = 'default';
export const SLOT_NAMES = ['active', 'candidate', 'previous'] as const;
export type SlotName = (typeof SLOT_NAMES)[number];

/** One part of a stored bundle, as its manifest lists it. */
export interface StoredPart {
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** What the store keeps about a bundle besides its parts (`slot.json`). */
export interface SlotInfo {
  /** The policy version the drone reports (policyVersionFromSha256 of the policy part). */
  readonly version: string;
  /** SHA-256 of the whole signed bundle file (hex). */
  readonly sha256: string;
  /** SHA-256 of the policy part (hex). */
  readonly policySha256: string;
  readonly parts: readonly StoredPart[];
  readonly installedAtMs: number;
}

/** A bundle to store: its signed file, its manifest (JSON) and its parts by name. */
export interface BundleFiles {
  readonly info: SlotInfo;
  readonly bundle: Uint8Array;
  readonly manifest: unknown;
  readonly parts: Readonly<Record<string, Uint8Array>>;
}

/** A fresh activation on probation: reverted on the drone if it trips the monitor in its first flights. */
export interface Probation {
  readonly activatedAtMs: number;
  /** Flights finished since the activation. */
  readonly flights: number;
  /** Flights to watch (configurable, default 3). */
  readonly limit: number;
  /** Why it must be reverted (set when it tripped; the revert happens once landed and disarmed). */
  readonly tripped: string | null;
}

export interface SlotState {
  readonly format: 1;
  /** Store id flying now; null: the shipped default policy. */
  readonly active: string | null;
  readonly candidate: string | null;
  /** Store id (or DEFAULT_SLOT) to revert to; null: nothing to revert to. */
  readonly previous: string | null;
  readonly probation: Probation | null;
}

export const EMPTY_STATE: SlotState = Object.freeze({
  format: 1,
  active: null,
  candidate: null,
  previous: null,
  probation: null,
});

/** Named points of every write, for crash tests: the injected hook throws there. */
export type CrashPoint =
  | 'store:parts-written'
  | 'store:renamed'
  | 'state:tmp-written'
  | 'state:renamed'
  | 'links:partial'
  | 'links:done';

export interface SlotStoreOptions {
  /** Tests only: called at each CrashPoint; throwing there simulates a crash at that instant. */
  readonly crashAt?: (point: CrashPoint) => void;
}

/** What open() found wrong and repaired (a slot whose folder is gone or whose parts no longer match). */
export interface OpenReport {
  readonly dropped: readonly { readonly slot: SlotName; readonly id: string; readonly reason: string }[];
  readonly swept: readonly string[];
}

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const isId = (s: string): boolean => /^[0-9a-f]{16,64}$/.test(s);
const SAFE_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function parseState(text: string): SlotState | null {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof j !== 'object' || j === null) return null;
  const s = j as Record<string, unknown>;
  const ref = (v: unknown, allowDefault = false): v is string | null =>
    v === null || (typeof v === 'string' && (isId(v) || (allowDefault && v === DEFAULT_SLOT)));
  if (s.format !== 1 || !ref(s.active) || !ref(s.candidate) || !ref(s.previous, true)) return null;
  const p = s.probation as Record<string, unknown> | null | undefined;
  let probation: Probation | null = null;
  if (p && typeof p === 'object') {
    const n = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
    if (n(p.activatedAtMs) && n(p.flights) && n(p.limit) && (p.tripped === null || typeof p.tripped === 'string')) {
      probation = {
        activatedAtMs: p.activatedAtMs as number,
        flights: p.flights as number,
        limit: p.limit as number,
        tripped: p.tripped as string | null,
      };
    }
  }
  return {
    format: 1,
    active: s.active as string | null,
    candidate: s.candidate as string | null,
    previous: s.previous as string | null,
    probation,
  };
}

export class SlotStore {
  private state: SlotState = EMPTY_STATE;
  private readonly infos = new Map<string, SlotInfo>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly options: SlotStoreOptions,
  ) {}

  /**
   * Open (or create) the slot folder: read the state, check every slot it names (folder complete, parts matching
   * their hashes; a slot that fails is dropped, the reason reported), sweep what no state names (crash leftovers),
   * and rebuild the slot links.
   */
  static async open(dir: string, options: SlotStoreOptions = {}): Promise<{ store: SlotStore; report: OpenReport }> {
    const store = new SlotStore(dir, options);
    const report = await store.load();
    return { store, report };
  }

  get current(): SlotState {
    return this.state;
  }

  /** What is known of a stored bundle (null for the default policy or an unknown id). */
  info(id: string | null): SlotInfo | null {
    return id === null ? null : (this.infos.get(id) ?? null);
  }

  /** The folder holding a stored bundle's parts. */
  pathOf(id: string): string {
    return join(this.dir, 'store', id);
  }

  /** A stored part's bytes (e.g. policy.onnx of the active slot). */
  readPart(id: string, name: string): Promise<Buffer> {
    if (!SAFE_PART.test(name)) return Promise.reject(new Error(`bad part name ${name}`));
    return readFile(join(this.pathOf(id), name));
  }

  /** Store a verified bundle and make it the candidate (the old candidate, unless active/previous, is removed). */
  installCandidate(files: BundleFiles): Promise<SlotState> {
    return this.serial(async () => {
      const id = files.info.sha256.slice(0, 32);
      await this.writeStore(id, files);
      this.infos.set(id, files.info);
      return this.commit({ ...this.state, candidate: id });
    });
  }

  /** candidate -> active, active -> previous (the default policy when none), with a fresh probation. */
  activateCandidate(nowMs: number, probationFlights: number): Promise<SlotState> {
    return this.serial(async () => {
      const s = this.state;
      if (s.candidate === null) throw new Error('no candidate to activate');
      return this.commit({
        format: 1,
        active: s.candidate,
        candidate: null,
        previous: s.active ?? DEFAULT_SLOT,
        probation:
          probationFlights > 0 ? { activatedAtMs: nowMs, flights: 0, limit: probationFlights, tripped: null } : null,
      });
    });
  }

  /** previous -> active; the reverted bundle is removed (it is not kept as a candidate). */
  revertToPrevious(): Promise<SlotState> {
    return this.serial(async () => {
      const s = this.state;
      if (s.previous === null) throw new Error('no previous policy to revert to');
      return this.commit({
        format: 1,
        active: s.previous === DEFAULT_SLOT ? null : s.previous,
        candidate: s.candidate,
        previous: null,
        probation: null,
      });
    });
  }

  /** Replace the probation record (a flight counted, a trip noted, or the end of probation). */
  setProbation(probation: Probation | null): Promise<SlotState> {
    return this.serial(() => this.commit({ ...this.state, probation }));
  }

  /** Remove the candidate (e.g. replaced by another install). */
  dropCandidate(): Promise<SlotState> {
    return this.serial(() => this.commit({ ...this.state, candidate: null }));
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private crash(point: CrashPoint): void {
    this.options.crashAt?.(point);
  }

  private async writeStore(id: string, files: BundleFiles): Promise<void> {
    const storeDir = join(this.dir, 'store');
    const final = join(storeDir, id);
    if (await exists(join(final, 'slot.json'))) return; // same bundle already stored (complete: slot.json is last)
    await mkdir(storeDir, { recursive: true });
    const tmp = join(storeDir, `.tmp-${id}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp);
    for (const [name, bytes] of Object.entries(files.parts)) {
      if (!SAFE_PART.test(name) || name === 'slot.json' || name === 'manifest.json' || name === 'bundle.aerie-bundle')
        throw new Error(`bad part name ${JSON.stringify(name)}`);
      await writeDurable(join(tmp, name), bytes);
    }
    await writeDurable(join(tmp, 'bundle.aerie-bundle'), files.bundle);
    await writeDurable(join(tmp, 'manifest.json'), `${JSON.stringify(files.manifest, null, 2)}\n`);
    await writeDurable(join(tmp, 'slot.json'), `${JSON.stringify(files.info, null, 2)}\n`);
    await fsyncPath(tmp);
    this.crash('store:parts-written');
    // A leftover folder of the same id (an earlier crash before its slot.json) is replaced.
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    await fsyncPath(storeDir);
    this.crash('store:renamed');
  }

  private async commit(next: SlotState): Promise<SlotState> {
    const path = join(this.dir, 'state.json');
    const tmp = join(this.dir, `.state-${randomBytes(4).toString('hex')}.tmp`);
    await writeDurable(tmp, `${JSON.stringify(next, null, 2)}\n`);
    this.crash('state:tmp-written');
    await rename(tmp, path);
    await fsyncPath(this.dir);
    this.state = next;
    this.crash('state:renamed');
    await this.relink();
    await this.sweep();
    return next;
  }

  /** Make DIR/active, DIR/candidate, DIR/previous point where the state says (each link replaced by rename). */
  private async relink(): Promise<void> {
    let n = 0;
    for (const name of SLOT_NAMES) {
      const id = this.state[name];
      const link = join(this.dir, name);
      const target = id === null || id === DEFAULT_SLOT ? null : join('store', id);
      const now = await readlink(link).catch(() => null);
      if (now === target) continue;
      if (target === null) {
        await rm(link, { recursive: true, force: true });
      } else {
        const tmp = join(this.dir, `.${name}-${randomBytes(4).toString('hex')}.tmp`);
        await symlink(target, tmp);
        // A real folder in the way (made by hand) cannot be replaced by rename: remove it first.
        if (now === null && (await exists(link))) await rm(link, { recursive: true, force: true });
        await rename(tmp, link);
      }
      if (++n === 1) this.crash('links:partial');
    }
    await fsyncPath(this.dir);
    this.crash('links:done');
  }

  /** Remove what no slot names: store folders of replaced bundles, temporary files of interrupted writes. */
  private async sweep(): Promise<string[]> {
    const keep = new Set([this.state.active, this.state.candidate, this.state.previous].filter((x) => x !== null));
    const swept: string[] = [];
    for (const f of await readdir(this.dir).catch(() => [] as string[])) {
      if (f.startsWith('.') && f.endsWith('.tmp')) {
        await rm(join(this.dir, f), { recursive: true, force: true });
        swept.push(f);
      }
    }
    const storeDir = join(this.dir, 'store');
    for (const f of await readdir(storeDir).catch(() => [] as string[])) {
      if (keep.has(f)) continue;
      await rm(join(storeDir, f), { recursive: true, force: true });
      this.infos.delete(f);
      swept.push(`store/${f}`);
    }
    return swept;
  }

  private async checkStored(id: string): Promise<{ ok: true; info: SlotInfo } | { ok: false; reason: string }> {
    const dir = this.pathOf(id);
    let info: SlotInfo;
    try {
      info = JSON.parse(await readFile(join(dir, 'slot.json'), 'utf8')) as SlotInfo;
    } catch (err) {
      return { ok: false, reason: `slot.json unreadable: ${(err as Error).message}` };
    }
    if (!Array.isArray(info.parts)) return { ok: false, reason: 'slot.json lists no parts' };
    for (const p of info.parts) {
      const bytes = await readFile(join(dir, p.name)).catch(() => null);
      if (bytes === null) return { ok: false, reason: `part ${p.name} missing` };
      if (bytes.length !== p.bytes || sha256Hex(bytes) !== p.sha256)
        return { ok: false, reason: `part ${p.name} does not match its hash` };
    }
    const bundle = await readFile(join(dir, 'bundle.aerie-bundle')).catch(() => null);
    if (bundle === null || sha256Hex(bundle) !== info.sha256)
      return { ok: false, reason: 'bundle file missing or not matching its hash' };
    return { ok: true, info };
  }

  private async load(): Promise<OpenReport> {
    await mkdir(this.dir, { recursive: true });
    const text = await readFile(join(this.dir, 'state.json'), 'utf8').catch(() => null);
    let state = text === null ? EMPTY_STATE : (parseState(text) ?? EMPTY_STATE);
    const dropped: { slot: SlotName; id: string; reason: string }[] = [];
    if (text !== null && parseState(text) === null)
      dropped.push({ slot: 'active', id: '?', reason: 'state.json unreadable: flying the default policy' });
    for (const slot of SLOT_NAMES) {
      const id = state[slot];
      if (id === null || id === DEFAULT_SLOT) continue;
      const r = await this.checkStored(id);
      if (r.ok) {
        this.infos.set(id, r.info);
        continue;
      }
      dropped.push({ slot, id, reason: r.reason });
      // Without its active slot the drone flies its own policy: "revert to the default" would then mean nothing.
      const previous = slot === 'active' && state.previous === DEFAULT_SLOT ? null : state.previous;
      state = { ...state, previous, [slot]: null, ...(slot === 'active' ? { probation: null } : {}) };
    }
    this.state = state;
    if (dropped.length > 0) await this.commit(state);
    else {
      await this.relink();
    }
    const swept = await this.sweep();
    return { dropped, swept };
  }
}
