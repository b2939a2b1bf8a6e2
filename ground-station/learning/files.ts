/** File edges of the learning tools: JSON configs, experience datasets, run outputs. Errors from the catalogue. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AerieError } from '../../shared/errors.js';
import { decodeExperienceFile, type ExperienceDataset } from '../../shared/experience/index.js';

async function readBytes(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AerieError('FILE_NOT_FOUND', `${what} ${path} does not exist`, { path });
    throw new AerieError('CONFIG_INVALID_VALUE', `cannot read ${what} ${path}: ${code}`, { path });
  }
}

export async function readJsonFile(path: string, what: string): Promise<unknown> {
  const text = (await readBytes(path, what)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AerieError('CONFIG_INVALID_VALUE', `${what} ${path} is not JSON: ${(err as Error).message}`, { path });
  }
}

/** Read and validate an experience dataset file (shared/experience format). */
export async function readExperienceFile(path: string): Promise<ExperienceDataset> {
  const buf = await readBytes(path, 'experience dataset');
  return decodeExperienceFile(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

export async function writeOutput(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

/** The training config saved beside a model (config.json), if there is one. */
export function configBeside(modelPath: string): string | null {
  const p = join(dirname(modelPath), 'config.json');
  return existsSync(p) ? p : null;
}
