import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkTransfer, chunkProblem, fetchBundle, splitIntoChunks, type TransferMeta } from './transfer.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aerie-transfer-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const file = randomBytes(5 * 1000 + 17);
const chunks = splitIntoChunks(file, 't-1', 'sha256:0123456789abcdef', 1000);
const meta: TransferMeta = {
  transferId: 't-1',
  version: chunks[0].version,
  sha256: chunks[0].sha256,
  totalBytes: file.length,
  count: chunks.length,
  startedAtMs: 0,
};

describe('ChunkTransfer', () => {
  it('keeps chunks on disk: reopened, it resumes and misses only the rest; out of order, repeats; whole file checked', async () => {
    const root = tempDir();
    const t1 = await ChunkTransfer.open(root, meta);
    for (const i of [0, 2, 4]) expect(await t1.accept(chunks[i])).toMatchObject({ ok: true, duplicate: false });
    expect(t1.missing()).toEqual([1, 3, 5]);
    // The process restarts (or the link drops): a new object over the same folder.
    const t2 = await ChunkTransfer.open(root, meta);
    expect(t2.missing()).toEqual([1, 3, 5]);
    expect(await t2.accept(chunks[2])).toMatchObject({ ok: true, duplicate: true });
    for (const i of [5, 3]) await t2.accept(chunks[i]);
    expect(await t2.assemble()).toMatchObject({ ok: false, reason: '1 chunks missing' });
    expect(await t2.accept(chunks[1])).toMatchObject({ ok: true, complete: true, received: 6 });
    const whole = await t2.assemble();
    expect(whole.ok && sha(whole.bytes)).toBe(sha(file));
  });

  it('refuses a chunk whose data does not match its hash, or that belongs to another file', async () => {
    const t = await ChunkTransfer.open(tempDir(), meta);
    const bad = { ...chunks[1], data: Buffer.from('x'.repeat(1000)).toString('base64') };
    expect(await t.accept(bad)).toEqual({ ok: false, reason: 'chunk 1 does not match its SHA-256' });
    expect(await t.accept({ ...chunks[1], sha256: 'f'.repeat(64) })).toMatchObject({ ok: false });
    expect(t.missing()).toContain(1);
  });

  it('drops every chunk when the assembled file does not match (a chunk altered on disk)', async () => {
    const root = tempDir();
    const t = await ChunkTransfer.open(root, meta);
    for (const c of chunks) await t.accept(c);
    writeFileSync(join(root, 't-1', '3.chunk'), randomBytes(1000));
    expect(await t.assemble()).toMatchObject({ ok: false });
    expect(t.missing()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('checks the fields of a chunk', () => {
    expect(chunkProblem(chunks[0])).toBeNull();
    expect(chunkProblem({ ...chunks[0], index: 6 })).toMatch(/index 6/);
    expect(chunkProblem({ ...chunks[0], transferId: '../x' })).toBe('bad transfer id');
    expect(chunkProblem({ ...chunks[0], count: 0 })).toMatch(/count/);
  });
});

describe('fetchBundle', () => {
  async function serve(): Promise<string> {
    const server: Server = createServer((req, res) => {
      const want = `Basic ${Buffer.from('drone-1:pw').toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(file);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/policies/v/bundle`;
  }

  it('gets the file with basic auth and checks its size and hash', async () => {
    const url = await serve();
    const good = await fetchBundle(url, {
      username: 'drone-1',
      password: 'pw',
      totalBytes: file.length,
      sha256: sha(file),
    });
    expect(good.ok && sha(good.bytes)).toBe(sha(file));
    const denied = await fetchBundle(url, {
      username: 'drone-1',
      password: 'no',
      totalBytes: file.length,
      sha256: sha(file),
    });
    expect(denied).toMatchObject({ ok: false, reason: expect.stringMatching(/401/) });
    const other = await fetchBundle(url, {
      username: 'drone-1',
      password: 'pw',
      totalBytes: file.length,
      sha256: 'a'.repeat(64),
    });
    expect(other).toMatchObject({ ok: false, reason: expect.stringMatching(/SHA-256/) });
  });
});
