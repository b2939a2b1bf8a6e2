import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';

describe('ManualClock', () => {
  it('fires timers in due order at their due time, including ones scheduled while advancing', () => {
    const clock = new ManualClock(100, 1_000_000);
    const fired: [string, number][] = [];
    clock.setTimer(() => fired.push(['b', clock.nowMs()]), 50);
    clock.setTimer(() => fired.push(['a', clock.nowMs()]), 20);
    const tick = () => {
      fired.push(['tick', clock.nowMs()]);
      clock.setTimer(tick, 30);
    };
    clock.setTimer(tick, 30);
    const cancelled = clock.setTimer(() => fired.push(['never', clock.nowMs()]), 10);
    clock.clearTimer(cancelled);
    clock.advance(95);
    expect(fired).toEqual([
      ['a', 120],
      ['tick', 130],
      ['b', 150],
      ['tick', 160],
      ['tick', 190],
    ]);
    expect(clock.nowMs()).toBe(195);
    expect(clock.wallMs()).toBe(1_000_195);
    expect(clock.pendingTimers).toBe(1);
  });

  it('never goes backwards', () => {
    const clock = new ManualClock(500);
    clock.advanceTo(100);
    expect(clock.nowMs()).toBe(500);
  });
});
