/**
 * Repeats of a drone's QoS 1 messages. Events and metrics are delivered at least once (a drone resends what was in
 * flight when its connection dropped) and in order within a (drone, session, channel), so the highest seq taken so
 * far tells a repeat from news: a repeat must not be counted twice by monitoring nor move an order twice.
 * Memory is bounded: a few recent sessions per drone (a restart replays the previous session's queue first).
 */

/** The channels whose messages carry a per-session `seq`. */
export type SequencedChannel = 'events' | 'metrics';

export type SequenceVerdict =
  /** Next in line, or after a gap of `missed` messages that never came. */
  | { readonly kind: 'new'; readonly missed: number }
  /** Already taken: at or below the highest seq of that session and channel. */
  | { readonly kind: 'repeat' };

const SESSIONS_PER_DRONE = 4;

export class SequenceTracker {
  /** drone -> session -> channel -> highest seq taken; sessions in least-recently-used order. */
  private readonly drones = new Map<string, Map<string, Record<SequencedChannel, number>>>();

  /** Judge one message and, when new, take it. */
  accept(droneId: string, sessionId: string, channel: SequencedChannel, seq: number): SequenceVerdict {
    let sessions = this.drones.get(droneId);
    if (!sessions) {
      sessions = new Map();
      this.drones.set(droneId, sessions);
    }
    let high = sessions.get(sessionId);
    if (high) {
      sessions.delete(sessionId);
    } else {
      high = { events: 0, metrics: 0 };
      if (sessions.size >= SESSIONS_PER_DRONE) {
        const oldest = sessions.keys().next().value as string;
        sessions.delete(oldest);
      }
    }
    sessions.set(sessionId, high);
    if (seq <= high[channel]) return { kind: 'repeat' };
    const missed = seq - high[channel] - 1;
    high[channel] = seq;
    return { kind: 'new', missed };
  }

  /**
   * Take `seq` as already seen for (drone, session, channel), as a restarted station does with what it stored: a
   * replay of the drone's queue then counts as repeats, not news. Sessions restored later count as more recent.
   */
  restore(droneId: string, sessionId: string, channel: SequencedChannel, seq: number): void {
    this.accept(droneId, sessionId, channel, seq);
  }

  /** Forget a drone (removed from the fleet). */
  forget(droneId: string): void {
    this.drones.delete(droneId);
  }
}
