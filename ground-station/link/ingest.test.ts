import { describe, expect, it } from 'vitest';
import { examplePayloads } from '../../shared/protocol/index.js';
import { DropCounters } from '../broker/index.js';
import { type IngestHandlers, ingestMessage } from './ingest.js';

function recorder(): { handlers: IngestHandlers; calls: string[] } {
  const calls: string[] = [];
  const handlers: IngestHandlers = {
    status: (p) => calls.push(`status ${p.kind}`),
    telemetry: (p) => calls.push(`telemetry ${p.seq}`),
    event: (p) => calls.push(`event ${p.kind}`),
    metrics: (p) => calls.push(`metrics ${p.seq}`),
    experience: (p) => calls.push(`experience ${p.seq}`),
    ack: (id, p) => calls.push(`ack ${id} ${p.result}`),
  };
  return { handlers, calls };
}

const bytes = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('ingestMessage', () => {
  it('routes each valid payload to its handler', () => {
    const { handlers, calls } = recorder();
    const drops = new DropCounters();
    const ex = examplePayloads();
    const now = 1;
    expect(ingestMessage('aerie/v1/drones/d1/status', bytes(ex.status), handlers, drops, now)).toBe('handled');
    ingestMessage('aerie/v1/drones/d1/telemetry', bytes(ex.telemetry), handlers, drops, now);
    ingestMessage('aerie/v1/drones/d1/events', bytes(ex.events), handlers, drops, now);
    ingestMessage('aerie/v1/drones/d1/metrics', bytes(ex.metrics), handlers, drops, now);
    ingestMessage('aerie/v1/drones/d1/experience', bytes(ex.experience), handlers, drops, now);
    ingestMessage('aerie/v1/drones/d1/acks', bytes(ex.acks), handlers, drops, now);
    expect(calls).toEqual([
      'status birth',
      'telemetry 1',
      'event mission',
      `metrics ${ex.metrics.seq}`,
      `experience ${ex.experience.seq}`,
      `ack d1 ${ex.acks.result}`,
    ]);
    expect(drops.total()).toBe(0);
  });

  it('drops and counts malformed, unknown and inconsistent messages by reason, without calling handlers', () => {
    const { handlers, calls } = recorder();
    const drops = new DropCounters();
    const ex = examplePayloads();
    const t = 'aerie/v1/drones/d1/telemetry';
    const cases: [string, Uint8Array][] = [
      [t, bytes('{not json')],
      [t, Uint8Array.from([0xff, 0xfe, 0x00])],
      [t, bytes({ ...ex.telemetry, schema: '2.0' })],
      [t, bytes({ ...ex.telemetry, schema: undefined })],
      [t, bytes({ ...ex.telemetry, batteryRemaining: 'full' })],
      [t, bytes({ ...ex.telemetry, id: 'd2' })],
      [t, bytes('[1,2]')],
      [t, new Uint8Array(9000).fill(0x20)],
      ['aerie/v1/drones/d1/events', bytes({ ...ex.events, kind: 'party' })],
      ['aerie/v1/drones/d1/bogus', bytes(ex.telemetry)],
      ['aerie/v2/drones/d1/telemetry', bytes(ex.telemetry)],
      ['somewhere/else', bytes('x')],
    ];
    for (const [topic, payload] of cases) expect(ingestMessage(topic, payload, handlers, drops, 1)).toBe('dropped');
    expect(calls).toEqual([]);
    expect(drops.snapshot()).toEqual({
      'events:unknown-kind': 1,
      'telemetry:id-mismatch': 1,
      'telemetry:invalid-fields': 1,
      'telemetry:not-json': 2,
      'telemetry:not-utf8': 1,
      'telemetry:oversize': 1,
      'telemetry:schema-version': 2,
      'unknown-topic': 3,
    });
  });

  it('counts a handler that throws instead of crashing, and ignores echoes of commands and cleared statuses', () => {
    const { handlers } = recorder();
    const drops = new DropCounters();
    const ex = examplePayloads();
    const throwing = {
      ...handlers,
      telemetry: () => {
        throw new Error('bug');
      },
    };
    expect(ingestMessage('aerie/v1/drones/d1/telemetry', bytes(ex.telemetry), throwing, drops, 1)).toBe('dropped');
    expect(drops.get('telemetry:handler-error')).toBe(1);
    expect(ingestMessage('aerie/v1/drones/d1/commands', bytes('{}'), handlers, drops, 1)).toBe('ignored');
    expect(ingestMessage('aerie/v1/drones/d1/status', new Uint8Array(0), handlers, drops, 1)).toBe('ignored');
    expect(drops.total()).toBe(1);
  });
});
