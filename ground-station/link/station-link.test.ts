import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, TcpProxy, type TestBroker, uniqueId } from '../../onboard/uplink/test-broker.js';
import { componentLogger } from '../../shared/log/index.js';
import { DropCounters } from '../broker/index.js';
import type { IngestHandlers } from './ingest.js';
import { StationLink } from './station-link.js';

const ignore: IngestHandlers = {
  status: () => undefined,
  telemetry: () => undefined,
  event: () => undefined,
  metrics: () => undefined,
  experience: () => undefined,
  ack: () => undefined,
};

async function waitFor(predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('StationLink reconnection', () => {
  let broker: TestBroker | null = null;
  let proxy: TcpProxy | null = null;
  let link: StationLink | null = null;

  afterEach(async () => {
    await link?.close();
    await proxy?.stop();
    await broker?.close();
    link = null;
    proxy = null;
    broker = null;
  });

  it('tells its listeners after a reconnection, not after the first connection', async () => {
    broker = await startBroker({ privateBroker: true });
    proxy = new TcpProxy(broker.host, broker.port);
    await proxy.start();
    link = await StationLink.connect({
      url: proxy.url,
      protocolVersion: 4,
      clientId: uniqueId('station-'),
      handlers: ignore,
      drops: new DropCounters(),
      logger: componentLogger('station-link-test'),
    });
    let reconnects = 0;
    link.onReconnect(() => reconnects++);
    await new Promise((r) => setTimeout(r, 200));
    expect(reconnects).toBe(0);

    proxy.cut();
    await waitFor(() => reconnects === 1);
    expect(link.connected).toBe(true);

    proxy.cut();
    await waitFor(() => reconnects === 2);
  });
});
