/**
 * The dashboard's static files, served by the station without a token: the page itself (ui/) and the two browser
 * libraries it uses, straight from node_modules (Leaflet for the map, uPlot for charts) - no CDN, nothing fetched at
 * run time. Only a fixed set of file types is served and paths cannot leave their folder. The files hold code, never
 * fleet data: every figure the page shows comes from the authenticated /api.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The ui/ folder: beside this file when run from source, in the repository when run from dist/. */
export function dashboardUiDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'ui'), join(here, '..', '..', '..', '..', 'ground-station', 'web', 'dashboard', 'ui')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`dashboard files not found (looked in ${candidates.join(', ')})`);
  return found;
}

function vendorDirs(): Record<string, string> {
  const require = createRequire(import.meta.url);
  return {
    leaflet: dirname(require.resolve('leaflet')),
    uplot: dirname(require.resolve('uplot')),
  };
}

/** Read `rel` under `root`; null when it escapes the folder, has another type, or does not exist. */
function readUnder(root: string, rel: string): { body: Buffer; type: string } | null {
  const type = TYPES[extname(rel)];
  if (type === undefined) return null;
  const full = normalize(join(root, rel));
  if (!full.startsWith(root + sep)) return null;
  try {
    if (!statSync(full).isFile()) return null;
    return { body: readFileSync(full), type };
  } catch {
    return null;
  }
}

/** GET / (the page), /ui/* (its scripts and styles), /vendor/leaflet/* and /vendor/uplot/*. */
/** The part of a fastify instance the assets need (whatever its logger type). */
export interface RouteHost {
  get(path: string, handler: (req: FastifyRequest, reply: FastifyReply) => unknown): unknown;
}

export function registerDashboardAssets(app: RouteHost): void {
  const ui = dashboardUiDir();
  const vendor = vendorDirs();
  const serve = (root: string, rel: string, reply: FastifyReply) => {
    const file = readUnder(root, rel);
    if (!file) return reply.code(404).send({ error: 'not-found', message: 'no such file' });
    // The page changes with the station's version; libraries may be cached a while.
    return reply
      .type(file.type)
      .header('cache-control', root === ui ? 'no-cache' : 'public, max-age=3600')
      .header('x-content-type-options', 'nosniff')
      .send(file.body);
  };
  app.get('/', (_req, reply) => {
    // The page loads nothing from elsewhere; inline styles only (Leaflet positions its layers with them).
    reply.header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    );
    return serve(ui, 'index.html', reply);
  });
  app.get('/ui/*', (req, reply) => serve(ui, (req.params as { '*': string })['*'], reply));
  app.get('/vendor/:lib/*', (req, reply) => {
    const { lib, '*': rel } = req.params as { lib: string; '*': string };
    const root = vendor[lib];
    if (root === undefined) return reply.code(404).send({ error: 'not-found', message: `no library ${lib}` });
    return serve(root, rel, reply);
  });
}
