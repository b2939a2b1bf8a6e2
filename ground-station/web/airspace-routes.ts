/**
 * The fleet airspace over HTTP: `GET /api/airspace` (the one in force, 404 before any), `PUT /api/airspace` with
 * `{ "airspace": {...}, "origin"?: {...} }` (400 with zod's reasons when invalid). Bearer auth comes from the
 * server's /api hook like every other route.
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';
import type { Result } from '../../shared/errors.js';
import type { RequestIssue } from '../deliveries/index.js';

export interface AirspacePort {
  /** The airspace in force (the fleet message as published), null when none was set. */
  get(): Promise<unknown | null>;
  /** Validate and make it the fleet airspace (stored, published); `changed` false when identical. */
  put(body: unknown, nowMs: number): Promise<Result<{ airspace: unknown; changed: boolean }, RequestIssue[]>>;
}

export function registerAirspaceRoutes<S extends RawServerBase, L extends FastifyBaseLogger>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, L>,
  port: AirspacePort,
  clock: () => number,
): void {
  app.get('/api/airspace', async (_req, reply) => {
    const current = await port.get();
    if (current === null) return reply.code(404).send({ error: 'not-found', message: 'no fleet airspace set yet' });
    return current;
  });

  app.put('/api/airspace', async (req, reply) => {
    const r = await port.put(req.body, clock());
    if (!r.ok) {
      return reply.code(400).send({
        error: 'invalid-request',
        message: r.reason.map((i) => `${i.path}: ${i.message}`).join('; '),
        issues: r.reason,
      });
    }
    return { ...(r.value.airspace as Record<string, unknown>), changed: r.value.changed };
  });
}
