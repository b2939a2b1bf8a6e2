/**
 * Write ONNX models from TypeScript (opset 13, IR 7), for the trainer's export, the default go-to-goal policy and
 * tests. Pure: returns bytes, never touches files. Output is deterministic (same spec, same bytes), so a generated
 * model can be checked against its generator.
 */
import { AerieError } from '../errors.js';
import {
  BATCH_DIM,
  CONTRACT_VERSION,
  METADATA_KEYS,
  type ModelKind,
  POLICY_INTERFACE,
  SHIELD_INTERFACE,
} from './contract.js';
import { ONNX_FLOAT, onnx } from './onnx-proto.js';

export const OPSET_VERSION = 13;
/** The IR version that goes with opset 13. */
export const IR_VERSION = 7;
export const PRODUCER_NAME = 'aerie';

/** A graph input or output; a string dimension is symbolic (e.g. 'batch'). */
export interface ValueSpec {
  readonly name: string;
  readonly dims: readonly (number | string)[];
  /** ONNX TensorProto.DataType; float32 (1) unless given. Other types exist for tests of the loader's refusals. */
  readonly elemType?: number;
}

/** A float32 constant (weights, biases, normalisation). `dims` [] is a scalar. */
export interface InitializerSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number>;
}

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly intAttributes?: Readonly<Record<string, number>>;
  readonly floatAttributes?: Readonly<Record<string, number>>;
}

export interface GraphSpec {
  readonly name: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly initializers: readonly InitializerSpec[];
  /** metadata_props, in the order given. */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly docString?: string;
}

function invalid(message: string, details: Record<string, unknown> = {}): AerieError {
  return new AerieError('POLICY_EXPORT_INVALID', message, details);
}

function float32LittleEndian(data: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return bytes;
}

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType ?? ONNX_FLOAT,
        shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Encode a float32 graph as an ONNX model. */
export function encodeModel(spec: GraphSpec): Uint8Array {
  for (const init of spec.initializers) {
    const count = init.dims.reduce((a, b) => a * b, 1);
    if (count !== init.data.length) {
      throw invalid(`initializer ${init.name} has ${init.data.length} values for dims [${init.dims.join(', ')}]`);
    }
  }
  const nodes: onnx.INodeProto[] = spec.nodes.map((n, i) => ({
    name: `${n.op.toLowerCase()}_${i}`,
    opType: n.op,
    input: [...n.inputs],
    output: [...n.outputs],
    attribute: [
      ...Object.entries(n.intAttributes ?? {}).map(([name, i]) => ({
        name,
        type: onnx.AttributeProto.AttributeType.INT,
        i,
      })),
      ...Object.entries(n.floatAttributes ?? {}).map(([name, f]) => ({
        name,
        type: onnx.AttributeProto.AttributeType.FLOAT,
        f,
      })),
    ],
  }));
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: PRODUCER_NAME,
    producerVersion: CONTRACT_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    docString: spec.docString ?? '',
    graph: {
      name: spec.name,
      node: nodes,
      initializer: spec.initializers.map((t) => ({
        name: t.name,
        dims: [...t.dims],
        dataType: ONNX_FLOAT,
        rawData: float32LittleEndian(t.data),
      })),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
    },
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(model).finish();
}

export type HiddenActivation = 'tanh' | 'relu' | 'none';
/** 'clip' clamps to [-1, 1] (an exact no-op inside), 'tanh' squashes, 'none' leaves the last layer linear. */
export type OutputActivation = 'tanh' | 'clip' | 'none';

export interface MlpLayer {
  /** in x out, row-major: weights[i * out + j] connects input i to output j. */
  readonly weights: ArrayLike<number>;
  /** out values. */
  readonly bias: ArrayLike<number>;
  readonly activation: HiddenActivation;
}

export interface MlpModelSpec {
  readonly layers: readonly MlpLayer[];
  readonly inputSize: number;
  /** 'policy' (default) or 'shield': sets the default tensor names and aerie.kind. */
  readonly kind?: ModelKind;
  readonly inputName?: string;
  readonly outputName?: string;
  /** Per-input mean and std the graph applies first ((x - mean) / std); written to metadata too. */
  readonly obsMean?: ArrayLike<number>;
  readonly obsStd?: ArrayLike<number>;
  /** Applied after the last layer's own activation. */
  readonly outputActivation: OutputActivation;
  /** Extra metadata_props; these win over the defaults (contract version, kind, normalisation). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly graphName?: string;
  /** The model's doc_string, e.g. who generated it. */
  readonly docString?: string;
}

