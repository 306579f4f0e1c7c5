/**
 * Replacement `Slice`, `Unpack` and `BatchMatMul` kernels for the tfjs
 * `wasm` back end.
 *
 * The stock Slice and Unpack start with `backend.readSync(x)`, which copies
 * the WHOLE input out of the wasm heap on every call, so taking T slices of a
 * tensor with T time steps costs O(T²). These read the input through a view
 * of the heap instead and copy only the elements the slice keeps.
 *
 * The stock BatchMatMul with a transposed operand leaves XNNPACK for a plain
 * loop: ~130 µs for a [128, 50]ᵀ·[128, 20] weight gradient against ~35 µs for
 * an explicit Transpose and the XNNPACK product (measured). Backward passes
 * are made of such products, so a transposed operand is transposed first.
 */
import { tf } from './tf.js';

type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The parts of tfjs-backend-wasm's BackendWasm used here and by Adam's update on the heap (adam.ts). */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** The tensor's values as a view of the wasm heap (detached when the heap grows). */
  typedArrayFromHeap(info: tf.TensorInfo): HeapArray;
  disposeData(dataId: object): void;
}

interface SliceAttrs { begin: number | number[]; size?: number | number[] }
interface MatMulAttrs { transposeA: boolean; transposeB: boolean }
interface UnpackAttrs { axis: number }

/** Copies the box `begin`..`begin+size` of `src` (shape `shape`) into `dst`, row-major. */
function copyBox(src: HeapArray, dst: HeapArray, shape: number[], begin: number[], size: number[]): void {
  const rank = shape.length;
  const strides = [...tf.util.computeStrides(shape), 1];
  // Trailing axes taken whole are contiguous in both src and dst: copy them as
  // one run, and loop only over the axes before them.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === shape[inner]) inner--;
  const run = size.slice(inner).reduce((a, b) => a * b, 1);
  const outer = size.slice(0, inner);
  const idx = new Array<number>(inner).fill(0);
  const total = outer.reduce((a, b) => a * b, 1);
  let out = 0;
  for (let n = 0; n < total; n++) {
    let off = begin[inner]! * strides[inner]!;
    for (let d = 0; d < inner; d++) off += (begin[d]! + idx[d]!) * strides[d]!;
    if (run >= 64) dst.set(src.subarray(off, off + run), out);
    else for (let i = 0; i < run; i++) dst[out + i] = src[off + i]!; // short rows: a subarray costs more than the copy
    out += run;
    // Odometer increment over the outer axes.
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < outer[d]!) break;
      idx[d] = 0;
    }
  }
}

function wasmSlice(x: tf.TensorInfo, begin: number | number[], size: number | number[] | undefined, backend: WasmBackend): tf.TensorInfo {
  const [begin_, size_] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  const out = backend.makeOutput(size_, x.dtype);
  if (size_.some((s) => s === 0)) return out;
  // Views are taken after makeOutput: its malloc may grow (and detach) the heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (x.shape.length === 0) dst.set(src);
  else copyBox(src, dst, x.shape, begin_, size_);
  return out;
}

/**
 * A matrix product with each transposed operand transposed first, so that
 * the stock kernel takes its XNNPACK path. Only for single matrices (outer
 * dimensions of size 1): batched products stay on the stock kernel.
 */
function matMulTransposedFirst(args: Parameters<tf.KernelFunc>[0], stock: tf.KernelConfig, transpose: tf.KernelConfig): ReturnType<tf.KernelFunc> {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as MatMulAttrs;
  const single = (x: tf.TensorInfo) => x.shape.slice(0, -2).every((d) => d === 1);
  if ((!transposeA && !transposeB) || !single(a) || !single(b)) return stock.kernelFunc(args);
  const backend = args.backend as unknown as WasmBackend;
  const swapped = (x: tf.TensorInfo) => {
    const perm = x.shape.map((_, d) => d);
    perm.splice(-2, 2, perm.length - 1, perm.length - 2);
    return transpose.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { perm } }) as tf.TensorInfo;
  };
  const at = transposeA ? swapped(a) : a;
  const bt = transposeB ? swapped(b) : b;
  try {
    return stock.kernelFunc({ inputs: { a: at, b: bt }, backend: args.backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
  } finally {
    if (at !== a) backend.disposeData(at.dataId);
    if (bt !== b) backend.disposeData(bt.dataId);
  }
}

let original: { slice: tf.KernelConfig; unpack: tf.KernelConfig; matMul: tf.KernelConfig } | null = null;

/**
 * Swaps in the heap-view Slice/Unpack kernels and the transpose-first
 * BatchMatMul for the `wasm` back end. Idempotent; string tensors still go
 * to the stock Slice/Unpack.
 */
export function installWasmKernels(): void {
  if (original) return;
  const slice = tf.getKernel('Slice', 'wasm');
  const unpack = tf.getKernel('Unpack', 'wasm');
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!slice || !unpack || !matMul || !transpose) throw new Error('tfjs wasm back end is not loaded (no Slice/Unpack/BatchMatMul/Transpose kernels)');
  original = { slice, unpack, matMul };
  const stock = original;
  tf.unregisterKernel('Slice', 'wasm');
  tf.unregisterKernel('Unpack', 'wasm');
  tf.unregisterKernel('BatchMatMul', 'wasm');
  // No setupFunc: the stock kernel's ran when the back end started, and its kernelFunc is reused.
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: (args) => matMulTransposedFirst(args, stock.matMul, transpose) });
  tf.registerKernel({
    kernelName: 'Slice',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return stock.slice.kernelFunc(args);
      const { begin, size } = args.attrs as unknown as SliceAttrs;
      return wasmSlice(x, begin, size, args.backend as unknown as WasmBackend);
    },
  });
  tf.registerKernel({
    kernelName: 'Unpack',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const value = args.inputs.value as tf.TensorInfo;
      if (value.dtype === 'string') return stock.unpack.kernelFunc(args);
      const rank = value.shape.length;
      const { axis: rawAxis } = args.attrs as unknown as UnpackAttrs;
      const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
      const outShape = value.shape.filter((_, d) => d !== axis);
      const begin = new Array<number>(rank).fill(0);
      const size = value.shape.slice();
      size[axis] = 1;
      const outs: tf.TensorInfo[] = [];
      for (let i = 0; i < (value.shape[axis] ?? 0); i++) {
        begin[axis] = i;
        const piece = wasmSlice(value, begin, size, args.backend as unknown as WasmBackend);
        outs.push({ dataId: piece.dataId, dtype: piece.dtype, shape: outShape });
      }
      return outs;
    },
  });
}

/** Puts the stock kernels back (for benchmarks that compare the two). */
export function uninstallWasmKernels(): void {
  if (!original) return;
  tf.unregisterKernel('Slice', 'wasm');
  tf.unregisterKernel('Unpack', 'wasm');
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(original.slice);
  tf.registerKernel(original.unpack);
  tf.registerKernel(original.matMul);
  original = null;
}
