import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_CHANNELS, COMMAND_KINDS, exampleCommands, examplePayloads, TOPIC_PREFIX } from './index.js';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

describe('docs/protocol.md', () => {
  it('names every topic, command kind and payload field', () => {
    for (const channel of ALL_CHANNELS) {
      const topic = ['estop', 'airspace', 'traffic'].includes(channel)
        ? `${TOPIC_PREFIX}/fleet/${channel}`
        : `${TOPIC_PREFIX}/drones/{id}/${channel}`;
      expect(doc, topic).toContain(`\`${topic}\``);
    }
    for (const kind of COMMAND_KINDS) expect(doc, kind).toContain(`\`${kind}\``);
    const examples = examplePayloads() as unknown as Record<string, Record<string, unknown>>;
    const fields = new Set<string>();
    for (const value of [...Object.values(examples), ...(exampleCommands() as unknown as Record<string, unknown>[])]) {
      for (const [k, v] of Object.entries(value)) {
        fields.add(k);
        if (v && typeof v === 'object' && !Array.isArray(v) && k !== 'airspace')
          for (const kk of Object.keys(v)) fields.add(kk);
      }
    }
    const missing = [...fields].filter((f) => !new RegExp(`\\b${f}\\b`).test(doc));
    expect(missing).toEqual([]);
  });
});
