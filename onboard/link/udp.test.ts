/**
 * The link over real UDP sockets on 127.0.0.1 (ephemeral ports): our side listens and replies to the sender, as
 * against PX4 SITL; a small scripted autopilot answers COMMAND_LONG. Timeouts run on a stepped clock, so the
 * assertions never depend on how fast this machine is.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appendSignature,
  FrameEncoder,
  MAV_CMD,
  MAV_RESULT,
  minimal,
  SIGNING_EPOCH_MS,
  UdpTransport,
} from '../../shared/mavlink/index.js';
import { AutopilotLink } from './autopilot-link.js';
import { ManualClock } from './clock.js';
import type { CommandResult } from './commander.js';
import { parseLinkConfig } from './config.js';
import { FakeAutopilot, until } from './test-support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(options: { key?: Buffer; px4Key?: Buffer } = {}) {
  const clock = new ManualClock(0);
  const ours = new UdpTransport({ kind: 'udp', bindHost: '127.0.0.1', bindPort: 0 });
  // Nothing is requested: the tests script every command the fake receives.
  const config = parseLinkConfig({
    rateAttitudeHz: 0,
    rateLocalPositionHz: 0,
    rateGlobalPositionHz: 0,
    rateExtendedSysStateHz: 0,
    rateBatteryHz: 0,
  });
  const link = new AutopilotLink({ config, transport: ours, clock, signingKey: options.key });
  await link.start();
  const theirs = new UdpTransport({
    kind: 'udp',
    bindHost: '127.0.0.1',
    bindPort: 0,
    remoteHost: '127.0.0.1',
    remotePort: ours.localPort,
  });
  const signingKey = options.px4Key ?? options.key;
  const px4 = new FakeAutopilot(theirs, { signing: signingKey ? { key: signingKey, linkId: 0 } : undefined });
  await px4.link.open();
  cleanups.push(async () => {
    await link.stop();
    await px4.link.close();
  });
  return { clock, link, px4, ours, theirs };
}

describe('AutopilotLink over UDP with a scripted autopilot', () => {
  it('discovers the autopilot from its HEARTBEAT and replies to the sender', async () => {
    const { link, px4, clock } = await setup();
    px4.heartbeat();
    await until(() => link.isUp, 5000, 'link up');
    clock.advance(1000); // our next heartbeat goes to the sender we learnt
    await until(() => px4.receivedOf(minimal.Heartbeat).length >= 1, 5000, 'our heartbeat at the autopilot');
    expect(px4.received[0].frame.compid).toBe(191);
  });

  it('retransmits unanswered commands with confirmation 0, 1, 2 and takes the answer to the third', async () => {
    const { link, px4, clock } = await setup();
    px4.respond = (_c, i) => (i < 2 ? null : MAV_RESULT.ACCEPTED);
    px4.heartbeat();
    await until(() => link.isUp, 5000, 'link up');
    let result: CommandResult | null = null;
    void link.arm().then((r) => (result = r));
    await until(() => px4.commands.length === 1, 5000, 'first attempt');
    clock.advance(1000);
    await until(() => px4.commands.length === 2, 5000, 'second attempt');
    // Keep the link up: 2 s without PX4's HEARTBEAT would (rightly) end the wait with link-down.
    px4.heartbeat();
    await until(() => link.state().timestampsMs.heartbeat === clock.nowMs(), 5000, 'heartbeat');
    clock.advance(1000);
    await until(() => result !== null, 5000, 'ack of the third attempt');
    expect(result).toEqual({ ok: true, result: 'ACCEPTED', attempts: 3 });
    expect(px4.commands.map((c) => c.command.confirmation)).toEqual([0, 1, 2]);
    expect(px4.commands.every((c) => c.command.command === MAV_CMD.COMPONENT_ARM_DISARM)).toBe(true);
  });

  it('never retries a DENIED command', async () => {
    const { link, px4, clock } = await setup();
    px4.respond = () => MAV_RESULT.DENIED;
    px4.heartbeat();
    await until(() => link.isUp, 5000, 'link up');
    const result = await link.setMode('AUTO.RTL');
    expect(result).toEqual({ ok: false, reason: 'denied', result: 'DENIED', attempts: 1 });
    clock.advance(10_000);
    px4.heartbeat(); // a round trip after the clock moved: anything we sent meanwhile has arrived
    await until(() => link.state().heartbeatAgeMs === 0, 5000, 'heartbeat');
    expect(px4.commands).toHaveLength(1);
  });

  it('times out after the retries when the autopilot stays silent', async () => {
    const { link, px4, clock } = await setup();
    px4.respond = () => null;
    px4.heartbeat();
    await until(() => link.isUp, 5000, 'link up');
    let result: CommandResult | null = null;
    void link.land({ retries: 1, timeoutMs: 500 }).then((r) => (result = r));
    await until(() => px4.commands.length === 1, 5000, 'first attempt');
    clock.advance(500);
    await until(() => px4.commands.length === 2, 5000, 'retransmission');
    clock.advance(500);
    await until(() => result !== null, 5000, 'timeout');
    expect(result).toEqual({ ok: false, reason: 'timeout', result: undefined, attempts: 2 });
  });
});

describe('AutopilotLink reconnecting over UDP', () => {
  it('follows an autopilot that comes back from another port (a PX4 restart) and commands it there', async () => {
    const { link, px4, clock, ours } = await setup();
    px4.heartbeat();
    await until(() => link.isUp, 5000, 'link up');
    await px4.link.close();
    clock.advance(2000);
    expect(link.isUp).toBe(false);
    const reborn = new FakeAutopilot(
      new UdpTransport({
        kind: 'udp',
        bindHost: '127.0.0.1',
        bindPort: 0,
        remoteHost: '127.0.0.1',
        remotePort: ours.localPort,
      }),
    );
    await reborn.link.open();
    cleanups.push(() => reborn.link.close());
    reborn.heartbeat();
    await until(() => link.isUp, 5000, 'link up again');
    expect(link.counters).toMatchObject({ linkUps: 2, linkDowns: 1 });
    expect(await link.hold()).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });
    expect(reborn.commands.map((c) => c.command.command)).toEqual([MAV_CMD.DO_SET_MODE]);
  });
});

describe('MAVLink 2 signing end to end over UDP', () => {
  it('signs what it sends, and rejects and counts unsigned, badly signed, stale and replayed frames', async () => {
    const key = randomBytes(32);
    const { link, px4, theirs } = await setup({ key });
    const signature = link.mavlink.counters.signature!;
    // A signed PX4 HEARTBEAT is accepted; our signed COMMAND_LONG is accepted by the signed peer and answered.
    const signedHeartbeat = Buffer.from(px4.heartbeat());
    await until(() => link.isUp, 5000, 'link up');
    expect(await link.arm()).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });
    expect(px4.link.counters.signature).toMatchObject({ unsigned: 0, 'bad-signature': 0, stale: 0, replay: 0 });

    const armedHeartbeat = (): minimal.Heartbeat => {
      const hb = new minimal.Heartbeat();
      hb.type = minimal.MavType.QUADROTOR;
      hb.autopilot = minimal.MavAutopilot.PX4;
      hb.baseMode = 0x81 as minimal.MavModeFlag; // armed, as an attacker would claim
      hb.customMode = 0x00060000;
      return hb;
    };
    const forger = new FrameEncoder(1, 1);
    const nowTimestamp = () => Math.floor((Date.now() - SIGNING_EPOCH_MS) * 100);

    // 1. Replayed: the very bytes PX4 sent earlier.
    theirs.send(signedHeartbeat);
    // 2. Unsigned.
    theirs.send(forger.encode(armedHeartbeat()));
    // 3. Signed with the wrong key.
    theirs.send(appendSignature(forger.encodeForSigning(armedHeartbeat()), randomBytes(32), 0, nowTimestamp()));
    // 4. Signed with the right key, on a new link id, but two minutes old.
    theirs.send(appendSignature(forger.encodeForSigning(armedHeartbeat()), key, 9, nowTimestamp() - 120 * 100_000));
    await until(
      () => signature.replay + signature.unsigned + signature['bad-signature'] + signature.stale === 4,
      5000,
      'four rejections',
    );
    expect(signature).toEqual({ unsigned: 1, 'bad-signature': 1, stale: 1, replay: 1 });
    expect(link.state().armed).toBe(false); // none of them reached the state

    // A fresh signed frame still goes through.
    px4.heartbeat({ armed: true });
    await until(() => link.state().armed, 5000, 'signed armed heartbeat');
  });

  it('does not talk to a peer with another key', async () => {
    const { link, px4 } = await setup({ key: randomBytes(32), px4Key: randomBytes(32) });
    px4.heartbeat();
    await until(() => link.mavlink.counters.signature!['bad-signature'] === 1, 5000, 'rejection');
    expect(link.isUp).toBe(false);
  });
});
