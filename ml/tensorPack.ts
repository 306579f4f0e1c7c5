/**
 * Named float32 tensors as one little-endian byte block plus a layout (name,
 * shape, offset in elements): the format of checkpoints' tensors.bin and of a
 * trained model's weights.bin.
 */
export interface PackedTensor {
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
}

export interface NamedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

export function packTensors(tensors: NamedTensor[]): { bytes: Uint8Array; layout: PackedTensor[] } {
  const flat = new Float32Array(tensors.reduce((s, t) => s + t.values.length, 0));
  const layout: PackedTensor[] = [];
  let at = 0;
  for (const t of tensors) {
    flat.set(t.values, at);
    layout.push({ name: t.name, shape: t.shape, offset: at });
    at += t.values.length;
  }
  return { bytes: new Uint8Array(flat.buffer), layout };
}

/** The tensors in layout order; each must fill exactly the span up to the next one (or the end). */
export function unpackTensors(bytes: Uint8Array, layout: PackedTensor[]): Float32Array[] {
  // Copy to an aligned buffer: storage may hand back a view at any byte offset.
  const flat = new Float32Array(new Uint8Array(bytes).buffer);
  return layout.map((t, i) => {
    const end = layout[i + 1]?.offset ?? flat.length;
    if (end - t.offset !== t.shape.reduce((a, b) => a * b, 1)) throw new Error(`tensor ${t.name}: shape ${JSON.stringify(t.shape)} does not match its ${end - t.offset} values`);
    return flat.slice(t.offset, end);
  });
}
