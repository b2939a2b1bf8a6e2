/**
 * The drone's side of policy rollouts: install (HTTP or chunks), verify, keep in slots, activate while landed and
 * disarmed, run a candidate in shadow, watch a fresh activation over its first flights and revert it on the drone
 * when it trips the monitor. Reports through `policy` events, the status' `policy` field and the metrics' `shadow`.
 *
 * Every command is answered as a value (accepted / rejected with the reason / failed); nothing here throws into the
 * uplink or the control loop, and a refused bundle changes nothing on the drone.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrustedKey } from '../../shared/bundle/index.js';
import type { Airspace } from '../../shared/geo/index.js';
import { componentLogger, type Logger } from '../../shared/log/index.js';
import type { MavlinkLink } from '../../shared/mavlink/index.js';
import { policyVersionFromSha256 } from '../../shared/protocol/index.js';
import type { TickReport } from '../control/index.js';
import { safetyPhase, safetyVehicle } from '../control/index.js';
import type { MavlinkSource, VehicleState } from '../link/index.js';
import type { MissionPhase } from '../mission/index.js';
import { defaultPolicyPath, loadPolicy, type ModelSource, type SwapOutcome } from '../policy/index.js';
import type { Neighbour, SafetyConfig } from '../safety/index.js';
import { FlightCounter, TripWatch } from './probation.js';
import { readPx4Params } from './px4-params.js';
import { ShadowRunner, type ShadowWindow, type SpeedLimitsMS } from './shadow.js';
import { type BundleFiles, type CrashPoint, DEFAULT_SLOT, type SlotInfo, SlotStore } from './slots.js';
import { type ChunkIn, ChunkTransfer, chunkProblem, fetchBundle, MAX_CHUNK_BYTES, sweepTransfers } from './transfer.js';
import { verifyBundle } from './verify.js';

export type PolicyAction =
  | 'loaded'
  | 'bundle-progress'
  | 'installed'
  | 'refused'
  | 'activated'
  | 'rolled-back'
  | 'shadow-started'
  | 'shadow-stopped';

/** A `policy` event body (the uplink adds the envelope). */
export interface PolicyEvent {
  readonly kind: 'policy';
  readonly action: PolicyAction;
  readonly policyVersion: string;
  readonly reason?: string;
  /** Stable code of a refusal (BUNDLE_*, POLICY_*, CONFIG_*). */
  readonly code?: string;
  /** The command this answers. */
  readonly commandId?: string;
  readonly transferId?: string;
  readonly count?: number;
  readonly receivedChunks?: number;
  readonly missingChunks?: number[];
}

/** The metrics' `shadow` field (docs/protocol.md). */
export interface ShadowMetrics {
  readonly policyVersion: string;
  readonly ticks: number;
  readonly divergenceMeanMps: number | null;
  readonly divergenceP95Mps: number | null;
  readonly wouldBeInterventionTicks: number;
  readonly wouldBeInterventionsByLayer: Readonly<Record<'sanity' | 'box' | 'barrier' | 'shield' | 'monitor', number>>;
}

/** The status' `policy` field. */
export interface PolicyStatus {
  readonly active: { readonly version: string; readonly sha256: string };
  readonly candidate?: { readonly version: string; readonly sha256: string };
  readonly previous?: { readonly version: string };
  readonly shadow?: string;
}

export interface RolloutAnswer {
  readonly result: 'accepted' | 'rejected' | 'failed';
  readonly reason?: string;
}

export type RolloutCommand = { readonly commandId: string } & (
  | {
      readonly kind: 'install-policy';
      readonly version: string;
      readonly sha256: string;
      readonly totalBytes: number;
      readonly url?: string;
      readonly transferId?: string;
    }
  | { readonly kind: 'activate-policy'; readonly version: string; readonly sha256?: string; readonly url?: string }
  | { readonly kind: 'shadow-policy'; readonly version: string; readonly enabled: boolean }
  | { readonly kind: 'revert-policy' }
);

