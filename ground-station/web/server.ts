/**
 * The station's JSON HTTP API (fastify). Every /api route needs `Authorization: Bearer <operator token>` (401
 * otherwise); /metrics is open unless a scrape token is set; /healthz is open. Request bodies are validated with
 * zod and refused with 400 and the list of problems. The routes call small ports the station wires in.
 */
import { Readable } from 'node:stream';
import Fastify, { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Result } from '../../shared/errors.js';
import type { Logger } from '../../shared/log/index.js';
import type { RequestIssue } from '../deliveries/index.js';
import type { ExperienceFilter } from '../experience/index.js';
import type { OrderEvent, OrderRecord, OrderStatus } from '../storage/index.js';
import { ORDER_STATUSES } from '../storage/index.js';
import { type AirspacePort, registerAirspaceRoutes } from './airspace-routes.js';
import { bearerMatches } from './auth.js';
import { registerDashboardAssets } from './dashboard/assets.js';
import { isPolicyBundleRequest, type PolicyPort, registerPolicyRoutes } from './policy-routes.js';
import { type RolloutPort, registerRolloutRoutes } from './rollout-routes.js';
import { type DashboardStream, queryTokenMatches } from './stream.js';

export interface DeliveriesPort {
  create(body: unknown, nowMs: number): Promise<Result<Record<string, unknown>, RequestIssue[]>>;
  list(query: { statuses?: OrderStatus[]; limit?: number; offset?: number }): Promise<Record<string, unknown>[]>;
  get(id: string): Promise<{ order: Record<string, unknown>; history: OrderEvent[] } | null>;
  cancel(
    id: string,
    nowMs: number,
  ): Promise<{ order: OrderRecord; view: Record<string, unknown>; changed: boolean } | null>;
}

export interface FleetPort {
  list(nowMs: number): unknown[];
  get(id: string, nowMs: number): unknown | null;
  /** A drone's stored events, oldest first; null when the drone is unknown. */
  events(id: string, query: { sessionId?: string; afterRowId?: number; limit?: number }): Promise<unknown[] | null>;
}

export interface MonitoringPort {
  /** JSON for the dashboard: windowed metrics of one scope; a reason string for a bad query (400). */
  metrics(query: { window: string; scope: string; metric?: string }, nowMs: number): Result<unknown, string>;
  alerts(query: { state?: string }, nowMs: number): unknown;
  /** Acknowledge an alert; false when there is no such alert. */
  ack(alertId: string, by: string, nowMs: number): Promise<boolean>;
  prometheus(nowMs: number): string;
}

export interface ExperiencePort {
  exportChunks(filter: ExperienceFilter): AsyncGenerator<Uint8Array>;
}

export interface WebDeps {
  readonly operatorToken: string;
  readonly metricsToken?: string;
  readonly deliveries: DeliveriesPort;
  readonly fleet: FleetPort;
  readonly monitoring: MonitoringPort;
  readonly experience: ExperiencePort;
  readonly airspace?: AirspacePort;
  /** The policy registry (/api/policies); absent: 404. */
  readonly policies?: PolicyPort;
  /** Policy rollouts (/api/rollouts); absent: 404. */
  readonly rollouts?: RolloutPort;
  readonly status: (nowMs: number) => Promise<unknown>;
  /** The dashboard's live stream (GET /api/stream); absent: 404. */
  readonly stream?: DashboardStream;
  /** Publish the fleet-wide emergency stop (POST /api/fleet/estop); absent: 404. */
  readonly fleetEstop?: (reason: string, nowMs: number) => Promise<Result<{ commandId: string }, string>>;
  readonly clock: () => number;
  readonly logger: Logger;
}

function unauthorized(reply: FastifyReply): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="aerie"')
    .send({ error: 'unauthorized', message: 'send Authorization: Bearer <operator token>' });
}

function badRequest(reply: FastifyReply, message: string, issues: RequestIssue[] = []): FastifyReply {
  return reply.code(400).send({ error: 'invalid-request', message, issues });
}

function parseStatuses(text: unknown): Result<OrderStatus[] | undefined, string> {
  if (text === undefined || text === '') return { ok: true, value: undefined };
  if (typeof text !== 'string') return { ok: false, reason: 'status: expected a comma-separated list' };
  const parts = text.split(',').map((s) => s.trim());
  const bad = parts.filter((p) => !(ORDER_STATUSES as readonly string[]).includes(p));
  if (bad.length > 0)
    return { ok: false, reason: `status: unknown ${bad.join(', ')}; known: ${ORDER_STATUSES.join(', ')}` };
  return { ok: true, value: parts as OrderStatus[] };
}

