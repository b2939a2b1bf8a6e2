import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AerieError, ERROR_CATALOGUE, isAerieError } from './errors.js';

describe('error catalogue', () => {
  it('documents every code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const missing = Object.keys(ERROR_CATALOGUE).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('prefixes the message with its code and keeps details frozen', () => {
    const err = new AerieError('CLI_USAGE', 'no such subcommand: fly2', { kept: 'nothing changed' });
    expect(err.message).toBe('CLI_USAGE: no such subcommand: fly2');
    expect(isAerieError(err, 'CLI_USAGE')).toBe(true);
    expect(isAerieError(err, 'PORT_IN_USE')).toBe(false);
    expect(Object.isFrozen(err.details)).toBe(true);
  });
});
