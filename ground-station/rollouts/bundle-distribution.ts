/**
 * Getting a signed bundle onto a drone over MQTT. `installOnDrone(droneId, version)` sends `install-policy`, then the
 * bundle's chunks on the drone's `bundle` channel (or only a URL, when the station serves bundles over HTTP and the
 * caller asks for it), listens to the drone's `policy` events, resends exactly the chunks a `bundle-progress` event
 * lists as missing, and settles when the drone reports `installed` or `refused` (with its reason). It never rejects:
 * a rejected command, a publish error or silence past the deadline is an outcome too.
 *
 * The sender is I/O-free behind two ports (publish a command, publish a chunk) and two feeds (events, acks), so the
 * station can drive it from its own link; `connectBundleLink` wires it to an MQTT client for that.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Result } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import {
  BUNDLE_CHUNK_BYTES,
  type BundleChunk,
  CHANNEL_DELIVERY,
  type Command,
  type CommandAck,
  type DroneEvent,
  decodePayload,
  encodePayload,
  PROTOCOL_VERSION,
  parseDroneTopic,
  topics,
} from '../../shared/protocol/index.js';

export interface BundleLinkPorts {
  sendCommand(droneId: string, command: Command): Promise<Result<void, string>>;
  sendChunk(droneId: string, chunk: BundleChunk): Promise<Result<void, string>>;
}

/** Where the bytes come from: the registry's `bundle(version)`. */
export type BundleSource = (version: string) => Promise<{ bytes: Buffer; sha256: string; version: string } | null>;

export type InstallOutcome =
  | { readonly result: 'installed'; readonly droneId: string; readonly version: string; readonly chunksSent: number }
  | {
      readonly result: 'refused';
      readonly droneId: string;
      readonly version: string;
      /** The drone's BUNDLE_* code when it gave one. */
      readonly code?: string;
      readonly reason: string;
      readonly chunksSent: number;
    }
  | {
      readonly result: 'failed';
      readonly droneId: string;
      readonly version: string;
      readonly reason: string;
      readonly chunksSent: number;
    };

export interface InstallOptions {
  /** 'mqtt' (default): chunks on the bundle channel; 'http': only the URL (chunks still follow a progress report). */
  readonly via?: 'mqtt' | 'http';
  /** Give up after this long without the drone's verdict (default: the sender's). */
  readonly timeoutMs?: number;
}

export interface BundleSenderOptions {
  readonly ports: BundleLinkPorts;
  readonly source: BundleSource;
  /** The station's base URL as drones reach it (for via 'http'), e.g. http://10.0.0.2:8080. */
  readonly publicBaseUrl?: string;
  /** Whole-transfer deadline (default 120 s). */
  readonly timeoutMs?: number;
  /** With no progress report for this long, send every chunk again (default 15 s); at most `maxResends` times. */
  readonly idleResendMs?: number;
  readonly maxResends?: number;
  readonly clock?: () => number;
  readonly logger?: Logger;
}

interface Transfer {
  readonly droneId: string;
  readonly version: string;
  readonly commandId: string;
  readonly transferId: string;
  readonly chunks: BundleChunk[];
  chunksSent: number;
  resends: number;
  /** A resend of these indexes is under way; further reports wait for it. */
  sending: Promise<void> | null;
  settle(outcome: InstallOutcome): void;
  idleTimer?: NodeJS.Timeout;
}

/** Split a bundle file into protocol chunks. */
export function bundleChunks(bytes: Buffer, version: string, transferId: string): BundleChunk[] {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const count = Math.ceil(bytes.length / BUNDLE_CHUNK_BYTES);
  return Array.from({ length: count }, (_, index) => {
    const data = bytes.subarray(index * BUNDLE_CHUNK_BYTES, (index + 1) * BUNDLE_CHUNK_BYTES);
    return {
      schema: PROTOCOL_VERSION,
      transferId,
      version,
      sha256,
      totalBytes: bytes.length,
      index,
      count,
      chunkSha256: createHash('sha256').update(data).digest('hex'),
      data: data.toString('base64'),
    };
  });
}

export class BundleSender {
  private readonly options: BundleSenderOptions;
  private readonly clock: () => number;
  /** Open transfers by transferId. */
  private readonly transfers = new Map<string, Transfer>();

  constructor(options: BundleSenderOptions) {
    this.options = options;
    this.clock = options.clock ?? Date.now;
  }

  /** Transfers under way (droneId, version, chunks sent). */
  pending(): { droneId: string; version: string; transferId: string; chunksSent: number }[] {
    return [...this.transfers.values()].map((t) => ({
      droneId: t.droneId,
      version: t.version,
      transferId: t.transferId,
      chunksSent: t.chunksSent,
    }));
  }

