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
import { componentLogger, type Logger } from '../../shared/log/index.js';
import { policyVersionFromSha256 } from '../../shared/protocol/index.js';
import type { TickReport } from '../control/index.js';
import { safetyPhase, safetyVehicle } from '../control/index.js';
import type { VehicleState } from '../link/index.js';
import { defaultPolicyPath, loadPolicy } from '../policy/index.js';
import { FlightCounter, TripWatch } from './probation.js';
import { readPx4Params } from './px4-params.js';
import { BundleReceiver } from './receiver.js';
import { ShadowRunner, type ShadowWindow, type SpeedLimitsMS } from './shadow.js';
import { type BundleFiles, DEFAULT_SLOT, type SlotInfo, SlotStore } from './slots.js';
import type { ChunkIn } from './transfer.js';
import { sweepTransfers } from './transfer.js';
import type {
  PolicyEvent,
  PolicyStatus,
  RolloutAnswer,
  RolloutCommand,
  RolloutHost,
  RolloutOptions,
  ShadowMetrics,
} from './types.js';
import { verifyBundle } from './verify.js';

const landedAndDisarmed = (s: Readonly<VehicleState>): string | null => {
  if (s.armed) return 'the vehicle is armed';
  if (s.landedState !== 'on-ground') return `the vehicle is not landed (${s.landedState})`;
  return null;
};

export class RolloutManager {
  private readonly log: Logger;
  private readonly nowMs: () => number;
  private sink: (e: PolicyEvent) => void = () => {};
  private readonly receiver: BundleReceiver;
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
    this.receiver = new BundleReceiver({
      dir: o.dir,
      installTimeoutMs: o.installTimeoutMs,
      http: o.http,
      nowMs: this.nowMs,
      log: this.log,
      emit: (e) => this.sink(e),
      installed: (sha) => {
        const s = this.store.current;
        for (const slot of ['active', 'candidate'] as const) {
          const info = this.store.info(s[slot]);
          if (info && info.sha256 === sha) return { slot, version: info.version };
        }
        return null;
      },
      accept: (bytes, version, commandId) => this.serial(() => this.verifyAndStore(bytes, version, commandId)),
    });
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
    this.timer = setInterval(() => this.receiver.reportIdle(idleMs), Math.max(100, idleMs / 2));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.detach?.();
    this.detach = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.receiver.stop();
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
            return this.receiver.install(cmd);
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
    return this.receiver.chunk(c);
  }

  /** The uplink came back: tell the station what each open transfer still misses. */
  onReconnect(): void {
    this.receiver.onReconnect();
  }

  /** Wait until every install in flight is installed or refused (tests, stop). */
  settled(): Promise<void> {
    return this.receiver.settled();
  }

  // --- verification ---

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
