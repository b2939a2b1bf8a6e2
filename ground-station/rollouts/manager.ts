/**
 * The station's rollout manager: starts a rollout, feeds it the drones' metrics windows, runs the state machine and
 * the drone actions on its own timer, persists every change (the whole document, plus the transition log) and
 * resumes the newest rollout after a restart; operators promote, pause, resume and abort. I/O sits behind ports
 * (store, fleet view, drone actions, policy registry, update hook); the decisions are the pure machine's.
 * Only one rollout is live at a time; the newest one, live or finished, keeps its drones where it left them (a drone
 * that was offline at a rollback is reverted when it comes back).
 */
import { randomBytes } from 'node:crypto';
import type { Result } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import type { RolloutStore } from '../storage/index.js';
import { windowFromMetrics } from './analysis/index.js';
import { type DroneAction, type DronePolicyView, planDroneActions } from './drone-actions.js';
import { createRollout, evaluate, ingestWindow, type ManualAction, manual, rollBack } from './machine.js';
import {
  isTerminal,
  type Rollout,
  type RolloutState,
  rolloutView,
  START_ROLLOUT_SCHEMA,
  type Transition,
} from './rollout.js';

/** A drone as the station's registry knows it (the manager adds the policy slots it heard of). */
export interface FleetDrone {
  readonly id: string;
  readonly online: boolean;
  readonly landed: boolean;
  readonly armed: boolean;
  /** The version the drone flies (its telemetry's or birth's). */
  readonly policyVersion: string | null;
  /** Slots from the birth, when the drone reports them. */
  readonly slots?: { candidate?: string | null; shadow?: string | null };
}

/** How the station acts on one drone; a failure is retried after `retryMs`. */
export interface RolloutDronePort {
  install(droneId: string, version: string, nowMs: number): Promise<Result<void, string>>;
  shadow(droneId: string, version: string, enabled: boolean, nowMs: number): Promise<Result<void, string>>;
  activate(droneId: string, version: string, nowMs: number): Promise<Result<void, string>>;
  revert(droneId: string, nowMs: number): Promise<Result<void, string>>;
}

/** The policy registry, when the station has one: versions' hashes, and their state as the rollout moves. */
export interface RolloutPolicies {
  lookup(version: string): Promise<{ version: string; sha256: string } | null>;
  setState?(
    version: string,
    state: 'shadow' | 'canary' | 'active' | 'retired' | 'rolled-back',
    reason: string,
    nowMs: number,
  ): Promise<void>;
}

export interface RolloutManagerDeps {
  readonly store: RolloutStore;
  readonly fleet: () => readonly FleetDrone[];
  readonly drones: RolloutDronePort;
  readonly policies?: RolloutPolicies;
  readonly clock: () => number;
  readonly logger: Logger;
  /** Called with the rollout's view after every change (the dashboard's stream). */
  readonly onUpdate?: (view: Record<string, unknown> & { id: string }) => void;
  /** Timer period (ms); default 1000. */
  readonly intervalMs?: number;
  /** Resend an action whose effect has not shown after this long (ms); default 30 000. */
  readonly retryMs?: number;
}

export type RolloutError =
  | { code: 'invalid-request'; message: string; issues: { path: string; message: string }[] }
  | { code: 'not-found'; message: string }
  | { code: 'conflict'; message: string };

/** Policy events the manager reacts to (the protocol's `policy` event). */
export interface PolicyEventInput {
  readonly id: string;
  readonly action: string;
  readonly policyVersion: string;
  readonly reason?: string;
  readonly code?: string;
}

export interface AckInput {
  readonly commandId: string;
  readonly kind?: string;
  readonly result: string;
  readonly reason?: string;
}

/** Metrics message fields the analysis reads (the protocol's metrics message fits). */
export interface MetricsInput {
  readonly id: string;
  readonly timeMs: number;
  readonly episodes: number;
  readonly successes: number;
  readonly returnSum: number;
  readonly ticks: number;
  readonly policyTicks: number;
  readonly interventionsByLayer: Readonly<Record<string, number>>;
  readonly violations: number;
  readonly policyFaults: number;
  readonly policyVersion: string;
  readonly shadow?: {
    readonly policyVersion: string;
    readonly ticks: number;
    readonly wouldBeInterventionTicks: number;
    readonly divergenceMeanMps: number | null;
  };
}