  /** Install `version` on the drone; settles with the drone's verdict (or a failure), never rejects. */
  async installOnDrone(droneId: string, version: string, options: InstallOptions = {}): Promise<InstallOutcome> {
    return (await this.startInstall(droneId, version, options)).outcome;
  }

  /**
   * Start an install: `started` says whether install-policy went out (for a caller that does not wait for the
   * transfer, like the rollout manager, which hears the verdict as a policy event); `outcome` settles as
   * installOnDrone's.
   */
  async startInstall(
    droneId: string,
    version: string,
    options: InstallOptions = {},
  ): Promise<{ started: Result<void, string>; outcome: Promise<InstallOutcome> }> {
    const failed = (reason: string): InstallOutcome => ({ result: 'failed', droneId, version, reason, chunksSent: 0 });
    const refusedToStart = (reason: string) => ({
      started: { ok: false as const, reason },
      outcome: Promise.resolve(failed(reason)),
    });
    const bundle = await this.options.source(version);
    if (!bundle) return refusedToStart(`no bundle for ${version} in the registry`);
    const transferId = `t-${bundle.sha256.slice(0, 12)}-${randomBytes(4).toString('hex')}`;
    const commandId = `install-${transferId}`;
    const via = options.via ?? 'mqtt';
    if (via === 'http' && !this.options.publicBaseUrl) return refusedToStart('no public base URL for an HTTP transfer');

    let settle!: (o: InstallOutcome) => void;
    const done = new Promise<InstallOutcome>((resolve) => {
      settle = resolve;
    });
    const t: Transfer = {
      droneId,
      version,
      commandId,
      transferId,
      chunks: bundleChunks(bundle.bytes, version, transferId),
      chunksSent: 0,
      resends: 0,
      sending: null,
      settle: (o) => {
        if (!this.transfers.has(transferId)) return;
        this.transfers.delete(transferId);
        clearTimeout(deadline);
        clearTimeout(t.idleTimer);
        this.options.logger?.info(
          { droneId, version, result: o.result, chunksSent: o.chunksSent },
          'bundle transfer ended',
        );
        settle(o);
      },
    };
    this.transfers.set(transferId, t);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? 120_000;
    const deadline = setTimeout(
      () => t.settle({ ...failed(`no verdict from ${droneId} within ${timeoutMs} ms`), chunksSent: t.chunksSent }),
      timeoutMs,
    );

    const command: Command = {
      schema: PROTOCOL_VERSION,
      commandId,
      timeMs: this.clock(),
      target: droneId,
      kind: 'install-policy',
      version,
      sha256: bundle.sha256,
      totalBytes: bundle.bytes.length,
      transferId,
      ...(via === 'http'
        ? {
            url: `${this.options.publicBaseUrl?.replace(/\/+$/, '')}/api/policies/${encodeURIComponent(version)}/bundle`,
          }
        : {}),
    };
    const sent = await this.options.ports.sendCommand(droneId, command);
    if (!sent.ok) {
      t.settle({ ...failed(`install-policy not sent: ${sent.reason}`), chunksSent: 0 });
      return { started: sent, outcome: done };
    }
    // Chunks follow at once: the drone keeps what arrives before it has answered the command.
    if (via === 'mqtt')
      void this.send(
        t,
        t.chunks.map((c) => c.index),
      );
    else this.armIdle(t);
    return { started: { ok: true, value: undefined }, outcome: done };
  }

  /** Feed the drone's acks (the station's ingest calls this for every ack). */
  handleAck(droneId: string, ack: CommandAck): void {
    for (const t of this.transfers.values()) {
      if (t.droneId !== droneId || t.commandId !== ack.commandId) continue;
      if (ack.result !== 'accepted') {
        t.settle({
          result: 'refused',
          droneId,
          version: t.version,
          code: ack.result,
          reason: `install-policy ${ack.result}${ack.reason ? `: ${ack.reason}` : ''}`,
          chunksSent: t.chunksSent,
        });
      }
    }
  }

