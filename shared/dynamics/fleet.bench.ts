/**
 * Throughput of the step kernel: `npx vitest bench --run shared/dynamics`. Each bench steps a whole fleet once by
 * 10 ms, so vehicle-steps per second = the reported hz x the fleet size in the bench's name.
 */
import { bench, describe } from 'vitest';
import { DEFAULT_MULTIROTOR, MultirotorFleet } from './index.js';

function flyingFleet(count: number, gustStdMS: number): MultirotorFleet {
  const fleet = new MultirotorFleet(count, DEFAULT_MULTIROTOR, 7);
  for (let i = 0; i < count; i++) {
    fleet.resetVehicle(i, { positionNedM: [0, 0, -50] });
    fleet.setWind(i, [3, 1, 0], gustStdMS);
    fleet.velocitySetpointNedMS.set([(i % 7) - 3, (i % 3) - 1, ((i % 5) - 2) * 0.5], 3 * i);
    fleet.yawSetpointRad[i] = i * 0.1;
  }
  return fleet;
}

describe('MultirotorFleet.step(0.01)', () => {
  for (const [count, gust] of [
    [1, 0],
    [1000, 0],
    [1000, 2],
    [10000, 2],
  ] as const) {
    const fleet = flyingFleet(count, gust);
    bench(`${count} vehicles, turbulence ${gust} m/s`, () => fleet.step(0.01), { time: 1000 });
  }
});
