/**
 * Read an ONNX model's interface and metadata from its bytes (onnx-proto, no runtime needed) and check them against
 * the contract. Pure, so the onboard loader and the ground station's policy registry refuse the same models with the
 * same words.
 */
import { AerieError } from '../errors.js';
import {
  CONTRACT_VERSION,
  isCompatibleContractVersion,
  METADATA_KEYS,
  type ModelInterface,
  parseSemver,
} from './contract.js';
import { ONNX_FLOAT, onnx } from './onnx-proto.js';

/** One graph input or output as the model declares it. */
export interface TensorDescription {
  readonly name: string;
  /** ONNX TensorProto.DataType (1 = float32); null when the value is not a tensor. */
  readonly elemType: number | null;
  /** Each dimension: a size, a symbol, or null when unnamed and unsized; null when the rank is unknown. */
  readonly dims: readonly (number | string | null)[] | null;
}

export interface ModelDescription {
  readonly irVersion: number;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName: string;
  readonly inputs: readonly TensorDescription[];
  readonly outputs: readonly TensorDescription[];
  readonly metadata: Readonly<Record<string, string>>;
}

const ELEM_TYPE_NAMES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 10: 'float16', 11: 'float64' };
const elemTypeName = (t: number | null): string => (t === null ? 'not a tensor' : (ELEM_TYPE_NAMES[t] ?? `type ${t}`));

/** protobufjs decodes int64 as Long when the long package is present, as a number otherwise. */
function toNumber(x: number | { toNumber(): number } | null | undefined): number {
  if (x === null || x === undefined) return 0;
  return typeof x === 'number' ? x : x.toNumber();
}

function describeValue(v: onnx.IValueInfoProto): TensorDescription {
  const tensor = v.type?.tensorType;
  if (!tensor) return { name: v.name ?? '', elemType: null, dims: null };
  const dims = tensor.shape
    ? (tensor.shape.dim ?? []).map((d) => {
        if (d.dimParam) return d.dimParam;
        if (d.dimValue !== null && d.dimValue !== undefined) return toNumber(d.dimValue);
        return null;
      })
    : null;
  return { name: v.name ?? '', elemType: tensor.elemType ?? 0, dims };
}

/** Decode a model's interface and metadata. Throws POLICY_LOAD_FAILED when the bytes are not an ONNX model. */
export function describeOnnxModel(bytes: Uint8Array, source = 'model'): ModelDescription {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new AerieError('POLICY_LOAD_FAILED', `${source} is not an ONNX model: ${(err as Error).message}`, {
      source,
      bytes: bytes.length,
    });
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0 || (graph.output ?? []).length === 0) {
    throw new AerieError('POLICY_LOAD_FAILED', `${source} is not an ONNX model: it has no graph, nodes or outputs`, {
      source,
      bytes: bytes.length,
    });
  }
  // Before IR 4, initializers were also listed as inputs; they are constants, not something the runtime feeds.
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    irVersion: toNumber(model.irVersion),
    opsets: (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toNumber(o.version) })),
    producerName: model.producerName ?? '',
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(describeValue),
    outputs: (graph.output ?? []).map(describeValue),
    metadata,
  };
}

