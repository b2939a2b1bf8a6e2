/**
 * The protocol's version. Every payload carries `"schema": "MAJOR.MINOR"`. A reader accepts any minor of its own
 * major (a newer minor only adds optional fields, which a reader ignores) and refuses another major with a reason.
 */
import type { Result } from '../errors.js';

/** The version this build writes. */
export const PROTOCOL_VERSION = '1.0';
export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 0;

const VERSION_PATTERN = /^(\d{1,6})\.(\d{1,6})$/;

export interface SchemaVersion {
  readonly major: number;
  readonly minor: number;
}

/** Parse "MAJOR.MINOR"; null when malformed. */
export function parseSchemaVersion(text: string): SchemaVersion | null {
  const m = VERSION_PATTERN.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

/**
 * Check the `schema` field of a decoded payload: ok with its version when the major is ours, otherwise the reason to
 * refuse it (missing, malformed, or another major). Never throws.
 */
export function checkSchemaVersion(payload: unknown): Result<SchemaVersion, string> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, reason: 'payload is not a JSON object' };
  }
  const schema = (payload as { schema?: unknown }).schema;
  if (schema === undefined) return { ok: false, reason: 'schema is missing (expected "1.<minor>")' };
  if (typeof schema !== 'string') return { ok: false, reason: `schema must be a string like "${PROTOCOL_VERSION}"` };
  const version = parseSchemaVersion(schema);
  if (!version) return { ok: false, reason: `schema ${JSON.stringify(schema.slice(0, 32))} is not MAJOR.MINOR` };
  if (version.major !== PROTOCOL_MAJOR) {
    return {
      ok: false,
      reason: `schema ${schema} is protocol major ${version.major}; this side speaks major ${PROTOCOL_MAJOR} (${PROTOCOL_VERSION})`,
    };
  }
  return { ok: true, value: version };
}
