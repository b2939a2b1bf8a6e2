/**
 * `aerie sitl` as a process entry: usage, lines per vehicle, control lines on stdin (good and malformed), a fault
 * schedule, PORT_IN_USE, and a clean stop that frees every port.
 */
import { createSocket, type Socket } from 'node:dgram';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../sitl/cli.js';
import { SITL_CONFIG } from '../../sitl/config.js';
import type { SitlFleet } from '../../sitl/index.js';

/** Ports for this file (away from PX4's and from the other sitl-* files' hashed ranges' usual spots). */
const BASE = 41_000 + (process.pid % 200) * 20;

function capture(): { write(text: string): boolean; text(): string } {
  let out = '';
  return {
    write(text: string) {
      out += text;
      return true;
    },
    text: () => out,
  };
}

async function bind(port: number): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, '127.0.0.1', () => resolve());
  });
  return s;
}

const waitUntil = async (predicate: () => boolean, timeoutMs: number): Promise<boolean> => {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return predicate();
};

describe('aerie sitl CLI', () => {
  it('prints usage with every flag', async () => {
    const stdout = capture();
    expect(await main(['--help'], { stdout, stderr: capture(), stdin: null })).toBe(0);
    for (const key of Object.keys(SITL_CONFIG)) {
      expect(stdout.text()).toContain(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
  });

  it('refuses bad flags with a usage error', async () => {
    const stderr = capture();
    expect(await main(['--vehicles', 'two'], { stdout: capture(), stderr, stdin: null })).toBe(2);
    expect(stderr.text()).toContain('CONFIG_INVALID_VALUE');
    expect(await main(['--fault', '0:warp@1s'], { stdout: capture(), stderr, stdin: null })).toBe(2);
    expect(stderr.text()).toContain('SITL_SCENARIO_INVALID');
  });

  it('runs vehicles, takes control lines and a fault schedule, and stops cleanly', async () => {
    const stdout = capture();
    const stderr = capture();
    const stdin = new PassThrough();
    const stop = new AbortController();
    let fleet: SitlFleet | null = null;
    const ports = [
      '--onboard-port',
      `${BASE}`,
      '--companion-port',
      `${BASE + 4}`,
      '--gcs-port',
      `${BASE + 8}`,
      '--gcs-remote-port',
      `${BASE + 12}`,
    ];
    const run = main(
      [
        '--vehicles',
        '2',
        '--speed',
        '20',
        '--log-level',
        'silent',
        '--fault',
        '1:battery-low@2s:remaining=0.5',
        ...ports,
      ],
      {
        stdout,
        stderr,
        stdin,
        signal: stop.signal,
        onStarted: (f) => {
          fleet = f;
        },
      },
    );
    expect(await waitUntil(() => fleet !== null, 5000)).toBe(true);
    const sim = fleet as unknown as SitlFleet;
    const lines = stdout.text().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('sysid 1');
    expect(lines[0]).toContain(`127.0.0.1:${BASE} -> 127.0.0.1:${BASE + 4}`);
    expect(lines[1]).toContain('sysid 2');
    expect(lines[1]).toContain(`127.0.0.1:${BASE + 9} -> 127.0.0.1:${BASE + 12}`);

    stdin.write('{"vehicle":0,"fault":"gps-loss"}\n');
    stdin.write('this is not json\n');
    stdin.write('{"vehicle":0,"fault":"packet-loss","percent":150}\n');
    expect(await waitUntil(() => sim.status(0).gpsOk === false, 5000)).toBe(true);
    expect(await waitUntil(() => stderr.text().split('\n').length > 2, 5000)).toBe(true);
    expect(stderr.text()).toContain('control line 2 ignored: not JSON');
    expect(stderr.text()).toContain('control line 3 ignored: packet-loss: percent');

    // Faster than real time, and the scheduled fault lands at its simulated time.
    expect(await waitUntil(() => sim.timeS > 3, 10_000)).toBe(true);
    expect(sim.status(1).batteryRemaining).toBeCloseTo(0.5, 2);

    stop.abort();
    expect(await run).toBe(0);
    // Every socket is closed: the ports can be bound again.
    const again = await Promise.all([BASE, BASE + 1, BASE + 8, BASE + 9].map(bind));
    await Promise.all(again.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  it('names the port when it is already taken (PORT_IN_USE)', async () => {
    const taken = await bind(BASE + 15);
    const stderr = capture();
    try {
      const code = await main(
        ['--onboard-port', `${BASE + 15}`, '--gcs-port', `${BASE + 17}`, '--stdin=false', '--log-level', 'silent'],
        {
          stdout: capture(),
          stderr,
          stdin: null,
        },
      );
      expect(code).toBe(3);
      expect(stderr.text()).toContain('PORT_IN_USE');
      expect(stderr.text()).toContain(`${BASE + 15}`);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