function checkTensor(
  role: 'input' | 'output',
  tensors: readonly TensorDescription[],
  name: string,
  size: number,
  problems: string[],
): void {
  const names = tensors.map((t) => `'${t.name}'`).join(', ') || 'none';
  if (tensors.length !== 1) {
    problems.push(`expected one ${role} '${name}', the model has ${tensors.length}: ${names}`);
  }
  const t = tensors.find((x) => x.name === name);
  if (!t) {
    if (tensors.length === 1) problems.push(`${role} is named '${tensors[0].name}', expected '${name}'`);
    return;
  }
  if (t.elemType !== ONNX_FLOAT) problems.push(`${role} '${name}' is ${elemTypeName(t.elemType)}, expected float32`);
  if (t.dims === null) {
    // An output without a declared shape is still checked: the loader's probe run measures its size.
    if (role === 'input') problems.push(`${role} '${name}' has no declared shape, expected [batch, ${size}]`);
    return;
  }
  const shown = `[${t.dims.map((d) => d ?? '?').join(', ')}]`;
  if (t.dims.length !== 2) {
    problems.push(`${role} '${name}' has shape ${shown}, expected [batch, ${size}]`);
    return;
  }
  const [batch, width] = t.dims;
  if (typeof batch === 'number' && batch !== 1) {
    problems.push(`${role} '${name}' has a fixed batch of ${batch}, expected a symbolic batch or 1`);
  }
  if (typeof width === 'number' ? width !== size : role === 'input') {
    problems.push(`${role} '${name}' has shape ${shown}, expected [batch, ${size}]`);
  }
}

function checkStats(key: string, raw: string | undefined, size: number, positive: boolean, problems: string[]): void {
  if (raw === undefined) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`metadata ${key} is not JSON`);
    return;
  }
  if (!Array.isArray(parsed) || parsed.length !== size) {
    problems.push(`metadata ${key} must be a JSON array of ${size} numbers`);
    return;
  }
  const bad = parsed.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0));
  if (bad >= 0)
    problems.push(`metadata ${key}[${bad}] is ${parsed[bad]}, expected a finite${positive ? ' positive' : ''} number`);
}

/**
 * Everything about `model` that breaks the contract for `iface`, in words an operator can act on; empty when it
 * conforms. `contractVersion` is the runtime's (defaults to this build's CONTRACT_VERSION).
 */
export function contractProblems(
  model: ModelDescription,
  iface: ModelInterface,
  contractVersion: string = CONTRACT_VERSION,
): string[] {
  const problems: string[] = [];
  checkTensor('input', model.inputs, iface.inputName, iface.inputSize, problems);
  checkTensor('output', model.outputs, iface.outputName, iface.outputSize, problems);

  const md = model.metadata;
  const version = md[METADATA_KEYS.contractVersion];
  if (version === undefined) {
    problems.push(`metadata ${METADATA_KEYS.contractVersion} is missing`);
  } else if (parseSemver(version) === null) {
    problems.push(`metadata ${METADATA_KEYS.contractVersion} '${version}' is not MAJOR.MINOR.PATCH`);
  } else if (!isCompatibleContractVersion(version, contractVersion)) {
    problems.push(`contract version ${version} has another major version than this runtime's ${contractVersion}`);
  }
  const kind = md[METADATA_KEYS.kind];
  if (kind !== iface.kind) {
    problems.push(
      kind === undefined
        ? `metadata ${METADATA_KEYS.kind} is missing, expected '${iface.kind}'`
        : `metadata ${METADATA_KEYS.kind} is '${kind}', expected '${iface.kind}'`,
    );
  }
  checkStats(METADATA_KEYS.obsMean, md[METADATA_KEYS.obsMean], iface.inputSize, false, problems);
  checkStats(METADATA_KEYS.obsStd, md[METADATA_KEYS.obsStd], iface.inputSize, true, problems);
  if (md[METADATA_KEYS.metrics] !== undefined) {
    try {
      JSON.parse(md[METADATA_KEYS.metrics]);
    } catch {
      problems.push(`metadata ${METADATA_KEYS.metrics} is not JSON`);
    }
  }
  return problems;
}

/** Throw POLICY_CONTRACT_MISMATCH listing every problem, or return when the model conforms. */
export function assertContract(
  model: ModelDescription,
  iface: ModelInterface,
  source = 'model',
  contractVersion: string = CONTRACT_VERSION,
): void {
  const problems = contractProblems(model, iface, contractVersion);
  if (problems.length > 0) {
    throw new AerieError(
      'POLICY_CONTRACT_MISMATCH',
      `${source} does not fit the ${iface.kind} contract: ${problems.join('; ')}`,
      {
        source,
        problems,
      },
    );
  }
}
