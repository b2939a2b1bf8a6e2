import { describe, expect, it } from 'vitest';
import { commandAck, commandParams, common, MAV_CMD, MAV_RESULT } from '../../shared/mavlink/index.js';
import { ManualClock } from './clock.js';
import { Commander, type CommandResult } from './commander.js';
import type { MavlinkSource } from './vehicle-state.js';

const OWN = { sysid: 1, compid: 191 };
const PX4 = { sysid: 1, compid: 1 };

function setup(options = { timeoutMs: 1000, retries: 3, retryPauseMs: 500 }) {
  const clock = new ManualClock();
  const sent: common.CommandLong[] = [];
  let target: MavlinkSource | null = PX4;
  const commander = new Commander({
    clock,
    send: (m) => sent.push(Object.assign(new common.CommandLong(), m)),
    target: () => target,
    own: OWN,
    options,
  });
  const ack = (command: number, result: number, from: MavlinkSource = PX4, to: MavlinkSource = OWN) =>
    commander.handleAck(commandAck(command, result, to.sysid, to.compid), from);
  const setTarget = (t: MavlinkSource | null) => {
    target = t;
  };
  return { clock, sent, commander, ack, setTarget };
}

/** Track a promise's outcome without awaiting it (results arrive through microtasks). */
function watch(p: Promise<CommandResult>): { result: CommandResult | null } {
  const box: { result: CommandResult | null } = { result: null };
  p.then((r) => {
    box.result = r;
  });
  return box;
}

const settle = () => new Promise((r) => setImmediate(r));

