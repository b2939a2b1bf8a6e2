/**
 * The uplink's side of onboard rollouts over a real broker, with a scripted rollout port: policy commands acked once
 * the rollout has answered (a repeat meanwhile is not applied twice), chunks on the drone's bundle channel passed on
 * only when they decode, policy events sent, the birth carrying the slots and the policy commands, the metrics the
 * shadow figures.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BundleChunk, PROTOCOL_VERSION, topics } from '../../shared/protocol/index.js';
import type { EventBody } from './events.js';
import type { PolicyCommand, UplinkRolloutPort } from './ports.js';
import { makeRig, startBroker, type TestBroker, until } from './test-support.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

class ScriptedRollout implements UplinkRolloutPort {
  readonly commands: PolicyCommand[] = [];
  readonly chunks: BundleChunk[] = [];
  reconnects = 0;
  sink: ((e: EventBody) => void) | null = null;
  private answer: ((a: { result: 'accepted' | 'rejected' | 'failed'; reason?: string }) => void) | null = null;

  command(cmd: PolicyCommand) {
    this.commands.push(cmd);
    return new Promise<{ result: 'accepted' | 'rejected' | 'failed'; reason?: string }>((resolve) => {
      this.answer = resolve;
    });
  }
  finish(result: 'accepted' | 'rejected', reason?: string): void {
    this.answer?.({ result, ...(reason ? { reason } : {}) });
  }
  chunk(c: BundleChunk): void {
    this.chunks.push(c);
  }
  status() {
    return { active: { version: 'sha256:aaaaaaaaaaaaaaaa', sha256: 'a'.repeat(64) } };
  }
  shadowMetrics() {
    return {
      policyVersion: 'sha256:bbbbbbbbbbbbbbbb',
      ticks: 10,
      divergenceMeanMps: 0.5,
      divergenceP95Mps: 1.5,
      wouldBeInterventionTicks: 2,
      wouldBeInterventionsByLayer: { sanity: 0, box: 2, barrier: 0, shield: 0, monitor: 0 },
    };
  }
  setEventSink(sink: (e: EventBody) => void): void {
    this.sink = sink;
  }
  onReconnect(): void {
    this.reconnects++;
  }
}

describe('policy commands through the uplink', () => {
  it('acks once the rollout answers, routes chunks, sends its events, birth slots and shadow metrics', async () => {
    const r = await makeRig(broker, cleanups, { metricsWindowS: 1 });
    const rollout = new ScriptedRollout();
    Object.assign(r.runtime, { rollout });
    r.uplink.start();
    const births = () => r.sub.on(topics.droneStatus(r.id)).filter((m) => m.json?.kind === 'birth');
    await r.sub.waitFor(() => births().length > 0, 10_000, 'birth');
    expect(births()[0].json).toMatchObject({
      policy: rollout.status(),
      capabilities: expect.arrayContaining(['install-policy', 'activate-policy', 'shadow-policy', 'revert-policy']),
    });
    await until(() => rollout.reconnects === 1, 5000, 'reconnect hook');

    const activate = {
      schema: PROTOCOL_VERSION,
      commandId: 'act-1',
      timeMs: Date.now(),
      kind: 'activate-policy',
      version: 'sha256:cccccccccccccccc',
    };
    await r.sub.publish(topics.droneCommands(r.id), JSON.stringify(activate));
    await until(() => rollout.commands.length === 1, 5000, 'command applied');
    // Repeated while the first is still being applied: not applied again, no ack yet.
    await r.sub.publish(topics.droneCommands(r.id), JSON.stringify(activate));
    const acks = () => r.sub.on(topics.droneAcks(r.id)).filter((m) => m.json?.commandId === 'act-1');
    await new Promise((res) => setTimeout(res, 200));
    expect(acks()).toHaveLength(0);
    expect(rollout.commands).toHaveLength(1);
    rollout.finish('rejected', 'activation only while landed and disarmed: the vehicle is armed');
    await r.sub.waitFor(() => acks().length === 1, 5000, 'ack');
    expect(acks()[0].json).toMatchObject({ result: 'rejected', reason: expect.stringMatching(/armed/) });
    // Repeated after the answer: the same answer again, still applied once.
    await r.sub.publish(topics.droneCommands(r.id), JSON.stringify(activate));
    await r.sub.waitFor(() => acks().length === 2, 5000, 'repeated ack');
    expect(rollout.commands).toHaveLength(1);

    const data = Buffer.from('bundle bytes');
    const sha = createHash('sha256').update(data).digest('hex');
    const chunk = {
      schema: PROTOCOL_VERSION,
      transferId: 'tx-1',
      version: 'sha256:cccccccccccccccc',
      sha256: sha,
      totalBytes: data.length,
      index: 0,
      count: 1,
      chunkSha256: sha,
      data: data.toString('base64'),
    };
    await r.sub.publish(topics.droneBundle(r.id), JSON.stringify({ ...chunk, count: 2 })); // count does not fit
    await r.sub.publish(topics.droneBundle(r.id), JSON.stringify(chunk));
    await until(() => rollout.chunks.length === 1, 5000, 'chunk');
    expect(rollout.chunks[0]).toMatchObject({ transferId: 'tx-1', index: 0, count: 1 });

    rollout.sink?.({ kind: 'policy', action: 'installed', policyVersion: 'sha256:cccccccccccccccc', commandId: 'i-1' });
    const events = () => r.sub.on(topics.droneEvents(r.id)).map((m) => m.json as Record<string, unknown>);
    await r.sub.waitFor(() => events().some((e) => e.action === 'installed'), 5000, 'policy event');
    await r.sub.waitFor(
      () => r.sub.on(topics.droneMetrics(r.id)).some((m) => m.json?.shadow !== undefined),
      5000,
      'metrics with shadow',
    );
    const metrics = r.sub.on(topics.droneMetrics(r.id)).find((m) => m.json?.shadow !== undefined)?.json;
    expect(metrics?.shadow).toEqual(rollout.shadowMetrics());
  });
});