/** What the manager needs of the onboard runtime (OnboardRuntime satisfies it). */
export interface RolloutHost {
  readonly policy: {
    readonly current: { readonly info: { readonly sha256: string } } | null;
    swap(source: ModelSource, options?: { label?: string }): Promise<SwapOutcome>;
  };
  readonly shield: { swap(source: ModelSource, options?: { label?: string }): Promise<SwapOutcome> } | null;
  readonly link: {
    readonly isUp: boolean;
    state(): Readonly<VehicleState>;
    readonly mavlink: Pick<MavlinkLink, 'send' | 'on'>;
    readonly tracker: { readonly autopilot: MavlinkSource | null };
  };
  readonly loop: {
    readonly currentMission: { readonly phase: MissionPhase; readonly outcome: unknown } | null;
    getAirspace(): Airspace;
    getNeighbours(): readonly Neighbour[];
  };
  readonly controlConfig: {
    readonly maxHorizontalSpeedMS: number;
    readonly maxUpSpeedMS: number;
    readonly maxDownSpeedMS: number;
    readonly policyDeadlineMs: number;
  };
  readonly safetyConfig: SafetyConfig;
  readonly clock: { nowMs(): number };
  onTick(listener: (r: TickReport) => void): () => void;
}

export interface RolloutOptions {
  /** The slot folder (--policy-dir). */
  readonly dir: string;
  readonly trustedKeys: readonly TrustedKey[];
  /** Flights a fresh activation is watched for (0: never reverted on the drone). */
  readonly probationFlights?: number;
  /** Consecutive policy faults that trip a probation. */
  readonly faultStreakTicks?: number;
  /** How long an install waits for its chunks before it is answered 'failed' (the chunks stay on disk). */
  readonly installTimeoutMs?: number;
  /** Quiet time after which the drone reports the chunks it still misses (ms). */
  readonly progressIdleMs?: number;
  /** HTTP basic auth for bundle URLs: the drone's MQTT login. */
  readonly http?: { readonly username?: string; readonly password?: string };
  /** Unix ms for records (default Date.now). */
  readonly nowMs?: () => number;
  readonly log?: Logger;
  /** The policy flown when no slot is active (the runtime's --policy; default: the shipped default policy). */
  readonly fallbackPolicyPath?: string;
  /** Tests only: crash points of the slot store. */
  readonly crashAt?: (point: CrashPoint) => void;
}

/** The files of the active slot a runtime is built with at start (its policy, shield, safety-filter configuration). */
export interface BootFiles {
  readonly policyPath: string | null;
  readonly shieldPath: string | null;
  readonly safety: Record<string, unknown> | null;
  readonly version: string | null;
}

/**
 * Open the slot folder (repairing it: see SlotStore.open) and name the active slot's files, so the runtime starts
 * with them; all null when no slot is active (the runtime flies --policy or the shipped default).
 */
