/**
 * Configuration declared once: name, type, default, unit, range and one line of meaning per key, as PX4 declares
 * its parameters. `parseConfig` validates a raw object (from a file, CLI flags or the environment), refuses unknown
 * keys, and returns a frozen typed object. `configHelp` prints the table for `--help`.
 */
import { AerieError } from '../errors.js';

type NumberDecl = {
  type: 'number' | 'integer';
  default: number;
  unit?: string;
  min?: number;
  max?: number;
  doc: string;
};
type StringDecl = { type: 'string'; default: string; doc: string; optional?: false };
type OptionalStringDecl = { type: 'string'; default: undefined; doc: string; optional: true };
type BooleanDecl = { type: 'boolean'; default: boolean; doc: string };
type EnumDecl<V extends string = string> = { type: 'enum'; values: readonly V[]; default: V; doc: string };

export type ConfigDecl = NumberDecl | StringDecl | OptionalStringDecl | BooleanDecl | EnumDecl;
export type ConfigSchema = Record<string, ConfigDecl>;

type ValueOf<D> = D extends NumberDecl
  ? number
  : D extends BooleanDecl
    ? boolean
    : D extends EnumDecl<infer V>
      ? V
      : D extends OptionalStringDecl
        ? string | undefined
        : string;

export type ConfigOf<S extends ConfigSchema> = { readonly [K in keyof S]: ValueOf<S[K]> };

/** Identity, for type inference of a schema literal. */
export function declareConfig<const S extends ConfigSchema>(schema: S): S {
  return schema;
}

function invalid(key: string, message: string, raw: unknown): AerieError {
  return new AerieError('CONFIG_INVALID_VALUE', `${key}: ${message} (got ${JSON.stringify(raw)})`, { key, raw });
}

function coerce(key: string, decl: ConfigDecl, raw: unknown): unknown {
  switch (decl.type) {
    case 'number':
    case 'integer': {
      const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(key, 'expected a finite number', raw);
      if (decl.type === 'integer' && !Number.isInteger(value)) throw invalid(key, 'expected an integer', raw);
      const unit = decl.unit ? ` ${decl.unit}` : '';
      if (decl.min !== undefined && value < decl.min) throw invalid(key, `must be >= ${decl.min}${unit}`, raw);
      if (decl.max !== undefined && value > decl.max) throw invalid(key, `must be <= ${decl.max}${unit}`, raw);
      return value;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === '') return true;
      if (raw === 'false' || raw === '0') return false;
      throw invalid(key, 'expected true or false', raw);
    }
    case 'enum': {
      if (typeof raw === 'string' && decl.values.includes(raw)) return raw;
      throw invalid(key, `expected one of ${decl.values.join(', ')}`, raw);
    }
    case 'string': {
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number') return String(raw);
      throw invalid(key, 'expected a string', raw);
    }
  }
}

/** Validate `raw` against `schema`: unknown keys refused, defaults filled, result frozen. */
export function parseConfig<S extends ConfigSchema>(schema: S, raw: Record<string, unknown>): ConfigOf<S> {
  const unknown = Object.keys(raw).filter((key) => !Object.hasOwn(schema, key));
  if (unknown.length > 0) {
    throw new AerieError(
      'CONFIG_UNKNOWN_KEY',
      `unknown configuration key(s): ${unknown.join(', ')}; known: ${Object.keys(schema).join(', ')}`,
      { unknown },
    );
  }
  const out: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries(schema)) {
    const value = raw[key];
    out[key] = value === undefined ? decl.default : coerce(key, decl, value);
  }
  return Object.freeze(out) as ConfigOf<S>;
}

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (flag: string): string => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Read `--kebab-case value` / `--flag` / `--no-flag` options into a raw object keyed by the schema's camelCase names.
 * Positional arguments are returned apart. Unknown flags are kept so parseConfig refuses them by name.
 */
export function argvToRaw(
  schema: ConfigSchema,
  argv: readonly string[],
): { raw: Record<string, unknown>; positional: string[] } {
  const raw: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    let name = camel(eq >= 0 ? body.slice(0, eq) : body);
    let value: unknown;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (schema[name]?.type === 'boolean') value = true;
    else if (name.startsWith('no') && schema[name[2]?.toLowerCase() + name.slice(3)]?.type === 'boolean') {
      name = name[2].toLowerCase() + name.slice(3);
      value = false;
    } else {
      value = argv[i + 1];
      if (value === undefined) throw new AerieError('CLI_USAGE', `--${body} needs a value`);
      i++;
    }
    raw[name] = value;
  }
  return { raw, positional };
}

/** The `--help` table: flag, default, unit/range, meaning. */
export function configHelp(schema: ConfigSchema): string {
  const rows = Object.entries(schema).map(([key, decl]) => {
    let range = '';
    if (decl.type === 'number' || decl.type === 'integer') {
      const parts = [
        decl.unit,
        decl.min !== undefined || decl.max !== undefined ? `[${decl.min ?? ''}..${decl.max ?? ''}]` : '',
      ];
      range = parts.filter(Boolean).join(' ');
    } else if (decl.type === 'enum') range = decl.values.join('|');
    const dflt = decl.default === undefined ? '' : ` (default ${String(decl.default)}${range ? `; ${range}` : ''})`;
    return `  --${kebab(key)}${dflt}\n      ${decl.doc}`;
  });
  return rows.join('\n');
}