interface SlotState {
  candidate: string | null;
  shadow: string | null;
  active: string | null;
}

const KEEP_IN_MEMORY = 50;
/** A drone that refused an action for now (not landed yet, delivery in progress) is asked again this soon (ms). */
const REFUSED_RETRY_MS = 2000;

export class RolloutManager {
  private readonly deps: RolloutManagerDeps;
  private readonly retryMs: number;
  /** Newest first. */
  private rollouts: Rollout[] = [];
  private readonly persistedHistory = new Map<string, number>();
  private readonly slots = new Map<string, SlotState>();
  private dirty = new Set<string>();
  private serial: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private switching: ReadonlySet<string> = new Set();
  readonly stats = { ticks: 0, actionsSent: 0, actionFailures: 0, windowsCounted: 0 };

  constructor(deps: RolloutManagerDeps) {
    this.deps = deps;
    this.retryMs = deps.retryMs ?? 30_000;
  }

  /** Load the recent rollouts from the store; the newest resumes where it was. */
  async restore(): Promise<void> {
    const records = await this.deps.store.listRollouts({ limit: KEEP_IN_MEMORY });
    this.rollouts = records.map((rec) => rec.document as Rollout).filter((r) => r && typeof r.id === 'string');
    for (const r of this.rollouts) this.persistedHistory.set(r.id, r.history.length);
    const live = this.current();
    if (live && !isTerminal(live.state)) {
      this.deps.logger.info({ rollout: live.id, state: live.state, step: live.stepIndex }, 'rollout resumed');
    }
  }

