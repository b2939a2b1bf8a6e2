/**
 * `aerie onboard`: the process flashed onto the companion computer. Connects to the autopilot, runs the control
 * loop, and flies deliveries it is given: by `--to` at start, by JSON lines on stdin (local-control.ts), and by the
 * ground station over MQTT. Mission events go to stdout as JSON lines; logs go to stderr.
 */
import { createInterface } from 'node:readline';
import { readTrustedKeys } from '../shared/bundle/index.js';
import { argvToRaw, configHelp, declareConfig, parseConfig } from '../shared/config/index.js';
import { AerieError } from '../shared/errors.js';
import { createRuntime, installFailClosedHooks, RUNTIME_FLAGS, readSections } from './cli-common.js';
import { ExperienceRecorder } from './experience/index.js';
import { parseNorthEast } from './fly-cli.js';
import { airspaceOf, parseControlLine, planFromDeliver } from './local-control.js';
import type { MissionPlan } from './mission/index.js';
import { bootFiles, RolloutManager } from './rollout/index.js';
import type { OnboardRuntime } from './runtime.js';
import { runtimePort, UPLINK_FLAGS, Uplink, uplinkConfigFromFlags } from './uplink/index.js';

export const ONBOARD_SCHEMA = declareConfig({
  ...RUNTIME_FLAGS,
  ...UPLINK_FLAGS,
  id: { type: 'string', default: 'drone-1', doc: "This drone's id in the fleet." },
  to: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Fly one delivery to NORTH,EAST metres from home as soon as the autopilot is up.',
  },
  alt: { type: 'number', default: 20, unit: 'm', min: 3, max: 120, doc: 'Default cruise altitude above home.' },
  releaseBy: {
    type: 'enum',
    values: ['hover', 'land'] as const,
    default: 'hover',
    doc: 'Default release: from a hover, or by landing.',
  },
  experienceEveryTicks: {
    type: 'integer',
    default: 5,
    min: 0,
    max: 1000,
    doc: 'With the uplink: record one policy tick in this many as experience for the station (0: none).',
  },
  stdinControl: {
    type: 'boolean',
    default: true,
    doc: 'Read JSON-line commands on stdin (deliver, abort, return, land, hold, estop, clear, airspace, neighbours).',
  },
  policyDir: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Policy slots folder (active, candidate, previous): signed bundles from the station; flies the active slot.',
  },
  trustedKeys: {
    type: 'string',
    default: undefined,
    optional: true,
    doc: 'Folder of trusted release public keys (*.pub) that policy bundles must be signed with (with --policy-dir).',
  },
  probationFlights: {
    type: 'integer',
    default: 3,
    min: 0,
    max: 100,
    doc: 'A newly activated policy that trips the monitor on its first N flights is reverted on the drone (0: never).',
  },
  help: { type: 'boolean', default: false, doc: 'Show this help.' },
});

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ timeMs: Date.now(), ...record })}\n`);
}

function wireStdin(runtime: OnboardRuntime, defaults: MissionPlan): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    const parsed = parseControlLine(line);
    if (!parsed.ok) {
      emit({ kind: 'control-refused', reason: parsed.reason, kept: 'nothing changed' });
      return;
    }
    const c = parsed.command;
    const mission = runtime.loop.currentMission;
    switch (c.cmd) {
      case 'deliver':
        if (mission && mission.outcome === null) {
          emit({
            kind: 'control-refused',
            reason: `a delivery is in progress (${mission.phase})`,
            kept: 'the current delivery',
          });
          return;
        }
        void runtime.fly(planFromDeliver(c, defaults));
        break;
      case 'abort':
      case 'return':
      case 'land':
      case 'hold':
        mission?.request(c.cmd);
        break;
      case 'estop':
        runtime.loop.triggerEmergencyStop();
        break;
      case 'clear':
        runtime.loop.clearMonitor();
        break;
      case 'airspace':
        runtime.loop.setAirspace(airspaceOf(c));
        break;
      case 'neighbours':
        runtime.loop.setNeighbours(c.neighbours.map((n) => ({ ...n, ageMs: n.ageMs ?? 0 })));
        break;
    }
    emit({ kind: 'control-accepted', cmd: c.cmd });
  });
}

type OnboardFlags = ReturnType<typeof parseConfig<typeof ONBOARD_SCHEMA>>;

/**
 * With --policy-dir: the runtime starts with the active slot's policy, shield and safety-filter configuration (over
 * the --config file's). A slot that does not load leaves the runtime on --policy or the shipped default.
 */
async function createRolloutRuntime(cfg: OnboardFlags): Promise<OnboardRuntime> {
  if (!cfg.policyDir) return createRuntime(cfg);
  const boot = await bootFiles(cfg.policyDir);
  if (!boot.policyPath) return createRuntime(cfg);
  const sections = cfg.config ? readSections(cfg.config) : {};
  try {
    return await createRuntime(cfg, {
      policyPath: boot.policyPath,
      ...(boot.shieldPath && !cfg.shield ? { shieldPath: boot.shieldPath } : {}),
      ...(boot.safety ? { safety: { ...sections.safety, ...boot.safety } } : {}),
    });
  } catch (err) {
    emit({ kind: 'error', reason: `active policy slot ${boot.version} does not start: ${(err as Error).message}` });
    return createRuntime(cfg);
  }
}

export async function main(argv: string[]): Promise<number> {
  const cfg = parseConfig(ONBOARD_SCHEMA, argvToRaw(ONBOARD_SCHEMA, argv).raw);
  if (cfg.help) {
    process.stdout.write(`usage: aerie onboard --mavlink URL [options]\n\n${configHelp(ONBOARD_SCHEMA)}\n`);
    return 0;
  }
  const defaults: MissionPlan = {
    dropNeM: [0, 0],
    returnNeM: [0, 0],
    cruiseAltM: cfg.alt,
    releaseAltM: 5,
    releaseBy: cfg.releaseBy,
    arrivalRadiusM: 2,
  };
  const firstDrop = cfg.to ? parseNorthEast(cfg.to) : null;
  // Every uplink value is checked before the runtime touches a socket.
  const uplinkConfig = uplinkConfigFromFlags(cfg, cfg.config ? readSections(cfg.config).uplink : undefined);
  if ((cfg.policyDir === undefined) !== (cfg.trustedKeys === undefined))
    throw new AerieError('CONFIG_CONFLICT', '--policy-dir and --trusted-keys go together');
  const trustedKeys = cfg.trustedKeys ? readTrustedKeys(cfg.trustedKeys) : [];
  const runtime = await createRolloutRuntime(cfg);
  installFailClosedHooks(runtime);
  const rollout = cfg.policyDir
    ? await RolloutManager.open(runtime, {
        dir: cfg.policyDir,
        trustedKeys,
        probationFlights: cfg.probationFlights,
        http: { username: uplinkConfig?.mqttUsername ?? cfg.id, password: uplinkConfig?.mqttPassword },
        fallbackPolicyPath: cfg.policy,
      })
    : null;
  // The outbox directory is locked and read now: a bad --data-dir stops start-up with its reason.
  const uplink = uplinkConfig ? Uplink.open(uplinkConfig, runtimePort(runtime, rollout ?? undefined)) : null;
  runtime.onTick((r) => {
    for (const e of r.events)
      emit({ kind: `mission-${e.kind}`, id: cfg.id, phase: e.phase, detail: e.detail, outcome: e.outcome });
    const t = r.decision.monitor.transition;
    if (t) emit({ kind: 'monitor', id: cfg.id, from: t.from, to: t.to, rules: t.rules });
  });
  if (uplink && cfg.experienceEveryTicks > 0) {
    const port = runtimePort(runtime);
    const c = runtime.controlConfig;
    const recorder = new ExperienceRecorder({
      everyTicks: cfg.experienceEveryTicks,
      limits: { maxHorizontalMS: c.maxHorizontalSpeedMS, maxUpMS: c.maxUpSpeedMS, maxDownMS: c.maxDownSpeedMS },
      policyVersion: () => port.policyVersion(),
    });
    runtime.onTick((r) => {
      const record = recorder.onTick(r);
      if (record) uplink.recordExperience(record);
    });
  }
  await runtime.start();
  rollout?.start();
  uplink?.start();
  emit({
    kind: 'started',
    id: cfg.id,
    mavlink: cfg.mavlink,
    mqtt: uplinkConfig?.mqttUrl ?? null,
    sessionId: uplink?.sessionId ?? null,
  });
  runtime.link.onLinkUp(() => emit({ kind: 'autopilot-up', id: cfg.id }));
  runtime.link.onLinkDown(() => emit({ kind: 'autopilot-down', id: cfg.id }));
  if (cfg.stdinControl) wireStdin(runtime, defaults);
  if (firstDrop) {
    void runtime.waitForAutopilot(60_000).then((up) => {
      if (up) void runtime.fly({ ...defaults, dropNeM: firstDrop });
      else emit({ kind: 'error', reason: `no autopilot heartbeat on ${cfg.mavlink} within 60 s; --to not flown` });
    });
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // A clean stop in the air hands the vehicle to PX4: land where it is rather than hover unattended.
  const mission = runtime.loop.currentMission;
  if (mission && mission.outcome === null && runtime.link.state().armed)
    await runtime.failClosed('stopped by signal while flying');
  // The death goes out before the autopilot link closes: the station sees a clean shutdown, not a lost drone.
  await rollout?.stop();
  await uplink?.stop();
  await runtime.stop();
  emit({ kind: 'stopped', id: cfg.id });
  return 0;
}