export async function bootFiles(dir: string, log: Logger = componentLogger('rollout')): Promise<BootFiles> {
  const { store, report } = await SlotStore.open(dir);
  for (const d of report.dropped) log.error(d, 'policy slot dropped on open');
  const id = store.current.active;
  const info = store.info(id);
  if (id === null || !info) return { policyPath: null, shieldPath: null, safety: null, version: null };
  const has = (name: string) => info.parts.some((p) => p.name === name);
  let safety: Record<string, unknown> | null = null;
  if (has('filter.json')) {
    try {
      safety = JSON.parse((await store.readPart(id, 'filter.json')).toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      log.error(
        { err: (err as Error).message },
        'the active slot filter.json is unreadable: the configured filter flies',
      );
    }
  }
  return {
    policyPath: join(store.pathOf(id), 'policy.onnx'),
    shieldPath: has('shield.onnx') ? join(store.pathOf(id), 'shield.onnx') : null,
    safety,
    version: info.version,
  };
}

const landedAndDisarmed = (s: Readonly<VehicleState>): string | null => {
  if (s.armed) return 'the vehicle is armed';
  if (s.landedState !== 'on-ground') return `the vehicle is not landed (${s.landedState})`;
  return null;
};

/** Most missing indexes one progress event lists (the protocol's limit); the rest follow in later ones. */
const MAX_MISSING_REPORTED = 2048;

interface PendingInstall {
  readonly sha256: string;
  readonly transferId: string;
  deliver(bytes: Buffer): void;
}

export class RolloutManager {
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private sink: (e: PolicyEvent) => void = () => {};
  private readonly pending = new Map<string, PendingInstall>();
  private readonly pendingTimers = new Map<string, NodeJS.Timeout>();
  private readonly installsInFlight = new Set<Promise<void>>();
  private readonly transfers = new Map<string, ChunkTransfer>();
  private readonly transferQueues = new Map<string, Promise<unknown>>();
  private readonly lastChunkAtMs = new Map<string, number>();
  private shadow: ShadowRunner | null = null;
  private readonly watch: TripWatch;
  private readonly flights = new FlightCounter();
  private detach: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reverting = false;
  private busy: Promise<unknown> = Promise.resolve();
  private readonly probationFlights: number;
  private fallbackSha: string | null = null;

  private constructor(
    private readonly host: RolloutHost,
    readonly store: SlotStore,
    private readonly o: RolloutOptions,
  ) {
    this.log = o.log ?? componentLogger('rollout');
    this.nowMs = o.nowMs ?? Date.now;
    this.watch = new TripWatch({ faultStreakTicks: o.faultStreakTicks ?? 25 });
    this.probationFlights = o.probationFlights ?? 3;
  }

  /**
   * Open the slot folder and fly its active slot (the runtime was created with the default policy or --policy): a
   * slot that no longer loads is dropped and the policy the runtime has keeps flying.
   */
  static async open(host: RolloutHost, o: RolloutOptions): Promise<RolloutManager> {
    const { store, report } = await SlotStore.open(o.dir, o.crashAt ? { crashAt: o.crashAt } : {});
    const m = new RolloutManager(host, store, o);
    for (const d of report.dropped) m.log.error(d, 'policy slot dropped on open');
    m.fallbackSha = await readFile(m.fallbackPath).then(sha256, () => null);
    await sweepTransfers(join(o.dir, 'transfers'), m.nowMs(), 7 * 24 * 3600_000);
    const active = store.current.active;
    const running = host.policy.current?.info.sha256 ?? null;
    if (active !== null && store.info(active)?.policySha256 !== running) {
      const r = await m.swapTo(active);
      if (!r.ok) m.log.error({ slot: active, reason: r.reason }, 'active slot does not load: the default policy flies');
      else m.log.info({ version: store.info(active)?.version }, 'flying the active slot');
    }
    return m;
  }

  /** Where policy events go (the uplink's publishEvent); before this, they are only logged. */
  setEventSink(sink: (e: PolicyEvent) => void): void {
    this.sink = sink;
    const st = this.status();
    sink({ kind: 'policy', action: 'loaded', policyVersion: st.active.version });
  }

  start(): void {
    if (this.detach) return;
    this.detach = this.host.onTick((r) => this.onTick(r));
    const idleMs = this.o.progressIdleMs ?? 2000;
    this.timer = setInterval(() => this.reportIdleTransfers(idleMs), Math.max(100, idleMs / 2));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.detach?.();
    this.detach = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.pendingTimers.values()) clearTimeout(t);
    await this.stopShadow();
    await this.busy.catch(() => undefined);
  }

  /** The status' `policy` field. */
  status(): PolicyStatus {
    const s = this.store.current;
    const runningSha = this.host.policy.current?.info.sha256 ?? '';
    // What flies, as it is: a slot that did not load at start is not reported as active.
    const slot = this.store.info(s.active);
    const activeInfo = slot && slot.policySha256 === runningSha ? slot : null;
    const active = activeInfo
      ? { version: activeInfo.version, sha256: activeInfo.sha256 }
      : { version: runningSha ? policyVersionFromSha256(runningSha) : 'none', sha256: runningSha || '0'.repeat(64) };
    const cand = this.store.info(s.candidate);
    const prevVersion =
      s.previous === DEFAULT_SLOT ? this.defaultVersion : (this.store.info(s.previous)?.version ?? null);
    return {
      active,
      ...(cand ? { candidate: { version: cand.version, sha256: cand.sha256 } } : {}),
      ...(prevVersion ? { previous: { version: prevVersion } } : {}),
      ...(this.shadow ? { shadow: this.shadow.version } : {}),
    };
  }

  /** The shadow statistics of the window that closes now, with its skipped ticks and faults (null: no shadow ran). */
  closeShadowWindow(): ShadowWindow | null {
    return this.shadow?.stats.close(this.shadow.version) ?? null;
  }

  /** The metrics' `shadow` field for the window that closes now (null when no shadow ran in it). */
  shadowMetrics(): ShadowMetrics | null {
    const w = this.closeShadowWindow();
    if (!w) return null;
    const l = w.wouldBeInterventionsByLayer;
    return {
      policyVersion: w.policyVersion,
      ticks: w.ticks,
      divergenceMeanMps: w.ticks > 0 ? w.divergenceMeanMps : null,
      divergenceP95Mps: w.ticks > 0 ? w.divergenceP95Mps : null,
      wouldBeInterventionTicks: w.wouldBeInterventionTicks,
      wouldBeInterventionsByLayer: { sanity: l.sanity, box: l.box, barrier: l.barrier, shield: 0, monitor: 0 },
    };
  }

  get shadowRunner(): ShadowRunner | null {
    return this.shadow;
  }

  /**
   * Apply a policy command; the answer comes once done. An install is answered at once (the transfer started) and
   * its outcome follows as a policy event ('installed' or 'refused' with the reason). Never rejects.
   */
  command(cmd: RolloutCommand): Promise<RolloutAnswer> {
    const run = async (): Promise<RolloutAnswer> => {
      try {
        switch (cmd.kind) {
          case 'install-policy':
            return this.install(cmd);
          case 'activate-policy':
            if (cmd.url !== undefined)
              return { result: 'rejected', reason: 'activation by url is not taken: install a signed bundle first' };
            return await this.serial(() => this.activate(cmd.version, cmd.sha256, cmd.commandId));
          case 'shadow-policy':
            return await this.serial(() => (cmd.enabled ? this.startShadow(cmd.version) : this.stopShadowCmd()));
          case 'revert-policy':
            return await this.serial(() => this.revert('asked by the station', true, cmd.commandId));
        }
      } catch (err) {
        return { result: 'failed', reason: err instanceof Error ? err.message : String(err) };
      }
    };
    return run();
  }

  /** One BUNDLE_CHUNK. Never throws; a bad chunk is dropped (it stays missing in the next progress). */
  chunk(c: ChunkIn): Promise<void> {
    return this.onTransfer(c.transferId, () => this.onChunk(c));
  }

  /** The uplink came back: tell the station what each open transfer still misses. */
  onReconnect(): void {
    for (const t of this.transfers.values()) if (!t.complete) this.progress(t);
  }

  // --- install ---

  private install(cmd: {
    commandId: string;
    version: string;
    sha256: string;
    totalBytes: number;
    url?: string;
    transferId?: string;
  }): RolloutAnswer {
    const s = this.store.current;
    for (const [slot, id] of [
      ['active', s.active],
      ['candidate', s.candidate],
    ] as const) {
      const info = this.store.info(id);
      if (info && info.sha256 === cmd.sha256) {
        const reason = `already installed (${slot})`;
        this.sink({
          kind: 'policy',
          action: 'installed',
          policyVersion: info.version,
          reason,
          commandId: cmd.commandId,
        });
        return { result: 'accepted', reason };
      }
    }
    if (this.pending.has(cmd.sha256)) return { result: 'accepted', reason: 'already being installed' };
    const transferId = cmd.transferId ?? cmd.sha256;
    let deliver: (b: Buffer) => void = () => {};
    const timeoutMs = this.o.installTimeoutMs ?? 600_000;
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
        this.log.warn({ version: cmd.version, reason: b }, 'bundle transfer failed');
        this.sink({
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
      await this.serial(() => this.verifyAndStore(b, cmd.version, cmd.commandId));
    });
    void done
      .catch((err: unknown) => {
        const reason = `install failed: ${err instanceof Error ? err.message : String(err)}`;
        this.log.error({ version: cmd.version, reason }, 'install failed');
        this.sink({ kind: 'policy', action: 'refused', policyVersion: cmd.version, reason, commandId: cmd.commandId });
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
        t = await ChunkTransfer.open(join(this.o.dir, 'transfers'), {
          transferId,
          version: cmd.version,
          sha256: cmd.sha256,
          totalBytes: cmd.totalBytes,
          count: Math.ceil(cmd.totalBytes / MAX_CHUNK_BYTES),
          startedAtMs: this.nowMs(),
        });
        this.transfers.set(transferId, t);
      }
      // Incomplete: the station's chunks follow the command; what still misses is reported after a quiet spell.
      this.lastChunkAtMs.set(transferId, this.nowMs());
      if (t.complete) await this.finishTransfer(t);
    });
  }

  private onTransfer(transferId: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.transferQueues.get(transferId) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => {
      this.log.warn({ err: err instanceof Error ? err.message : String(err), transferId }, 'transfer step failed');
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
        username: this.o.http?.username,
        password: this.o.http?.password,
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
      this.log.warn({ transferId: c.transferId, index: c.index, problem }, 'chunk refused');
      return;
    }
    const root = join(this.o.dir, 'transfers');
    let t = this.transfers.get(c.transferId);
    if (!t || t.meta.sha256 !== c.sha256) {
      t = await ChunkTransfer.open(root, {
        transferId: c.transferId,
        version: c.version,
        sha256: c.sha256,
        totalBytes: c.totalBytes,
        count: c.count,
        startedAtMs: this.nowMs(),
      });
      this.transfers.set(c.transferId, t);
      if (t.received > 0) this.log.info({ transferId: c.transferId, have: t.received }, 'transfer resumed from disk');
    }
    this.lastChunkAtMs.set(c.transferId, this.nowMs());
    const r = await t.accept(c);
    if (!r.ok) {
      this.log.warn({ transferId: c.transferId, index: c.index, reason: r.reason }, 'chunk refused');
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
      this.log.warn({ transferId: t.meta.transferId, reason: a.reason }, 'assembled bundle refused');
      this.progress(t, a.reason);
      return;
    }
    this.transfers.delete(t.meta.transferId);
    this.lastChunkAtMs.delete(t.meta.transferId);
    const p = this.pending.get(t.meta.sha256);
    this.progress(t);
    if (p) {
      p.deliver(a.bytes);
      await t.remove();
    }
    // Without an install command yet the chunks stay on disk until it comes (resumeTransfer finds them).
  }

  private progress(t: ChunkTransfer, reason?: string): void {
    this.sink({
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

  private reportIdleTransfers(idleMs: number): void {
    const now = this.nowMs();
    for (const [id, t] of this.transfers) {
      if (t.complete) continue;
      const last = this.lastChunkAtMs.get(id) ?? 0;
      if (now - last >= idleMs) {
        this.progress(t);
        this.lastChunkAtMs.set(id, now);
      }
    }
  }

  private async verifyAndStore(bytes: Buffer, claimedVersion: string, commandId: string): Promise<RolloutAnswer> {
    const v = await verifyBundle(bytes, {
      trustedKeys: this.o.trustedKeys,
      readParams: async (names) => {
        const target = this.host.link.tracker.autopilot;
        if (!this.host.link.isUp || target === null) return null;
        return readPx4Params(this.host.link.mavlink, target, names);
      },
    });
    if (!v.ok) {
      const reason = `${v.code}: ${v.reason}`;
      this.log.warn({ version: claimedVersion, step: v.step, code: v.code, reason: v.reason }, 'bundle refused');
      this.sink({
        kind: 'policy',
        action: 'refused',
        policyVersion: claimedVersion,
        code: v.code,
        reason: v.reason.slice(0, 1024),
        commandId,
      });
      return { result: 'rejected', reason };
    }
    const b = v.bundle;
    if (b.version !== claimedVersion) {
      const reason = `the bundle is version ${b.version}, the install named ${claimedVersion}`;
      this.sink({
        kind: 'policy',
        action: 'refused',
        policyVersion: claimedVersion,
        code: 'BUNDLE_MALFORMED',
        reason,
        commandId,
      });
      return { result: 'rejected', reason };
    }
    if (this.shadow && this.shadow.version !== b.version) await this.stopShadow('the candidate was replaced');
    const parts: Record<string, Uint8Array> = { 'policy.onnx': b.policy };
    if (b.shield) parts['shield.onnx'] = b.shield;
    if (b.filterConfig !== undefined) parts['filter.json'] = Buffer.from(JSON.stringify(b.filterConfig, null, 2));
    const info: SlotInfo = {
      version: b.version,
      sha256: b.sha256,
      policySha256: b.manifest.parts.find((p) => p.name === 'policy.onnx')?.sha256 ?? '',
      parts: Object.entries(parts).map(([name, data]) => ({
        name,
        sha256: sha256(data),
        bytes: data.length,
      })),
      installedAtMs: this.nowMs(),
    };
    const files: BundleFiles = { info, bundle: bytes, manifest: b.manifest, parts };
    await this.store.installCandidate(files);
    this.log.info({ version: b.version, keyId: b.keyId }, 'bundle installed as candidate');
    this.sink({ kind: 'policy', action: 'installed', policyVersion: b.version, commandId });
    return { result: 'accepted' };
  }

  // --- activation, revert ---

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private groundedReason(): string | null {
    const why = landedAndDisarmed(this.host.link.state());
    if (why) return why;
    const mission = this.host.loop.currentMission;
    if (mission && mission.outcome === null && mission.phase !== 'idle' && mission.phase !== 'done')
      return `a delivery is in progress (phase ${mission.phase})`;
    return null;
  }

  private get defaultVersion(): string {
    return this.fallbackSha ? policyVersionFromSha256(this.fallbackSha) : 'default';
  }

  private get fallbackPath(): string {
    return this.o.fallbackPolicyPath ?? defaultPolicyPath();
  }

  /** Load a slot's policy (and shield when the runtime has a shield slot) into the runtime. */
  private async swapTo(id: string | null): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (id === null || id === DEFAULT_SLOT) {
      const r = await this.host.policy.swap(this.fallbackPath);
      return r.ok ? { ok: true } : { ok: false, reason: r.message };
    }
    const info = this.store.info(id);
    const bytes = await this.store.readPart(id, 'policy.onnx').catch(() => null);
    if (!bytes || !info) return { ok: false, reason: `slot ${id} has no policy` };
    const r = await this.host.policy.swap(bytes, { label: `${info.version}/policy.onnx` });
    if (!r.ok) return { ok: false, reason: r.message };
    if (this.host.shield && info.parts.some((p) => p.name === 'shield.onnx')) {
      const shield = await this.store.readPart(id, 'shield.onnx');
      const s = await this.host.shield.swap(shield, { label: `${info.version}/shield.onnx` });
      if (!s.ok) this.log.warn({ reason: s.message }, 'the bundle shield does not load: the current shield stays');
    }
    return { ok: true };
  }

  private async activate(version: string, sha: string | undefined, commandId: string): Promise<RolloutAnswer> {
    const why = this.groundedReason();
    if (why) return { result: 'rejected', reason: `activation only while landed and disarmed: ${why}` };
    const s = this.store.current;
    const cand = this.store.info(s.candidate);
    if (!cand || s.candidate === null) return { result: 'rejected', reason: 'no candidate installed' };
    if (cand.version !== version || (sha !== undefined && sha !== cand.sha256 && sha !== cand.policySha256))
      return { result: 'rejected', reason: `the installed candidate is ${cand.version}, not this ${version}` };
    if (this.shadow?.version === cand.version) await this.stopShadow('the candidate was activated');
    const swapped = await this.swapTo(s.candidate);
    if (!swapped.ok) {
      this.sink({
        kind: 'policy',
        action: 'refused',
        policyVersion: version,
        code: 'POLICY_LOAD_FAILED',
        reason: swapped.reason.slice(0, 1024),
        commandId,
      });
      return { result: 'rejected', reason: `the candidate does not load: ${swapped.reason}` };
    }
    try {
      await this.store.activateCandidate(this.nowMs(), this.probationFlights);
    } catch (err) {
      // The slots did not change: fly what they say again.
      await this.swapTo(s.active);
      throw err;
    }
    this.watch.reset();
    const later = cand.parts.some((p) => p.name === 'filter.json')
      ? 'the bundle safety-filter configuration applies from the next start'
      : undefined;
    this.log.info({ version }, 'policy activated');
    this.sink({
      kind: 'policy',
      action: 'activated',
      policyVersion: version,
      commandId,
      ...(later ? { reason: later } : {}),
    });
    return { result: 'accepted', ...(later ? { reason: later } : {}) };
  }

  private async revert(reason: string, byStation: boolean, commandId?: string): Promise<RolloutAnswer> {
    const s = this.store.current;
    if (s.previous === null) return { result: 'rejected', reason: 'no previous policy to revert to' };
    if (byStation) {
      const why = this.groundedReason();
      if (why) return { result: 'rejected', reason: `revert only while landed and disarmed: ${why}` };
    }
    const from = this.store.info(s.active)?.version ?? this.status().active.version;
    const swapped = await this.swapTo(s.previous);
    if (!swapped.ok) return { result: 'failed', reason: `the previous policy does not load: ${swapped.reason}` };
    await this.store.revertToPrevious();
    this.watch.reset();
    this.log.warn({ from, to: this.status().active.version, reason }, 'policy rolled back');
    this.sink({
      kind: 'policy',
      action: 'rolled-back',
      policyVersion: from,
      reason: reason.slice(0, 1024),
      ...(commandId ? { commandId } : {}),
    });
    return { result: 'accepted' };
  }

  // --- shadow ---

  private async startShadow(version: string): Promise<RolloutAnswer> {
    const id = this.store.current.candidate;
    const cand = this.store.info(id);
    if (!cand || id === null || cand.version !== version)
      return { result: 'rejected', reason: `no candidate ${version} installed` };
    if (this.shadow?.version === version) return { result: 'accepted', reason: 'already in shadow' };
    await this.stopShadow('another candidate in shadow');
    const bytes = await this.store.readPart(id, 'policy.onnx');
    const runner = await loadPolicy(bytes, { label: `shadow:${version}` });
    const c = this.host.controlConfig;
    const limits: SpeedLimitsMS = {
      maxHorizontalMS: c.maxHorizontalSpeedMS,
      maxUpMS: c.maxUpSpeedMS,
      maxDownMS: c.maxDownSpeedMS,
    };
    this.shadow = new ShadowRunner({
      runner,
      version,
      limits,
      safety: this.host.safetyConfig,
      deadlineMs: c.policyDeadlineMs,
    });
    this.sink({ kind: 'policy', action: 'shadow-started', policyVersion: version });
    return { result: 'accepted' };
  }

  private async stopShadowCmd(): Promise<RolloutAnswer> {
    if (!this.shadow) return { result: 'accepted', reason: 'no shadow running' };
    await this.stopShadow('asked by the station');
    return { result: 'accepted' };
  }

  private async stopShadow(why?: string): Promise<void> {
    const sh = this.shadow;
    if (!sh) return;
    this.shadow = null;
    await sh.stop();
    const t = sh.stats.totals;
    const summary =
      `${why ? `${why}; ` : ''}${t.ticks} ticks, mean divergence ${sh.stats.meanDivergenceMps.toFixed(3)} m/s, ` +
      `${t.interventionTicks} would-be intervention ticks, ${t.faults} faults`;
    this.sink({ kind: 'policy', action: 'shadow-stopped', policyVersion: sh.version, reason: summary });
  }

  // --- every tick (after the setpoint went out) ---

  private onTick(r: TickReport): void {
    try {
      const state = this.host.link.state();
      const sh = this.shadow;
      const f = this.flights.observe(state.armed);
      if (f.started) {
        sh?.resetFlight();
        this.watch.reset();
      }
      if (sh && r.policy !== null && r.observation !== null) {
        const nowMs = this.host.clock.nowMs();
        sh.observe({
          timeUs: r.timeUs,
          observation: Float32Array.from(r.observation),
          activeAction: r.policy.ok ? Float32Array.from(r.policy.action) : null,
          vehicle: safetyVehicle(state as VehicleState, nowMs),
          airspace: this.host.loop.getAirspace(),
          neighbours: this.host.loop.getNeighbours(),
          phase: safetyPhase(r.phase),
        });
      }
      const p = this.store.current.probation;
      if (p === null || this.reverting) return;
      if (p.tripped === null) {
        const trip = this.watch.observe(r);
        if (trip) {
          this.log.warn({ reason: trip }, 'the new policy tripped the monitor on probation: reverting once landed');
          void this.serial(() => this.store.setProbation({ ...p, tripped: trip }));
          return;
        }
      }
      if (f.ended && p.tripped === null) {
        const flights = p.flights + 1;
        void this.serial(() => this.store.setProbation(flights >= p.limit ? null : { ...p, flights }));
      }
      if (p.tripped !== null && landedAndDisarmed(state) === null) {
        this.reverting = true;
        const reason = `tripped on probation (flight ${p.flights + 1} of ${p.limit}): ${p.tripped}`;
        void this.serial(() => this.revert(reason, false))
          .then((a) => {
            if (a.result !== 'accepted') this.log.error({ reason: a.reason }, 'automatic revert failed');
          })
          .finally(() => {
            this.reverting = false;
          });
      }
    } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'rollout tick failed');
    }
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
