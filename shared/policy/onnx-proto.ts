/**
 * The ONNX protobuf classes, imported once. onnx-proto is CommonJS: under NodeNext ESM only its default export (the
 * module.exports object) is reliable at run time, so the rest of the folder imports `onnx` (value and types) from here.
 */
import onnxProto from 'onnx-proto';

export import onnx = onnxProto.onnx;

/** TensorProto.DataType.FLOAT: the only element type the contract uses. */
export const ONNX_FLOAT = 1;