const ACTIVATION_OP: Record<Exclude<HiddenActivation, 'none'>, string> = { tanh: 'Tanh', relu: 'Relu' };

function checkVector(name: string, v: ArrayLike<number>, size: number, positive: boolean): void {
  if (v.length !== size) throw invalid(`${name} has ${v.length} values, expected ${size}`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]) || (positive && !(v[i] > 0))) {
      throw invalid(`${name}[${i}] is ${v[i]}: expected a finite${positive ? ' positive' : ''} number`);
    }
  }
}

/** Encode a multilayer perceptron: [Sub, Div] -> (Gemm -> activation)* -> [Tanh | Clip]. */
export function buildMlpModel(spec: MlpModelSpec): Uint8Array {
  const iface = spec.kind === 'shield' ? SHIELD_INTERFACE : POLICY_INTERFACE;
  const inputName = spec.inputName ?? iface.inputName;
  const outputName = spec.outputName ?? iface.outputName;
  if (spec.layers.length === 0) throw invalid('an MLP needs at least one layer');
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 1) throw invalid(`bad input size ${spec.inputSize}`);
  if ((spec.obsMean === undefined) !== (spec.obsStd === undefined)) {
    throw invalid('obsMean and obsStd come together or not at all');
  }

  const nodes: NodeSpec[] = [];
  const initializers: InitializerSpec[] = [];
  let current = inputName;
  const metadata: Record<string, string> = {
    [METADATA_KEYS.contractVersion]: CONTRACT_VERSION,
    [METADATA_KEYS.kind]: iface.kind,
  };

  if (spec.obsMean !== undefined && spec.obsStd !== undefined) {
    checkVector('obsMean', spec.obsMean, spec.inputSize, false);
    checkVector('obsStd', spec.obsStd, spec.inputSize, true);
    initializers.push({ name: 'obs_mean', dims: [spec.inputSize], data: spec.obsMean });
    initializers.push({ name: 'obs_std', dims: [spec.inputSize], data: spec.obsStd });
    nodes.push({ op: 'Sub', inputs: [current, 'obs_mean'], outputs: ['obs_centred'] });
    nodes.push({ op: 'Div', inputs: ['obs_centred', 'obs_std'], outputs: ['obs_normalised'] });
    current = 'obs_normalised';
    // Stored as float32 values, so the metadata says exactly what the graph does.
    metadata[METADATA_KEYS.obsMean] = JSON.stringify(Array.from(Float32Array.from(spec.obsMean)));
    metadata[METADATA_KEYS.obsStd] = JSON.stringify(Array.from(Float32Array.from(spec.obsStd)));
  }

  let width = spec.inputSize;
  spec.layers.forEach((layer, i) => {
    const out = layer.bias.length;
    if (out < 1) throw invalid(`layer ${i} has no outputs`);
    if (layer.weights.length !== width * out) {
      throw invalid(`layer ${i} weights have ${layer.weights.length} values, expected ${width} x ${out}`, { layer: i });
    }
    checkVector(`layer ${i} weights`, layer.weights, width * out, false);
    checkVector(`layer ${i} bias`, layer.bias, out, false);
    initializers.push({ name: `w${i}`, dims: [width, out], data: layer.weights });
    initializers.push({ name: `b${i}`, dims: [out], data: layer.bias });
    const gemmOut = `gemm${i}`;
    nodes.push({ op: 'Gemm', inputs: [current, `w${i}`, `b${i}`], outputs: [gemmOut] });
    current = gemmOut;
    if (layer.activation !== 'none') {
      const actOut = `act${i}`;
      nodes.push({ op: ACTIVATION_OP[layer.activation], inputs: [current], outputs: [actOut] });
      current = actOut;
    }
    width = out;
  });

  if (spec.outputActivation === 'tanh') {
    nodes.push({ op: 'Tanh', inputs: [current], outputs: [outputName] });
  } else if (spec.outputActivation === 'clip') {
    initializers.push({ name: 'clip_min', dims: [], data: [-1] });
    initializers.push({ name: 'clip_max', dims: [], data: [1] });
    nodes.push({ op: 'Clip', inputs: [current, 'clip_min', 'clip_max'], outputs: [outputName] });
  } else {
    nodes.push({ op: 'Identity', inputs: [current], outputs: [outputName] });
  }

  return encodeModel({
    name: spec.graphName ?? `aerie_${iface.kind}_mlp`,
    inputs: [{ name: inputName, dims: [BATCH_DIM, spec.inputSize] }],
    outputs: [{ name: outputName, dims: [BATCH_DIM, width] }],
    nodes,
    initializers,
    metadata: { ...metadata, ...spec.metadata },
    docString: spec.docString,
  });
}
