/**
 * sitl.realtime_factor.N: simulated seconds per wall second for N vehicles running flat out with their streams on
 * (encoded, sent to null transports), each taking off and hovering.
 */
import { runFlatOut } from '../../sitl/index.js';
import type { Benchmark } from './harness.js';

export const sitlRealtime: Benchmark = {
  name: 'sitl',
  figures: ['sitl.realtime_factor.1', 'sitl.realtime_factor.100'],
  async run() {
    await runFlatOut(1, 30); // warm the JIT
    let one = 0;
    for (let i = 0; i < 3; i++) one = Math.max(one, (await runFlatOut(1, 300)).realtimeFactor);
    let hundred = 0;
    let messages = 0;
    for (let i = 0; i < 2; i++) {
      const r = await runFlatOut(100, 30);
      if (r.realtimeFactor > hundred) {
        hundred = r.realtimeFactor;
        messages = r.messagesOut;
      }
    }
    return [
      { name: 'sitl.realtime_factor.1', value: one, unit: 'x', note: 'goal >= 100; best of 3 runs of 300 simulated s' },
      {
        name: 'sitl.realtime_factor.100',
        value: hundred,
        unit: 'x',
        note: `goal >= 1; best of 2 runs of 30 simulated s, ${messages} messages encoded`,
      },
    ];
  },
};