  /** Feed the drone's events (only `policy` ones matter). */
  handleEvent(droneId: string, event: DroneEvent): void {
    if (event.kind !== 'policy') return;
    const t = [...this.transfers.values()].find(
      (x) =>
        x.droneId === droneId &&
        (event.transferId === x.transferId ||
          event.commandId === x.commandId ||
          (event.transferId === undefined && event.commandId === undefined && event.policyVersion === x.version)),
    );
    if (!t) return;
    switch (event.action) {
      case 'installed':
        t.settle({ result: 'installed', droneId, version: t.version, chunksSent: t.chunksSent });
        return;
      case 'refused':
        t.settle({
          result: 'refused',
          droneId,
          version: t.version,
          ...(event.code ? { code: event.code } : {}),
          reason: event.reason ?? event.detail ?? 'refused without a reason',
          chunksSent: t.chunksSent,
        });
        return;
      case 'bundle-progress': {
        const missing = (event.missingChunks ?? []).filter((i) => i >= 0 && i < t.chunks.length);
        if (missing.length > 0) void this.send(t, missing);
        else this.armIdle(t);
        return;
      }
      default:
        return;
    }
  }

  private async send(t: Transfer, indexes: number[]): Promise<void> {
    clearTimeout(t.idleTimer);
    // One batch at a time: a report that arrives mid-batch is answered after it (the drone reports again).
    while (t.sending) await t.sending;
    if (!this.transfers.has(t.transferId)) return;
    t.sending = (async () => {
      for (const i of [...new Set(indexes)].sort((a, b) => a - b)) {
        if (!this.transfers.has(t.transferId)) return;
        const r = await this.options.ports.sendChunk(t.droneId, t.chunks[i]);
        if (!r.ok) {
          t.settle({
            result: 'failed',
            droneId: t.droneId,
            version: t.version,
            reason: `chunk ${i} not sent: ${r.reason}`,
            chunksSent: t.chunksSent,
          });
          return;
        }
        t.chunksSent++;
      }
    })();
    await t.sending;
    t.sending = null;
    this.armIdle(t);
  }

  /** Silence after the last send: the drone may have lost everything (restart without its chunk folder). */
  private armIdle(t: Transfer): void {
    clearTimeout(t.idleTimer);
    if (!this.transfers.has(t.transferId)) return;
    t.idleTimer = setTimeout(() => {
      if ((this.options.maxResends ?? 3) <= t.resends) return;
      t.resends++;
      this.options.logger?.warn(
        { droneId: t.droneId, version: t.version },
        'no bundle progress; sending every chunk again',
      );
      void this.send(
        t,
        t.chunks.map((c) => c.index),
      );
    }, this.options.idleResendMs ?? 15_000);
    t.idleTimer.unref?.();
  }

  /** Settle every open transfer as failed (station shutting down). */
  close(reason = 'station stopping'): void {
    for (const t of [...this.transfers.values()]) {
      t.settle({ result: 'failed', droneId: t.droneId, version: t.version, reason, chunksSent: t.chunksSent });
    }
  }
}

/** The ports on an MQTT client with the station's rights: commands and chunks, QoS 1. */
export function mqttBundlePorts(client: MqttClient): BundleLinkPorts {
  const publish = async (topic: string, payload: Result<Buffer, string>, qos: 0 | 1): Promise<Result<void, string>> => {
    if (!payload.ok) return payload;
    try {
      await client.publishAsync(topic, payload.value, { qos, retain: false });
      return { ok: true, value: undefined };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  };
  return {
    sendCommand: (droneId, command) =>
      publish(topics.droneCommands(droneId), encodePayload('commands', command), CHANNEL_DELIVERY.commands.qos),
    sendChunk: (droneId, chunk) =>
      publish(topics.droneBundle(droneId), encodePayload('bundle', chunk), CHANNEL_DELIVERY.bundle.qos),
  };
}

/**
 * A BundleSender on its own MQTT client: it publishes with the client and reads every drone's events and acks from
 * it (subscribing to them). Returns the sender and a function that detaches it.
 */
export async function connectBundleLink(
  client: MqttClient,
  options: Omit<BundleSenderOptions, 'ports'>,
): Promise<{ sender: BundleSender; detach: () => Promise<void> }> {
  const sender = new BundleSender({ ...options, ports: mqttBundlePorts(client) });
  const onMessage = (topic: string, payload: Buffer) => {
    const t = parseDroneTopic(topic);
    if (!t) return;
    if (t.channel === 'events') {
      const r = decodePayload('events', payload);
      if (r.ok && r.value.id === t.id) sender.handleEvent(t.id, r.value);
    } else if (t.channel === 'acks') {
      const r = decodePayload('acks', payload);
      if (r.ok) sender.handleAck(t.id, r.value);
    }
  };
  client.on('message', onMessage);
  const filters = [topics.allDrones('events'), topics.allDrones('acks')];
  await client.subscribeAsync(filters, { qos: 1 });
  return {
    sender,
    detach: async () => {
      sender.close();
      client.off('message', onMessage);
      await client.unsubscribeAsync(filters).catch(() => undefined);
    },
  };
}
