/**
 * Test helpers for the registry, the policy CLI and distribution: a policy folder on disk (model, shield, config.json
 * and an evaluation report of that very model, passing or not), and the drone side of a bundle transfer.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { openBundle, trustedKey } from '../../shared/bundle/index.js';
import { METADATA_KEYS } from '../../shared/policy/index.js';
import { linearModel, POLICY_METADATA } from '../../shared/policy/test-models.js';
import {
  type BundleChunk,
  type Command,
  type DroneEvent,
  decodeCommand,
  decodePayload,
  encodePayload,
  PROTOCOL_VERSION,
  topics,
} from '../../shared/protocol/index.js';

export interface EvalFigures {
  readonly successRate: number;
  readonly interventionShare: number;
  readonly breachesFilterOn: number;
  readonly deliveries?: number;
}

export const PASSING: EvalFigures = { successRate: 0.97, interventionShare: 0.03, breachesFilterOn: 0, deliveries: 20 };

/** What `aerie eval --json` prints, reduced to the fields the gate reads, for a model with this hash. */
export function evalReportJson(policySha256: string, f: EvalFigures, sitl = true): Record<string, unknown> {
  const deliveries = f.deliveries ?? 20;
  const vectorised = {
    section: 'vectorised',
    episodes: 200,
    successRate: 0.9,
    interventionShareAny: 0.08,
    breaches: { episodeShare: 0.01, tickShare: {} },
  };
  const sections: Record<string, unknown> = { vectorised };
  if (sitl) {
    sections.sitl = {
      section: 'sitl',
      episodes: deliveries,
      successRate: f.successRate,
      interventionShareAny: f.interventionShare,
      breachesFilterOn: f.breachesFilterOn,
      breaches: { episodeShare: f.breachesFilterOn / deliveries, tickShare: {} },
    };
  }
  return {
    summaryFrom: sitl ? 'sitl' : 'vectorised',
    successRate: sitl ? f.successRate : 0.9,
    policy: { source: 'policy.onnx', sha256: policySha256, metadata: {} },
    shield: null,
    sections,
  };
}

export interface PolicyFolder {
  readonly dir: string;
  readonly policyPath: string;
  readonly shieldPath: string;
  readonly policySha256: string;
  /** A different model each call (its bias), so versions differ. */
  readonly policy: Uint8Array;
}

let serial = 0;

/** A policy folder: policy.onnx (distinct per call), shield.onnx, config.json (train.seed), eval-report.json. */
export function policyFolder(figures: EvalFigures | null = PASSING, options: { seed?: number } = {}): PolicyFolder {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-policy-'));
  serial++;
  const policy = linearModel({
    metadata: {
      ...POLICY_METADATA,
      [METADATA_KEYS.trainingConfigHash]: `sha256:${'c'.repeat(60)}${String(serial).padStart(4, '0')}`,
      [METADATA_KEYS.name]: `test-policy-${serial}-${process.pid}-${Date.now()}`,
    },
  });
  const shield = linearModel({
    inputName: 'observation_action',
    inputSize: 35,
    outputName: 'cost',
    outputSize: 1,
    metadata: { ...POLICY_METADATA, [METADATA_KEYS.kind]: 'shield' },
  });
  const policyPath = join(dir, 'policy.onnx');
  const shieldPath = join(dir, 'shield.onnx');
  writeFileSync(policyPath, policy);
  writeFileSync(shieldPath, shield);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ env: {}, train: { seed: options.seed ?? 11 } }));
  const policySha256 = createHash('sha256').update(policy).digest('hex');
  if (figures) writeFileSync(join(dir, 'eval-report.json'), JSON.stringify(evalReportJson(policySha256, figures)));
  return { dir, policyPath, shieldPath, policySha256, policy };
}

