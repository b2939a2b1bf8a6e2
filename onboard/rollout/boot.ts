/** Start-up: the active slot's files, for the runtime to be built with. */
import { join } from 'node:path';
import { componentLogger, type Logger } from '../../shared/log/index.js';
import { SlotStore } from './slots.js';

/** The files of the active slot a runtime is built with at start (its policy, shield, safety-filter configuration). */
export interface BootFiles {
  readonly policyPath: string | null;
  readonly shieldPath: string | null;
  readonly safety: Record<string, unknown> | null;
  readonly version: string | null;
}

/**
 * Open the slot folder (repairing it: see SlotStore.open) and name the active slot's files, so the runtime starts
 * with them; all null when no slot is active (the runtime flies --policy or the shipped default).
 */
export async function bootFiles(dir: string, log: Logger = componentLogger('rollout')): Promise<BootFiles> {
  const { store, report } = await SlotStore.open(dir);
  for (const d of report.dropped) log.error(d, 'policy slot dropped on open');
  const id = store.current.active;
  const info = store.info(id);
  if (id === null || !info) return { policyPath: null, shieldPath: null, safety: null, version: null };
  const has = (name: string) => info.parts.some((p) => p.name === name);
  let safety: Record<string, unknown> | null = null;
  if (has('filter.json')) {
    try {
      safety = JSON.parse((await store.readPart(id, 'filter.json')).toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      log.error(
        { err: (err as Error).message },
        'the active slot filter.json is unreadable: the configured filter flies',
      );
    }
  }
  return {
    policyPath: join(store.pathOf(id), 'policy.onnx'),
    shieldPath: has('shield.onnx') ? join(store.pathOf(id), 'shield.onnx') : null,
    safety,
    version: info.version,
  };
}