function parseIntParam(name: string, text: unknown, min: number, max: number): Result<number | undefined, string> {
  if (text === undefined || text === '') return { ok: true, value: undefined };
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    return { ok: false, reason: `${name}: expected an integer ${min}..${max}` };
  return { ok: true, value: n };
}

export async function buildWebServer(deps: WebDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) deps.logger.error({ err: err.message }, 'request failed');
    const error =
      status === 400 ? 'invalid-request' : status === 413 ? 'too-large' : status >= 500 ? 'internal' : 'error';
    void reply.code(status).send({ error, message: status >= 500 ? 'internal error' : err.message, issues: [] });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: 'not-found', message: `no route ${req.method} ${req.url}` });
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0];
    if (path.startsWith('/api/') || path === '/api') {
      // EventSource cannot send headers: the stream alone also takes the token as ?access_token=.
      if (path === '/api/stream' && queryTokenMatches(req.url, deps.operatorToken)) return;
      // Drones download bundles with their MQTT login (HTTP basic): the route checks it.
      if (deps.policies && isPolicyBundleRequest(req.method, path)) return;
      if (!bearerMatches(req.headers.authorization, deps.operatorToken)) return unauthorized(reply);
    } else if (path === '/metrics' && deps.metricsToken !== undefined) {
      if (!bearerMatches(req.headers.authorization, deps.metricsToken)) return unauthorized(reply);
    }
  });

  app.get('/healthz', async () => ({ ok: true }));
  registerDashboardAssets(app);

  const stream = deps.stream;
  if (stream) {
    app.get('/api/stream', (req, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // Reconnect after 2 s when the station restarts.
      reply.raw.write('retry: 2000\n\n');
      const detach = stream.attach(reply.raw);
      req.raw.once('close', detach);
    });
    // Open streams would keep close() waiting for ever.
    app.addHook('preClose', async () => stream.close());
  }

  app.get('/metrics', async (_req, reply) => {
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(deps.monitoring.prometheus(deps.clock()));
  });

  app.get('/api/station', async () => deps.status(deps.clock()));

  app.post('/api/deliveries', async (req, reply) => {
    const created = await deps.deliveries.create(req.body, deps.clock());
    if (!created.ok)
      return badRequest(reply, created.reason.map((i) => `${i.path}: ${i.message}`).join('; '), created.reason);
    return reply.code(201).header('location', `/api/deliveries/${created.value.id}`).send(created.value);
  });

  app.get('/api/deliveries', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const statuses = parseStatuses(q.status);
    const limit = parseIntParam('limit', q.limit, 1, 1000);
    const offset = parseIntParam('offset', q.offset, 0, 1_000_000_000);
    for (const r of [statuses, limit, offset]) if (!r.ok) return badRequest(reply, r.reason);
    const orders = await deps.deliveries.list({
      ...(statuses.ok && statuses.value ? { statuses: statuses.value } : {}),
      ...(limit.ok && limit.value !== undefined ? { limit: limit.value } : {}),
      ...(offset.ok && offset.value !== undefined ? { offset: offset.value } : {}),
    });
    return { orders };
  });

  app.get('/api/deliveries/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const found = await deps.deliveries.get(id);
    if (!found) return reply.code(404).send({ error: 'not-found', message: `no delivery ${id}` });
    return { ...found.order, history: found.history };
  });

  const cancel = async (req: FastifyRequest, reply: FastifyReply) => {
    const { id } = req.params as { id: string };
    const result = await deps.deliveries.cancel(id, deps.clock());
    if (!result) return reply.code(404).send({ error: 'not-found', message: `no delivery ${id}` });
    if (!result.changed) {
      return reply.code(409).send({
        error: 'conflict',
        message: `delivery ${id} is ${result.order.status} and can no longer be cancelled`,
        order: result.view,
      });
    }
    return result.view;
  };
  app.post('/api/deliveries/:id/cancel', cancel);
  app.delete('/api/deliveries/:id', cancel);

  app.get('/api/fleet', async () => ({ drones: deps.fleet.list(deps.clock()) }));
  app.post('/api/fleet/estop', async (req, reply) => {
    if (!deps.fleetEstop) return reply.code(404).send({ error: 'not-found', message: 'no fleet link' });
    const body = (req.body ?? {}) as { reason?: unknown; confirm?: unknown };
    // A fleet-wide stop lands every drone wherever it is: the caller must say so explicitly.
    if (body.confirm !== true) {
      return badRequest(reply, 'confirm: send {"confirm": true} to stop the whole fleet', [
        { path: 'confirm', message: 'expected true' },
      ]);
    }
    const reason =
      typeof body.reason === 'string' && body.reason.trim() !== '' ? body.reason.slice(0, 512) : 'operator';
    const sent = await deps.fleetEstop(reason, deps.clock());
    if (!sent.ok) return reply.code(503).send({ error: 'unavailable', message: `estop not sent: ${sent.reason}` });
    deps.stream?.broadcast('estop', { commandId: sent.value.commandId, reason, timeMs: deps.clock() });
    return reply.code(202).send({ ok: true, commandId: sent.value.commandId, reason });
  });

  app.get('/api/fleet/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const drone = deps.fleet.get(id, deps.clock());
    if (!drone) return reply.code(404).send({ error: 'not-found', message: `no drone ${id}` });
    return drone;
  });

  app.get('/api/fleet/:id/events', async (req, reply) => {
    const { id } = req.params as { id: string };
    const q = req.query as Record<string, unknown>;
    const after = parseIntParam('after', q.after, 0, Number.MAX_SAFE_INTEGER);
    const limit = parseIntParam('limit', q.limit, 1, 1000);
    for (const r of [after, limit]) if (!r.ok) return badRequest(reply, r.reason);
    if (q.session !== undefined && typeof q.session !== 'string') return badRequest(reply, 'session: expected one id');
    const events = await deps.fleet.events(id, {
      ...(typeof q.session === 'string' && q.session !== '' ? { sessionId: q.session } : {}),
      ...(after.ok && after.value !== undefined ? { afterRowId: after.value } : {}),
      ...(limit.ok && limit.value !== undefined ? { limit: limit.value } : {}),
    });
    if (events === null) return reply.code(404).send({ error: 'not-found', message: `no drone ${id}` });
    return { events };
  });

  app.get('/api/metrics', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const window = typeof q.window === 'string' ? q.window : '5m';
    const scope = typeof q.scope === 'string' ? q.scope : 'fleet';
    const metric = typeof q.metric === 'string' ? q.metric : undefined;
    const r = deps.monitoring.metrics({ window, scope, ...(metric ? { metric } : {}) }, deps.clock());
    if (!r.ok) return badRequest(reply, r.reason);
    return r.value;
  });

  app.get('/api/alerts', async (req) => {
    const q = req.query as Record<string, unknown>;
    return deps.monitoring.alerts(typeof q.state === 'string' ? { state: q.state } : {}, deps.clock());
  });

  app.post('/api/alerts/:id/ack', async (req, reply) => {
    const { id } = req.params as { id: string };
    const body = (req.body ?? {}) as { by?: unknown };
    const by = typeof body.by === 'string' && body.by.length > 0 && body.by.length <= 64 ? body.by : 'operator';
    const ok = await deps.monitoring.ack(decodeURIComponent(id), by, deps.clock());
    if (!ok) return reply.code(404).send({ error: 'not-found', message: `no alert ${id}` });
    return { ok: true, alertId: id, acknowledgedBy: by };
  });

  app.get('/api/experience/export', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const filter: ExperienceFilter = {
      ...(typeof q.drone === 'string' ? { droneId: q.drone } : {}),
      ...(typeof q.policyVersion === 'string' ? { policyVersion: q.policyVersion } : {}),
    };
    const stamp = new Date(deps.clock()).toISOString().replace(/[:.]/g, '-');
    return reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="aerie-experience-${stamp}.aexp"`)
      .send(Readable.from(deps.experience.exportChunks(filter)));
  });

  if (deps.rollouts) registerRolloutRoutes(app, deps.rollouts);
  if (deps.policies) registerPolicyRoutes(app, deps.policies, { clock: deps.clock, operatorToken: deps.operatorToken });
  if (deps.airspace) registerAirspaceRoutes(app, deps.airspace, deps.clock);
  return app;
}

export type WebServer = Awaited<ReturnType<typeof buildWebServer>>;