describe('Commander', () => {
  it('sends COMMAND_LONG to the autopilot and resolves on ACCEPTED', async () => {
    const { sent, commander, ack } = setup();
    const p = commander.arm();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      command: MAV_CMD.COMPONENT_ARM_DISARM,
      targetSystem: 1,
      targetComponent: 1,
      confirmation: 0,
    });
    expect(commandParams(sent[0])[0]).toBe(1);
    expect(ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.ACCEPTED)).toBe(true);
    expect(await p).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });
    expect(commander.inFlight).toBe(0);
  });

  it('retransmits on no answer with the confirmation field incremented, and takes a late ACK', async () => {
    const { clock, sent, commander, ack } = setup();
    const p = commander.setMode('OFFBOARD');
    clock.advance(999);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent).toHaveLength(2);
    clock.advance(1000);
    expect(sent.map((m) => m.confirmation)).toEqual([0, 1, 2]);
    ack(MAV_CMD.DO_SET_MODE, MAV_RESULT.ACCEPTED);
    expect(await p).toEqual({ ok: true, result: 'ACCEPTED', attempts: 3 });
    expect(commander.counters.retransmissions).toBe(2);
  });

  it('gives up with timeout after 1 + retries attempts and leaves no timer behind', async () => {
    const { clock, sent, commander } = setup();
    const box = watch(commander.land());
    clock.advance(3999);
    await settle();
    expect(box.result).toBeNull();
    clock.advance(1);
    await settle();
    expect(box.result).toEqual({ ok: false, reason: 'timeout', result: undefined, attempts: 4 });
    expect(sent.map((m) => m.confirmation)).toEqual([0, 1, 2, 3]);
    clock.advance(60_000);
    expect(sent).toHaveLength(4);
    expect(clock.pendingTimers).toBe(0);
  });

  it('retries TEMPORARILY_REJECTED after the pause, not before', async () => {
    const { clock, sent, commander, ack } = setup();
    const p = commander.arm();
    ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.TEMPORARILY_REJECTED);
    clock.advance(499);
    expect(sent).toHaveLength(1);
    // A second copy of the rejection (answering a retransmission) does not count twice.
    ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.TEMPORARILY_REJECTED);
    clock.advance(1);
    expect(sent).toHaveLength(2);
    expect(sent[1].confirmation).toBe(0);
    ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.ACCEPTED);
    expect(await p).toEqual({ ok: true, result: 'ACCEPTED', attempts: 2 });
  });

  it("ends with 'rejected' once TEMPORARILY_REJECTED outlasts the retries", async () => {
    const { clock, sent, commander, ack } = setup({ timeoutMs: 1000, retries: 2, retryPauseMs: 500 });
    const p = commander.arm();
    for (let i = 0; i < 3; i++) {
      ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.TEMPORARILY_REJECTED);
      clock.advance(500);
    }
    expect(await p).toEqual({ ok: false, reason: 'rejected', result: 'TEMPORARILY_REJECTED', attempts: 3 });
    expect(sent).toHaveLength(3);
  });

  it.each([
    [MAV_RESULT.DENIED, 'denied', 'DENIED'],
    [MAV_RESULT.FAILED, 'failed', 'FAILED'],
    [MAV_RESULT.UNSUPPORTED, 'unsupported', 'UNSUPPORTED'],
    [MAV_RESULT.CANCELLED, 'cancelled', 'CANCELLED'],
  ])('never retries result %i (%s)', async (code, reason, name) => {
    const { clock, sent, commander, ack } = setup();
    const p = commander.takeoff(500);
    ack(MAV_CMD.NAV_TAKEOFF, code);
    expect(await p).toEqual({ ok: false, reason, result: name, attempts: 1 });
    clock.advance(30_000);
    expect(sent).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('waits without retransmitting after IN_PROGRESS', async () => {
    const { clock, sent, commander, ack } = setup();
    const p = commander.returnToLaunch();
    clock.advance(900);
    ack(MAV_CMD.NAV_RETURN_TO_LAUNCH, MAV_RESULT.IN_PROGRESS);
    clock.advance(900);
    expect(sent).toHaveLength(1);
    ack(MAV_CMD.NAV_RETURN_TO_LAUNCH, MAV_RESULT.ACCEPTED);
    expect(await p).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });
  });

  it('lets a newer command of the same id supersede the older wait; other ids are independent', async () => {
    const { sent, commander, ack } = setup();
    const first = commander.setMode('OFFBOARD');
    const arm = commander.arm();
    const second = commander.setMode('AUTO.LOITER');
    expect(await first).toEqual({ ok: false, reason: 'cancelled', result: undefined, attempts: 1 });
    expect(commander.inFlight).toBe(2);
    ack(MAV_CMD.DO_SET_MODE, MAV_RESULT.ACCEPTED);
    ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.DENIED);
    expect(await second).toMatchObject({ ok: true, attempts: 1 });
    expect(await arm).toMatchObject({ ok: false, reason: 'denied' });
    expect(commandParams(sent[2]).slice(0, 3)).toEqual([1, 4, 3]); // CUSTOM_MODE_ENABLED, AUTO, LOITER
    expect(commander.counters.superseded).toBe(1);
  });

  it("resolves every wait with 'link-down' at once, and refuses new commands while down", async () => {
    const { clock, commander, setTarget } = setup();
    const a = watch(commander.arm());
    const b = watch(commander.setMode('OFFBOARD'));
    setTarget(null);
    commander.linkDown();
    await settle();
    expect(a.result).toEqual({ ok: false, reason: 'link-down', result: undefined, attempts: 1 });
    expect(b.result).toMatchObject({ ok: false, reason: 'link-down' });
    expect(clock.pendingTimers).toBe(0);
    expect(await commander.disarm()).toEqual({ ok: false, reason: 'link-down', attempts: 0 });
  });

  it('ignores ACKs from another system, addressed to someone else, or for no command in flight', async () => {
    const { commander, ack } = setup();
    const p = commander.arm();
    expect(ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.ACCEPTED, { sysid: 2, compid: 1 })).toBe(false);
    expect(ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.ACCEPTED, PX4, { sysid: 255, compid: 190 })).toBe(false);
    expect(ack(MAV_CMD.DO_SET_MODE, MAV_RESULT.ACCEPTED)).toBe(false);
    expect(commander.inFlight).toBe(1);
    expect(commander.counters.acksIgnored).toBe(3);
    // An ACK broadcast to system 0 is still ours.
    expect(ack(MAV_CMD.COMPONENT_ARM_DISARM, MAV_RESULT.ACCEPTED, PX4, { sysid: 0, compid: 0 })).toBe(true);
    expect((await p).ok).toBe(true);
  });

  it('encodes force-disarm, takeoff, land, RTL and message intervals as PX4 expects', () => {
    const { sent, commander } = setup();
    void commander.forceDisarm();
    void commander.takeoff(532.5);
    void commander.land();
    void commander.returnToLaunch();
    void commander.setMessageInterval(30, 50);
    const [disarm, takeoff, land, rtl, interval] = sent;
    expect(commandParams(disarm).slice(0, 2)).toEqual([0, 21196]);
    expect(takeoff.command).toBe(MAV_CMD.NAV_TAKEOFF);
    const tp = commandParams(takeoff);
    expect(Number.isNaN(tp[3]) && Number.isNaN(tp[4]) && Number.isNaN(tp[5])).toBe(true);
    expect(tp[6]).toBe(532.5);
    expect(land.command).toBe(MAV_CMD.NAV_LAND);
    expect(rtl.command).toBe(MAV_CMD.NAV_RETURN_TO_LAUNCH);
    expect(commandParams(interval).slice(0, 2)).toEqual([30, 20_000]);
  });

  it('cancelAll ends every wait with cancelled', async () => {
    const { clock, commander } = setup();
    const p = commander.arm();
    commander.cancelAll();
    expect(await p).toMatchObject({ ok: false, reason: 'cancelled' });
    expect(clock.pendingTimers).toBe(0);
  });
});
