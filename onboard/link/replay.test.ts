/**
 * The whole AutopilotLink against real PX4 bytes: PX4's side of the recorded conversation is fed in at its recorded
 * times on a stepped clock, and the link issues the commands the recorded client issued, at the same moments, so
 * PX4's recorded COMMAND_ACKs answer them.
 */
import { describe, expect, it } from 'vitest';
import { minimal } from '../../shared/mavlink/index.js';
import { AutopilotLink } from './autopilot-link.js';
import { ManualClock } from './clock.js';
import type { CommandResult } from './commander.js';
import { parseLinkConfig } from './config.js';
import { loadReferenceTlog, MemoryTransport } from './test-support.js';
import type { WaitResult } from './waiters.js';

describe('AutopilotLink replaying the recorded PX4 v1.15.4 conversation', () => {
  it('tracks link, modes, arming and landing, and gets the recorded answers to its commands', async () => {
    const { records, msOf } = loadReferenceTlog();
    const clock = new ManualClock(0);
    const transport = new MemoryTransport(); // what we send is kept in transport.sent
    // The recorded client's identity, so PX4's recorded ACKs are addressed to us.
    const config = parseLinkConfig({
      mavlinkSysid: 255,
      mavlinkCompid: 190,
      commandRetries: 3,
      commandRetryPauseMs: 1000,
    });
    const link = new AutopilotLink({ config, transport, clock });
    const ups: number[] = [];
    const downs: number[] = [];
    link.onLinkUp(() => ups.push(clock.nowMs()));
    link.onLinkDown(() => downs.push(clock.nowMs()));
    await link.start();

    const results: Record<string, CommandResult> = {};
    const waits: Record<string, WaitResult & { atMs: number }> = {};
    const command = (name: string, p: Promise<CommandResult>) => p.then((r) => (results[name] = r));
    const wait = (name: string, p: Promise<WaitResult>) => p.then((r) => (waits[name] = { ...r, atMs: clock.nowMs() }));
    const actions: [number, () => void][] = [
      [5412, () => command('offboard', link.setMode('OFFBOARD'))],
      [5419, () => command('armTooEarly', link.arm())],
      [10_000, () => wait('armed', link.waitForArmed(true, 60_000))],
      [35_227, () => command('arm', link.arm())],
      [40_000, () => wait('posctl', link.waitForMode('POSCTL', 60_000))],
      [40_000, () => wait('landed', link.waitForLanded(60_000))],
      [46_693, () => command('land', link.land())],
      [50_000, () => wait('disarmed', link.waitForArmed(false, 60_000))],
    ];
    let next = 0;
    for (const r of records) {
      if (r.frame[5] !== 1) continue;
      const atMs = msOf(r);
      while (next < actions.length && actions[next][0] <= atMs) {
        clock.advanceTo(actions[next][0]);
        actions[next][1]();
        next++;
      }
      clock.advanceTo(atMs);
      link.mavlink.receive(r.frame);
      await Promise.resolve(); // let resolved commands settle in order
    }
    const endMs = clock.nowMs();
    await new Promise((r) => setImmediate(r));

    expect(ups).toHaveLength(1);
    expect(ups[0]).toBeCloseTo(409, -1);
    expect(downs).toHaveLength(0); // PX4's 1 Hz HEARTBEAT never paused for 2 s

    expect(results.offboard).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });
    // Before the setpoint stream had run, PX4 kept answering TEMPORARILY_REJECTED: retried after each pause, then
    // given up on after 1 + 3 attempts.
    expect(results.armTooEarly).toEqual({ ok: false, reason: 'rejected', result: 'TEMPORARILY_REJECTED', attempts: 4 });
    expect(results.arm).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });
    expect(results.land).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });

    expect(waits.armed).toMatchObject({ ok: true });
    expect(waits.armed.atMs / 1000).toBeCloseTo(35.37, 1);
    expect(waits.posctl.atMs / 1000).toBeCloseTo(46.69, 1);
    expect(waits.landed.atMs / 1000).toBeCloseTo(60.07, 1);
    expect(waits.disarmed.atMs / 1000).toBeCloseTo(62.12, 1);

    const s = link.state();
    expect(s.armed).toBe(false);
    expect(s.landedState).toBe('on-ground');
    expect(s.home).not.toBeNull();
    expect(s.heartbeatAgeMs).toBeLessThan(1100);

    // Our HEARTBEAT went out at 1 Hz for the whole replay.
    expect(link.counters.heartbeatsSent).toBe(Math.floor(endMs / 1000) + 1);
    const ourHeartbeats = transport.sent.filter((b) => b[7] === minimal.Heartbeat.MSG_ID && b[8] === 0 && b[9] === 0);
    expect(ourHeartbeats).toHaveLength(link.counters.heartbeatsSent);

    // PX4 never answered our SET_MESSAGE_INTERVAL requests in this recording (the client did not send any): noted.
    expect(link.intervalStatus().every((i) => i.status === 'unanswered')).toBe(true);

    // Two seconds after PX4's last HEARTBEAT, the link is declared down.
    clock.advance(2500);
    expect(downs).toHaveLength(1);
    expect(link.isUp).toBe(false);
    await link.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});
