/**
 * The policy registry over HTTP:
 *
 *   GET  /api/policies                    versions, newest first (?state=candidate,active&limit=N)
 *   GET  /api/policies/:version           one version with its transition history
 *   POST /api/policies                    upload a signed bundle (application/octet-stream); 201 registered,
 *                                         200 already there, 422 refused (BUNDLE_* or POLICY_EVAL_GATE), 409 conflict
 *   GET  /api/policies/:version/bundle    the signed bundle file, for drones: HTTP basic with the drone's MQTT
 *                                         username and password, or the operator's bearer token
 *
 * Bearer auth comes from the server's /api hook, except for the bundle download, which authenticates itself
 * (isPolicyBundleRequest tells the hook to let it through).
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';
import { MAX_BUNDLE_BYTES } from '../../shared/bundle/index.js';
import {
  isPolicyState,
  type PolicyDetail,
  type PolicyState,
  type PolicyView,
  type PublishResult,
} from '../rollouts/registry.js';
import { bearerMatches } from './auth.js';

export interface PolicyPort {
  list(query: { states?: PolicyState[]; limit?: number }): Promise<PolicyView[]>;
  get(version: string): Promise<PolicyDetail | null>;
  publish(bytes: Uint8Array, nowMs: number, by?: string): Promise<PublishResult>;
  bundle(version: string): Promise<{ bytes: Buffer; sha256: string; version: string } | null>;
  /** Whether the pair is a broker login (a drone's MQTT username and password). */
  checkBrokerLogin(username: string, password: string): Promise<boolean>;
}

const BUNDLE_PATH = /^\/api\/policies\/[^/?]+\/bundle$/;
const VERSION = /^[A-Za-z0-9:._-]{1,64}$/;

/** The bundle download authenticates itself (drones send HTTP basic): the server's bearer hook lets it pass. */
export function isPolicyBundleRequest(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && BUNDLE_PATH.test(path);
}

function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  if (typeof header !== 'string') return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon > 0 ? { username: text.slice(0, colon), password: text.slice(colon + 1) } : null;
}

function badVersion(version: string) {
  return {
    error: 'invalid-request',
    message: `version ${JSON.stringify(version.slice(0, 80))} is not a policy version`,
    issues: [],
  };
}

export function registerPolicyRoutes<S extends RawServerBase, L extends FastifyBaseLogger>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, L>,
  port: PolicyPort,
  options: { clock: () => number; operatorToken: string },
): void {
  app.get('/api/policies', async (req, reply) => {
    const q = req.query as { state?: string; limit?: string };
    const states = q.state ? q.state.split(',').map((s) => s.trim()) : [];
    const unknown = states.filter((s) => !isPolicyState(s));
    if (unknown.length > 0) {
      return reply
        .code(400)
        .send({ error: 'invalid-request', message: `state: unknown ${unknown.join(', ')}`, issues: [] });
    }
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
      return reply
        .code(400)
        .send({ error: 'invalid-request', message: 'limit: expected an integer 1..1000', issues: [] });
    }
    return port.list({ states: states as PolicyState[], ...(limit ? { limit } : {}) });
  });

  app.get('/api/policies/:version', async (req, reply) => {
    const { version } = req.params as { version: string };
    if (!VERSION.test(version)) return reply.code(400).send(badVersion(version));
    const p = await port.get(version);
    if (!p) return reply.code(404).send({ error: 'not-found', message: `no policy ${version}` });
    return p;
  });

  app.get('/api/policies/:version/bundle', async (req, reply) => {
    const bearer = bearerMatches(req.headers.authorization, options.operatorToken);
    const basic = bearer ? null : basicCredentials(req.headers.authorization);
    if (!bearer && !(basic && (await port.checkBrokerLogin(basic.username, basic.password)))) {
      return reply.code(401).header('www-authenticate', 'Basic realm="aerie-bundles"').send({
        error: 'unauthorized',
        message: "send the drone's MQTT username and password (HTTP basic) or the operator token",
      });
    }
    const { version } = req.params as { version: string };
    if (!VERSION.test(version)) return reply.code(400).send(badVersion(version));
    const b = await port.bundle(version);
    if (!b) return reply.code(404).send({ error: 'not-found', message: `no policy ${version}` });
    return reply
      .type('application/octet-stream')
      .header('x-aerie-sha256', b.sha256)
      .header('etag', `"${b.sha256}"`)
      .header('content-disposition', `attachment; filename="${version.replace(/[^A-Za-z0-9._-]/g, '-')}.aerie-bundle"`)
      .send(b.bytes);
  });

  // Bundles are binary and larger than the API's JSON limit: their own parser and limit, in a scope of their own.
  app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: MAX_BUNDLE_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.post('/api/policies', { bodyLimit: MAX_BUNDLE_BYTES }, async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) {
        return reply.code(415).send({
          error: 'unsupported-media-type',
          message: 'send the signed bundle file as application/octet-stream (aerie policy publish)',
        });
      }
      const r = await port.publish(req.body, options.clock(), 'operator');
      if (!r.ok) return reply.code(r.status).send({ error: 'refused', code: r.code, message: r.reason });
      return reply.code(r.created ? 201 : 200).send({ ...r.policy, created: r.created });
    });
  });
}
