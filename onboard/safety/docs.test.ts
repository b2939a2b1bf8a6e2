import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SAFETY_CONFIG, SAFETY_CONFIG_SCHEMA } from './config.js';
import { monitorRules } from './monitor-rules.js';

/** The README's table rows keyed by their first cell's `code`, cells trimmed (the formatter pads them). */
const rows = new Map<string, string[]>();
for (const line of readFileSync(new URL('./README.md', import.meta.url), 'utf8').split('\n')) {
  const cells = line.split('|').map((c) => c.trim());
  const key = /^`([A-Za-z0-9_]+)`$/.exec(cells[1] ?? '');
  if (line.trimStart().startsWith('|') && key) rows.set(key[1], cells.slice(1, -1));
}

describe('README stays in step with the code', () => {
  it('documents every configuration key with its default', () => {
    const wrong = Object.entries(SAFETY_CONFIG_SCHEMA)
      .filter(([key, decl]) => rows.get(key)?.[1] !== String(decl.default))
      .map(([key]) => key);
    expect(wrong).toEqual([]);
  });

  it('lists every monitor rule with its action', () => {
    const wrong = monitorRules(DEFAULT_SAFETY_CONFIG)
      .filter((r) => rows.get(r.name)?.[1] !== r.action)
      .map((r) => r.name);
    expect(wrong).toEqual([]);
  });
});
