/**
 * The one place that loads TensorFlow.js: the umbrella package (core with its
 * chained tensor methods, layers, the pure-JS `cpu` back end) plus the
 * WebAssembly back end. Native back ends (tfjs-node, tfjs-node-gpu) are
 * optional dependencies, loaded on demand by backend.ts.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
export const tfl = tf.layers;
