import { describe, expect, it } from 'vitest';
import { SequenceTracker } from './sequences.js';

describe('SequenceTracker', () => {
  it('takes each (drone, session, channel, seq) once and reports gaps', () => {
    const t = new SequenceTracker();
    expect(t.accept('d1', 's1', 'events', 1)).toEqual({ kind: 'new', missed: 0 });
    expect(t.accept('d1', 's1', 'events', 2)).toEqual({ kind: 'new', missed: 0 });
    // Resent after a lost PUBACK: everything up to the highest seq taken is a repeat.
    expect(t.accept('d1', 's1', 'events', 1)).toEqual({ kind: 'repeat' });
    expect(t.accept('d1', 's1', 'events', 2)).toEqual({ kind: 'repeat' });
    expect(t.accept('d1', 's1', 'events', 5)).toEqual({ kind: 'new', missed: 2 });
    // Channels, sessions and drones count apart.
    expect(t.accept('d1', 's1', 'metrics', 1)).toEqual({ kind: 'new', missed: 0 });
    expect(t.accept('d1', 's2', 'events', 1)).toEqual({ kind: 'new', missed: 0 });
    expect(t.accept('d2', 's1', 'events', 1)).toEqual({ kind: 'new', missed: 0 });
  });

  it('remembers the last few sessions of a drone, the least recently used forgotten first', () => {
    const t = new SequenceTracker();
    for (const s of ['s1', 's2', 's3', 's4']) t.accept('d1', s, 'events', 3);
    t.accept('d1', 's1', 'events', 4); // s1 used again: s2 is now the oldest
    t.accept('d1', 's5', 'events', 1);
    expect(t.accept('d1', 's1', 'events', 4)).toEqual({ kind: 'repeat' });
    expect(t.accept('d1', 's2', 'events', 3)).toEqual({ kind: 'new', missed: 2 });
    t.forget('d1');
    expect(t.accept('d1', 's1', 'events', 4)).toEqual({ kind: 'new', missed: 3 });
  });

  it('takes what a restarted station restored as seen: a replay is a repeat, the next seq is news', () => {
    const t = new SequenceTracker();
    t.restore('d1', 's1', 'events', 5);
    expect(t.accept('d1', 's1', 'events', 3)).toEqual({ kind: 'repeat' });
    expect(t.accept('d1', 's1', 'events', 5)).toEqual({ kind: 'repeat' });
    expect(t.accept('d1', 's1', 'events', 6)).toEqual({ kind: 'new', missed: 0 });
    // Metrics of the same session are not stored, so they start afresh.
    expect(t.accept('d1', 's1', 'metrics', 1)).toEqual({ kind: 'new', missed: 0 });
  });
});
