/**
 * The policy contract shared by onboard/, sitl/ and the trainer: observation layout and builder, action mapping,
 * model interfaces and metadata, the ONNX writer, and the pure checks that refuse a non-conforming model. No I/O.
 */
export * from './action.js';
export * from './contract.js';
export * from './go-to-goal.js';
export * from './model-check.js';
export * from './observation.js';
export * from './observation-layout.js';
export * from './onnx-writer.js';
