/**
 * Policy rollouts over HTTP (bearer auth from the server's /api hook like every other route):
 * `POST /api/rollouts` starts one (201; 400 with the problems, 404 for a candidate not in the registry, 409 while
 * another is live), `GET /api/rollouts` lists the recent ones newest first, `GET /api/rollouts/:id` shows one, and
 * `POST /api/rollouts/:id/promote|pause|resume|abort` are the operator's actions (409 when they do not apply).
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';
import type { Result } from '../../shared/errors.js';

export type RolloutView = Record<string, unknown> & { id: string };
export type RolloutFailure =
  | { code: 'invalid-request'; message: string; issues: { path: string; message: string }[] }
  | { code: 'not-found'; message: string }
  | { code: 'conflict'; message: string };

export interface RolloutPort {
  startRollout(body: unknown): Promise<Result<RolloutView, RolloutFailure>>;
  list(): RolloutView[];
  get(id: string): Promise<RolloutView | null>;
  act(
    id: string,
    action: 'promote' | 'pause' | 'resume' | 'abort',
    by?: string,
  ): Promise<Result<RolloutView, RolloutFailure>>;
}

const STATUS = { 'invalid-request': 400, 'not-found': 404, conflict: 409 } as const;

const failure = (f: RolloutFailure) => ({ error: f.code, message: f.message, issues: 'issues' in f ? f.issues : [] });

export function registerRolloutRoutes<S extends RawServerBase, L extends FastifyBaseLogger>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, L>,
  port: RolloutPort,
): void {
  app.post('/api/rollouts', async (req, reply) => {
    const r = await port.startRollout(req.body ?? {});
    if (!r.ok) return reply.code(STATUS[r.reason.code]).send(failure(r.reason));
    return reply.code(201).header('location', `/api/rollouts/${r.value.id}`).send(r.value);
  });

  app.get('/api/rollouts', async () => ({ rollouts: port.list() }));

  app.get('/api/rollouts/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const r = await port.get(id);
    if (!r) return reply.code(404).send({ error: 'not-found', message: `no rollout ${id}` });
    return r;
  });

  for (const action of ['promote', 'pause', 'resume', 'abort'] as const) {
    app.post(`/api/rollouts/:id/${action}`, async (req, reply) => {
      const { id } = req.params as { id: string };
      const body = (req.body ?? {}) as { by?: unknown };
      const by = typeof body.by === 'string' && body.by.length > 0 && body.by.length <= 64 ? body.by : 'operator';
      const r = await port.act(id, action, by);
      if (!r.ok) return reply.code(STATUS[r.reason.code]).send(failure(r.reason));
      return r.value;
    });
  }
}