  /** Run tick() every intervalMs until stop(). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = true;
      void this.tick(this.deps.clock())
        .catch((err) => this.deps.logger.error({ err: (err as Error).message }, 'rollout tick failed'))
        .finally(() => {
          this.ticking = false;
        });
    }, this.deps.intervalMs ?? 1000);
  }

  /** Stop the timer and store what changed since the last tick (windows counted meanwhile are not lost). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.run(async () => {
      const r = this.current();
      if (r && this.dirty.has(r.id)) await this.commit(r, this.deps.clock());
    });
  }

  /** Wait for queued operations. */
  async idle(): Promise<void> {
    await this.serial.catch(() => undefined);
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.serial.then(fn, fn);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /** The newest rollout (live or finished), if any. */
  private current(): Rollout | undefined {
    return this.rollouts[0];
  }

  list(): (Record<string, unknown> & { id: string })[] {
    return this.rollouts.map(rolloutView);
  }

  async get(id: string): Promise<(Record<string, unknown> & { id: string }) | null> {
    const r = this.rollouts.find((x) => x.id === id);
    if (r) return rolloutView(r);
    const rec = await this.deps.store.getRollout(id);
    return rec ? rolloutView(rec.document as Rollout) : null;
  }

  /** The drones the current live rollout puts on the candidate (the assignment gives them lower-risk orders). */
  canaryDrones(): ReadonlySet<string> {
    const r = this.current();
    if (!r || isTerminal(r.state) || r.share >= 1) return new Set();
    return new Set(
      Object.entries(r.drones)
        .filter(([, arm]) => arm === 'candidate')
        .map(([id]) => id),
    );
  }

  /**
   * Drones whose active policy is about to change (the switch sent, or waiting for them to land): the dispatcher
   * gives them no new order meanwhile, so a switch is not put off by the next delivery.
   */
  switchingDrones(): ReadonlySet<string> {
    return this.switching;
  }

  // ---- operator actions ----

  startRollout(body: unknown): Promise<Result<Record<string, unknown> & { id: string }, RolloutError>> {
    return this.run(() => this.startNow(body));
  }

  private async startNow(body: unknown): Promise<Result<Record<string, unknown> & { id: string }, RolloutError>> {
    const nowMs = this.deps.clock();
    const parsed = START_ROLLOUT_SCHEMA.safeParse(body ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
      const message = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      return { ok: false, reason: { code: 'invalid-request', message, issues } };
    }
    const req = parsed.data;
    const live = this.current();
    if (live && !isTerminal(live.state)) {
      return {
        ok: false,
        reason: { code: 'conflict', message: `rollout ${live.id} is ${live.state}; abort it first` },
      };
    }
    const fleet = this.deps.fleet();
    const online = fleet.filter((d) => d.online).map((d) => d.id);
    const baseline = req.baseline ?? mostFlown(fleet);
    if (!baseline) {
      return {
        ok: false,
        reason: { code: 'conflict', message: 'no online drone reports a policy: name the baseline' },
      };
    }
    if (baseline === req.candidate) {
      return {
        ok: false,
        reason: {
          code: 'invalid-request',
          message: `candidate and baseline are both ${baseline}`,
          issues: [{ path: 'candidate', message: 'the fleet already flies this version' }],
        },
      };
    }
    let sha256: string | null = null;
    if (this.deps.policies) {
      const found = await this.deps.policies.lookup(req.candidate);
      if (!found)
        return { ok: false, reason: { code: 'not-found', message: `no policy ${req.candidate} in the registry` } };
      sha256 = found.sha256;
    }
    if (online.length < 2 && req.mode === 'ab') {
      return { ok: false, reason: { code: 'conflict', message: 'an A/B rollout needs at least two online drones' } };
    }
    const id = `ro_${nowMs.toString(36)}${randomBytes(3).toString('hex')}`;
    const r = createRollout({ id, request: req, baseline, candidateSha256: sha256, online, nowMs });
    this.rollouts.unshift(r);
    this.rollouts.length = Math.min(this.rollouts.length, KEEP_IN_MEMORY);
    this.persistedHistory.set(id, 0);
    this.deps.logger.info(
      { rollout: id, candidate: r.candidate, baseline, mode: r.mode, state: r.state },
      'rollout started',
    );
    await this.commit(r, nowMs);
    return { ok: true, value: rolloutView(r) };
  }

  act(
    id: string,
    action: ManualAction,
    by = 'operator',
  ): Promise<Result<Record<string, unknown> & { id: string }, RolloutError>> {
    return this.run(async () => {
      const nowMs = this.deps.clock();
      const r = this.rollouts.find((x) => x.id === id);
      if (!r) return { ok: false, reason: { code: 'not-found', message: `no rollout ${id}` } };
      const refused = manual(r, action, this.onlineIds(), nowMs, by);
      if (refused !== null) return { ok: false, reason: { code: 'conflict', message: refused } };
      this.deps.logger.info({ rollout: id, action, state: r.state }, 'rollout action');
      await this.commit(r, nowMs);
      return { ok: true, value: rolloutView(r) };
    });
  }

  // ---- what the drones say ----

  /** A drone's metrics window (station handlers call this once per new window). */
  onMetrics(m: MetricsInput, nowMs: number): void {
    const r = this.current();
    if (!r || isTerminal(r.state)) return;
    const shadow = m.shadow;
    if (ingestWindow(r, windowFromMetrics(m), shadow, nowMs)) {
      this.stats.windowsCounted++;
      this.dirty.add(r.id);
    }
  }

  /** A birth: the drone's policy slots when it reports them. */
  onBirth(b: {
    id: string;
    policyVersion: string;
    policy?: { active?: { version: string }; candidate?: { version: string }; shadow?: string };
  }): void {
    if (!b.policy) {
      const s = this.slot(b.id);
      s.active = b.policyVersion;
      return;
    }
    this.slots.set(b.id, {
      active: b.policy.active?.version ?? b.policyVersion,
      candidate: b.policy.candidate?.version ?? null,
      shadow: b.policy.shadow ?? null,
    });
  }

  /** A `policy` event: installed, refused, activated, rolled-back, shadow-started/stopped. */
  onPolicyEvent(e: PolicyEventInput, nowMs: number): void {
    const s = this.slot(e.id);
    const r = this.current();
    switch (e.action) {
      case 'installed':
        s.candidate = e.policyVersion;
        break;
      case 'activated':
        s.active = e.policyVersion;
        if (s.candidate === e.policyVersion) s.candidate = null;
        if (s.shadow === e.policyVersion) s.shadow = null;
        break;
      case 'shadow-started':
        s.shadow = e.policyVersion;
        break;
      case 'shadow-stopped':
        s.shadow = null;
        break;
      case 'rolled-back': {
        if (s.active === e.policyVersion) s.active = null;
        // A drone that reverted the candidate by itself (its monitor tripped): the whole fleet goes back.
        if (r && !isTerminal(r.state) && r.state !== 'paused' && r.drones[e.id] === 'candidate') {
          if (r.pending[e.id]?.kind !== 'revert') {
            void this.run(async () => {
              if (isTerminal(r.state)) return;
              rollBack(r, nowMs, `drone ${e.id} reverted the candidate itself${e.reason ? `: ${e.reason}` : ''}`);
              await this.commit(r, nowMs);
            });
          }
        }
        break;
      }
      case 'refused':
        if (r && e.policyVersion === r.candidate) {
          // A bundle the drone will never take (signature, hash, contract, parameters): leave it on the baseline.
          if (e.code?.startsWith('BUNDLE_')) this.refuse(r, e.id, `${e.code}${e.reason ? `: ${e.reason}` : ''}`, nowMs);
          else this.retrySoon(r, e.id, nowMs);
          this.dirty.add(r.id);
        }
        break;
    }
  }

  /** A command ack: a drone that does not support rollouts stays on the baseline; a refusal is retried later. */
  onAck(droneId: string, ack: AckInput, nowMs: number): void {
    const r = this.current();
    if (!r?.pending[droneId]) return;
    if (!ack.kind || !['install-policy', 'shadow-policy', 'activate-policy', 'revert-policy'].includes(ack.kind))
      return;
    if (ack.result === 'unsupported') {
      this.refuse(r, droneId, `${ack.kind} unsupported by the drone`, nowMs);
    } else if (ack.result === 'rejected' || ack.result === 'failed') {
      // Usually "not landed and disarmed yet" or "delivery in progress": ask again soon, not after the full retry.
      this.retrySoon(r, droneId, nowMs);
      this.deps.logger.info(
        { rollout: r.id, droneId, kind: ack.kind, reason: ack.reason },
        'drone refused a rollout action',
      );
    }
    this.dirty.add(r.id);
  }

  /** Let the pending action of a drone that refused it for now be sent again after REFUSED_RETRY_MS. */
  private retrySoon(r: Rollout, droneId: string, nowMs: number): void {
    const p = r.pending[droneId];
    if (p) r.pending[droneId] = { ...p, atMs: Math.min(p.atMs, nowMs - this.retryMs + REFUSED_RETRY_MS) };
  }

  private refuse(r: Rollout, droneId: string, reason: string, nowMs: number): void {
    r.refused[droneId] = reason;
    if (r.drones[droneId] !== undefined) r.drones[droneId] = 'baseline';
    delete r.pending[droneId];
    r.updatedAtMs = nowMs;
    this.deps.logger.warn({ rollout: r.id, droneId, reason }, 'drone stays on the baseline');
  }

  private slot(id: string): SlotState {
    let s = this.slots.get(id);
    if (!s) {
      s = { active: null, candidate: null, shadow: null };
      this.slots.set(id, s);
    }
    return s;
  }

  private onlineIds(): string[] {
    return this.deps
      .fleet()
      .filter((d) => d.online)
      .map((d) => d.id);
  }

  private views(): Map<string, DronePolicyView> {
    const out = new Map<string, DronePolicyView>();
    for (const d of this.deps.fleet()) {
      const s = this.slots.get(d.id);
      out.set(d.id, {
        id: d.id,
        online: d.online,
        landedDisarmed: d.landed && !d.armed,
        active: d.policyVersion ?? s?.active ?? null,
        candidate: d.slots?.candidate ?? s?.candidate ?? null,
        shadow: d.slots?.shadow !== undefined ? d.slots.shadow : (s?.shadow ?? null),
      });
    }
    return out;
  }

  // ---- the timer ----

  /** One pass: the machine decides, the drones are told, changes are stored and published. */
  tick(nowMs: number): Promise<void> {
    return this.run(async () => {
      this.stats.ticks++;
      const r = this.current();
      if (!r) return;
      if (evaluate(r, this.onlineIds(), nowMs)) this.dirty.add(r.id);
      const before = JSON.stringify(r.pending);
      const plan = planDroneActions(r, this.views(), nowMs, this.retryMs);
      this.switching = new Set(plan.switching);
      if (JSON.stringify(r.pending) !== before) this.dirty.add(r.id);
      for (const a of plan.actions) await this.send(r, a, nowMs);
      if (this.dirty.has(r.id) || (this.persistedHistory.get(r.id) ?? 0) < r.history.length)
        await this.commit(r, nowMs);
    });
  }

  private async send(r: Rollout, a: DroneAction, nowMs: number): Promise<void> {
    const d = this.deps.drones;
    let sent: Result<void, string>;
    try {
      sent =
        a.kind === 'install'
          ? await d.install(a.droneId, a.version, nowMs)
          : a.kind === 'shadow-on' || a.kind === 'shadow-off'
            ? await d.shadow(a.droneId, a.version, a.kind === 'shadow-on', nowMs)
            : a.kind === 'activate'
              ? await d.activate(a.droneId, a.version, nowMs)
              : await d.revert(a.droneId, nowMs);
    } catch (err) {
      sent = { ok: false, reason: (err as Error).message };
    }
    if (sent.ok) {
      this.stats.actionsSent++;
      this.deps.logger.info(
        { rollout: r.id, droneId: a.droneId, action: a.kind, version: a.version },
        'rollout action sent',
      );
    } else {
      this.stats.actionFailures++;
      this.deps.logger.warn(
        { rollout: r.id, droneId: a.droneId, action: a.kind, reason: sent.reason },
        'rollout action not sent',
      );
    }
  }

  /** Persist the document and the new transitions, tell the registry and the dashboard. */
  private async commit(r: Rollout, nowMs: number): Promise<void> {
    const done = this.persistedHistory.get(r.id) ?? 0;
    const fresh: Transition[] = r.history.slice(done);
    await this.deps.store.saveRollout({
      id: r.id,
      candidate: r.candidate,
      baseline: r.baseline,
      state: r.state,
      document: r,
      createdAtMs: r.createdAtMs,
      updatedAtMs: Math.max(r.updatedAtMs, nowMs),
    });
    if (fresh.length > 0) {
      await this.deps.store.appendRolloutTransitions(
        fresh.map((t) => ({ rolloutId: r.id, atMs: t.atMs, fromState: t.from, toState: t.to, reason: t.reason })),
      );
      this.persistedHistory.set(r.id, r.history.length);
      for (const t of fresh) {
        this.deps.logger.info({ rollout: r.id, from: t.from, to: t.to, reason: t.reason }, 'rollout transition');
        await this.registryState(r, t.to, t.reason, nowMs);
      }
    }
    this.dirty.delete(r.id);
    this.deps.onUpdate?.(rolloutView(r));
  }

  private async registryState(r: Rollout, to: RolloutState, reason: string, nowMs: number): Promise<void> {
    const set = this.deps.policies?.setState;
    if (!set) return;
    const call = async (version: string, state: Parameters<NonNullable<RolloutPolicies['setState']>>[1]) => {
      try {
        await set.call(this.deps.policies, version, state, `rollout ${r.id}: ${reason}`, nowMs);
      } catch (err) {
        this.deps.logger.warn({ version, state, err: (err as Error).message }, 'registry state not changed');
      }
    };
    if (to === 'shadow') await call(r.candidate, 'shadow');
    else if (to === 'canary' || to === 'staged') await call(r.candidate, 'canary');
    else if (to === 'completed') {
      await call(r.candidate, 'active');
      await call(r.baseline, 'retired');
    } else if (to === 'rolled-back') await call(r.candidate, 'rolled-back');
  }
}

/** The version most online drones fly (ties: the smallest string, for determinism). */
function mostFlown(fleet: readonly FleetDrone[]): string | null {
  const counts = new Map<string, number>();
  for (const d of fleet)
    if (d.online && d.policyVersion) counts.set(d.policyVersion, (counts.get(d.policyVersion) ?? 0) + 1);
  let best: string | null = null;
  let n = 0;
  for (const [v, c] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (c > n) {
      best = v;
      n = c;
    }
  }
  return best;
}