export interface DroneDouble {
  client: MqttClient;
  /** Chunk indexes received, in order (repeats included). */
  received: number[];
  commands: Command[];
  /** Transfer ids of every chunk that reached the drone, before any check. */
  transfersSeen: string[];
}

/**
 * The drone side of a transfer, as the protocol describes it: ack install-policy, keep chunks, report the missing
 * ones once the last index arrived, verify when complete. `lose` drops the first delivery of those indexes;
 * `ack` overrides the answer; `silent` never reports.
 */
export async function droneDouble(
  url: string,
  id: string,
  password: string,
  trustedPem: string,
  behaviour: { lose?: number[]; ack?: 'rejected'; silent?: boolean } = {},
): Promise<DroneDouble> {
  const client = await mqtt.connectAsync(url, {
    clientId: id,
    username: id,
    password,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const d: DroneDouble = { client, received: [], commands: [], transfersSeen: [] };
  const lost = new Set(behaviour.lose ?? []);
  const held = new Map<number, Buffer>();
  let install: Extract<Command, { kind: 'install-policy' }> | null = null;
  let seq = 0;
  const event = async (fields: Partial<Extract<DroneEvent, { kind: 'policy' }>>) => {
    const e = { schema: PROTOCOL_VERSION, id, seq: ++seq, timeMs: Date.now(), kind: 'policy', ...fields } as DroneEvent;
    const enc = encodePayload('events', e);
    if (!enc.ok) throw new Error(enc.reason);
    await client.publishAsync(topics.droneEvents(id), enc.value, { qos: 1 });
  };
  client.on('message', (topic, payload) => {
    void (async () => {
      if (topic === topics.droneCommands(id)) {
        const c = decodeCommand(payload);
        if (!c.ok) return;
        d.commands.push(c.value);
        if (c.value.kind !== 'install-policy') return;
        install = c.value;
        const ack = {
          schema: PROTOCOL_VERSION,
          id,
          commandId: c.value.commandId,
          kind: c.value.kind,
          timeMs: Date.now(),
        };
        const answer = behaviour.ack
          ? { ...ack, result: behaviour.ack, reason: 'not landed' }
          : { ...ack, result: 'accepted' as const };
        const enc = encodePayload('acks', answer);
        if (enc.ok) await client.publishAsync(topics.droneAcks(id), enc.value, { qos: 1 });
        return;
      }
      if (topic !== topics.droneBundle(id)) return;
      const r = decodePayload('bundle', payload);
      if (!r.ok) return;
      d.transfersSeen.push(r.value.transferId);
      if (!install || behaviour.silent) return;
      const chunk: BundleChunk = r.value;
      d.received.push(chunk.index);
      const data = Buffer.from(chunk.data, 'base64');
      if (!lost.delete(chunk.index) && createHash('sha256').update(data).digest('hex') === chunk.chunkSha256) {
        held.set(chunk.index, data);
      }
      const missing = Array.from({ length: chunk.count }, (_, i) => i).filter((i) => !held.has(i));
      if (missing.length > 0) {
        if (chunk.index === chunk.count - 1 || d.received.length > chunk.count) {
          await event({
            action: 'bundle-progress',
            policyVersion: chunk.version,
            transferId: chunk.transferId,
            count: chunk.count,
            receivedChunks: held.size,
            missingChunks: missing,
          });
        }
        return;
      }
      const file = Buffer.concat(Array.from({ length: chunk.count }, (_, i) => held.get(i) as Buffer));
      const opened = openBundle(file, { trustedKeys: [trustedKey(trustedPem)] });
      await event(
        opened.ok
          ? { action: 'installed', policyVersion: chunk.version, transferId: chunk.transferId }
          : {
              action: 'refused',
              policyVersion: chunk.version,
              transferId: chunk.transferId,
              code: opened.code,
              reason: opened.reason,
            },
      );
    })();
  });
  await client.subscribeAsync([topics.droneCommands(id), topics.droneBundle(id)], { qos: 1 });
  return d;
}
