import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertTransition } from './alert-engine.js';
import { WebhookNotifier, type WebhookPayload } from './webhook.js';

const transition = (to: AlertTransition['to'], rule = 'battery-low'): AlertTransition => ({
  alertId: `${rule}/drone:d1/1`,
  rule,
  scopeKey: 'drone:d1',
  severity: 'warning',
  from: to === 'resolved' ? 'firing' : 'pending',
  to,
  atMs: 1,
  value: 0.2,
  description: 'Battery below 25 %.',
});

interface Received {
  readonly body: WebhookPayload;
  readonly contentType: string | undefined;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A receiver on 127.0.0.1 answering each request with the next status of `script` (the last one repeats). */
async function receiver(
  script: readonly (number | 'hang')[],
  headers: Record<string, string> = {},
): Promise<{ url: string; received: Received[]; hits: () => number }> {
  const received: Received[] = [];
  let hits = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const step = script[Math.min(hits, script.length - 1)];
    hits++;
    let data = '';
    req.on('data', (chunk) => {
      data += chunk;
    });
    req.on('end', () => {
      if (step === 'hang') return; // never answer: the notifier's timeout must cut it
      if (step >= 200 && step < 300) {
        received.push({ body: JSON.parse(data) as WebhookPayload, contentType: req.headers['content-type'] });
      }
      res.writeHead(step, headers).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, hits: () => hits };
}

const fast = { initialBackoffMs: 5, maxBackoffMs: 50 };

describe('WebhookNotifier', () => {
  it('returns at once, then retries a failing receiver until it takes the JSON', async () => {
    const r = await receiver([503, 500, 200]);
    const n = new WebhookNotifier({ urls: [r.url], ...fast, nowMs: () => 42 });
    n.notify([transition('firing'), transition('pending', 'other')]);
    expect(r.hits()).toBe(0); // notify queued; nothing has been sent yet
    await n.flush();
    expect(r.hits()).toBe(3);
    expect(r.received).toHaveLength(1);
    expect(r.received[0].contentType).toBe('application/json');
    expect(r.received[0].body).toEqual({
      schema: '1.0',
      kind: 'alert-transitions',
      sentAtMs: 42,
      transitions: [transition('firing')], // pending transitions are not sent by default
    });
    expect(n.stats()).toEqual({ delivered: 1, failed: 0, retries: 2, dropped: 0, queued: 0 });
  });

  it('gives up on a 4xx that retrying cannot fix, and after maxAttempts on persistent errors', async () => {
    const bad = await receiver([400]);
    const down = await receiver([500]);
    const n1 = new WebhookNotifier({ urls: [bad.url], ...fast });
    const n2 = new WebhookNotifier({ urls: [down.url], ...fast, maxAttempts: 3 });
    n1.notify([transition('firing')]);
    n2.notify([transition('firing')]);
    await Promise.all([n1.flush(), n2.flush()]);
    expect(bad.hits()).toBe(1);
    expect(n1.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 0 });
    expect(down.hits()).toBe(3);
    expect(n2.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 2 });
  });

  it('retries a refused connection and a receiver that never answers (timeout)', async () => {
    const hang = await receiver(['hang', 200]);
    const closed = await receiver([200]);
    const closedUrl = closed.url;
    const s = servers.pop() as Server;
    await new Promise((resolve) => s.close(resolve)); // nothing listens there now
    const n = new WebhookNotifier({ urls: [hang.url, closedUrl], ...fast, timeoutMs: 200, maxAttempts: 2 });
    n.notify([transition('resolved')]);
    await n.flush();
    expect(hang.hits()).toBe(2);
    expect(hang.received).toHaveLength(1);
    expect(n.stats()).toMatchObject({ delivered: 1, failed: 1, retries: 2 });
  });

  it('backs off exponentially with jitter, honours Retry-After up to the cap', async () => {
    const r = await receiver([429, 503, 500, 200], { 'retry-after': '0' });
    const delays: number[] = [];
    const n = new WebhookNotifier({
      urls: [r.url],
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
      random: () => 0, // the low end of the jitter: base / 2
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    n.notify([transition('firing')]);
    await n.flush();
    expect(delays).toEqual([50, 100, 200]);

    const slow = await receiver([503, 200], { 'retry-after': '30' });
    const d2: number[] = [];
    const n2 = new WebhookNotifier({
      urls: [slow.url],
      initialBackoffMs: 100,
      maxBackoffMs: 5000,
      sleep: async (ms) => {
        d2.push(ms);
      },
    });
    n2.notify([transition('firing')]);
    await n2.flush();
    expect(d2).toEqual([5000]); // 30 s asked, capped at maxBackoffMs
  });

  it('keeps order per URL, serves every URL, and drops the oldest when a queue is full', async () => {
    const a = await receiver([200]);
    const b = await receiver([200]);
    const n = new WebhookNotifier({ urls: [a.url, b.url], ...fast, maxQueue: 3 });
    for (const rule of ['r1', 'r2', 'r3', 'r4', 'r5']) n.notify([transition('firing', rule)]);
    await n.flush();
    // The first is already in flight when the rest queue; of r2..r5 the oldest (r2) is dropped.
    const rules = (x: { received: Received[] }) => x.received.map((m) => m.body.transitions[0].rule);
    expect(rules(a)).toEqual(['r1', 'r3', 'r4', 'r5']);
    expect(rules(b)).toEqual(['r1', 'r3', 'r4', 'r5']);
    expect(n.stats()).toMatchObject({ delivered: 8, dropped: 2 });
  });

  it('stops promptly even in the middle of a long backoff', async () => {
    const r = await receiver([500]);
    const n = new WebhookNotifier({ urls: [r.url], sleep: () => new Promise(() => {}) });
    n.notify([transition('firing')]);
    while (r.hits() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await n.stop();
    n.notify([transition('firing')]);
    expect(n.stats()).toMatchObject({ delivered: 0, dropped: 1, queued: 0 });
  });
});
