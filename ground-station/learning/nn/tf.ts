/**
 * TensorFlow.js on its WebAssembly backend: a real autodiff library that installs from the npm registry alone (no
 * native build, no download at install), runs the same on every machine, and is several times faster than the
 * plain-JS CPU backend for these small MLPs. Initialised once per process.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let ready: Promise<typeof tf> | null = null;

/** The tf namespace with the wasm backend active (idempotent). */
export function initTf(): Promise<typeof tf> {
  if (ready === null) {
    ready = (async () => {
      const require = createRequire(import.meta.url);
      const wasmEntry = require.resolve('@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.node.js');
      setWasmPaths(`${dirname(wasmEntry)}/`);
      // The threaded build needs cross-origin isolation in browsers and brings nothing here; one thread also keeps
      // results bit-reproducible.
      await tf.setBackend('wasm');
      await tf.ready();
      return tf;
    })();
  }
  return ready;
}

export { tf };
