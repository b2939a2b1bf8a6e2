import { describe, expect, it } from 'vitest';
import { MSG, StreamScheduler } from './streams.js';

function count(s: StreamScheduler, seconds: number, tickS = 0.01): Map<number, number> {
  const seen = new Map<number, number>();
  for (let k = 0; k < Math.round(seconds / tickS); k++) {
    s.due(k * tickS, (id) => seen.set(id, (seen.get(id) ?? 0) + 1));
  }
  return seen;
}

describe('StreamScheduler', () => {
  it('sends the onboard defaults at their rates in simulated time', () => {
    const seen = count(new StreamScheduler('onboard'), 10);
    expect(seen.get(MSG.HEARTBEAT)).toBe(10);
    expect(seen.get(MSG.LOCAL_POSITION_NED)).toBe(300);
    expect(seen.get(MSG.GPS_RAW_INT)).toBe(80);
    expect(seen.get(MSG.CURRENT_MODE)).toBe(5);
    expect(seen.has(MSG.ATTITUDE)).toBe(false);
  });

  it('follows SET_MESSAGE_INTERVAL: set, stop, restore default; refuses HEARTBEAT and unknown ids', () => {
    const s = new StreamScheduler('onboard');
    expect(s.setInterval(MSG.ATTITUDE, 20_000, 0)).toBe('ok');
    expect(s.setInterval(MSG.LOCAL_POSITION_NED, -1, 0)).toBe('ok');
    expect(s.setInterval(MSG.HEARTBEAT, 100_000, 0)).toBe('refused');
    expect(s.setInterval(4242, 100_000, 0)).toBe('refused');
    const seen = count(s, 2);
    expect(seen.get(MSG.ATTITUDE)).toBe(100);
    expect(seen.has(MSG.LOCAL_POSITION_NED)).toBe(false);
    expect(s.setInterval(MSG.LOCAL_POSITION_NED, 0, 2)).toBe('ok');
    expect(s.intervalS(MSG.LOCAL_POSITION_NED)).toBeCloseTo(1 / 30, 9);
    expect(s.intervalS(MSG.ATTITUDE_QUATERNION)).toBe(Number.POSITIVE_INFINITY);
  });

  it('does not burst after a long step', () => {
    const s = new StreamScheduler('onboard');
    let n = 0;
    s.due(0, () => n++);
    n = 0;
    s.due(100, (id) => {
      if (id === MSG.LOCAL_POSITION_NED) n++;
    });
    expect(n).toBe(1);
  });
});
