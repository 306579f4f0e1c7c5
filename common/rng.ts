/**
 * The project's seeded randomness (the generator's events, the trainer's data
 * order): xoshiro128** (32-bit state words, Math.imul arithmetic: fast in V8
 * and identical on every platform), seeded through splitmix32 from (seed, sample, file index) so that every
 * file has its own independent stream and files can be made in parallel.
 */

const TWO_POW_32 = 4294967296;

/** splitmix32 finaliser: a bijective 32-bit mix. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Any number of integer keys (each taken modulo 2^32) select the stream. */
  constructor(...keys: number[]) {
    let h = 0x9e3779b9;
    for (const k of keys) h = mix32(h ^ mix32((k >>> 0) + 0x632be59b));
    // splitmix32 sequence for the four state words (never all zero).
    const next = () => (h = (h + 0x9e3779b9) >>> 0, mix32(h));
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** Next 32-bit output as an unsigned integer. */
  u32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r >>> 0;
  }

  /** Uniform in the open interval (0, 1): safe for log(). */
  uniform(): number {
    return (this.u32() + 0.5) / TWO_POW_32;
  }

  /** Standard exponential (mean 1): Marsaglia–Tsang ziggurat (256 layers). */
  exponential(): number {
    const jz = this.u32();
    const iz = jz & 255;
    if (jz < EXP_K[iz]!) return jz * EXP_W[iz]!;
    return this.exponentialTail(jz, iz);
  }

  private exponentialTail(jz: number, iz: number): number {
    for (;;) {
      if (iz === 0) return EXP_R - Math.log(this.uniform());
      const x = jz * EXP_W[iz]!;
      if (EXP_F[iz]! + this.uniform() * (EXP_F[iz - 1]! - EXP_F[iz]!) < Math.exp(-x)) return x;
      jz = this.u32();
      iz = jz & 255;
      if (jz < EXP_K[iz]!) return jz * EXP_W[iz]!;
    }
  }

  /** Standard normal: Marsaglia–Tsang ziggurat (128 layers); ~99 % of draws cost one u32 and a multiply. */
  normal(): number {
    const hz = this.u32() | 0;
    const iz = hz & 127;
    const abs = hz < 0 ? -hz : hz;
    if (abs < ZIG_K[iz]!) return hz * ZIG_W[iz]!;
    return this.normalTail(hz, iz);
  }

  /** The ziggurat's slow path: wedges of the layers and the tail beyond ZIG_R. */
  private normalTail(hz: number, iz: number): number {
    for (;;) {
      const x = hz * ZIG_W[iz]!;
      if (iz === 0) {
        let tx: number, ty: number;
        do {
          tx = -Math.log(this.uniform()) / ZIG_R;
          ty = -Math.log(this.uniform());
        } while (ty + ty < tx * tx);
        return hz > 0 ? ZIG_R + tx : -ZIG_R - tx;
      }
      if (ZIG_F[iz]! + this.uniform() * (ZIG_F[iz - 1]! - ZIG_F[iz]!) < Math.exp(-0.5 * x * x)) return x;
      hz = this.u32() | 0;
      iz = hz & 127;
      if ((hz < 0 ? -hz : hz) < ZIG_K[iz]!) return hz * ZIG_W[iz]!;
    }
  }
}

/** Ziggurat tables for the normal density (Marsaglia & Tsang 2000): layer edges, widths, heights. */
const ZIG_R = 3.442619855899;
const ZIG_K = new Float64Array(128);
const ZIG_W = new Float64Array(128);
const ZIG_F = new Float64Array(128);
{
  const area = 9.91256303526217e-3;
  const m = 2147483648;
  let d = ZIG_R;
  let t = d;
  const q = area / Math.exp(-0.5 * d * d);
  ZIG_K[0] = Math.floor((d / q) * m);
  ZIG_K[1] = 0;
  ZIG_W[0] = q / m;
  ZIG_W[127] = d / m;
  ZIG_F[0] = 1;
  ZIG_F[127] = Math.exp(-0.5 * d * d);
  for (let i = 126; i >= 1; i--) {
    d = Math.sqrt(-2 * Math.log(area / d + Math.exp(-0.5 * d * d)));
    ZIG_K[i + 1] = Math.floor((d / t) * m);
    t = d;
    ZIG_F[i] = Math.exp(-0.5 * d * d);
    ZIG_W[i] = d / m;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Ziggurat tables for the exponential density. */
const EXP_R = 7.697117470131487;
const EXP_K = new Float64Array(256);
const EXP_W = new Float64Array(256);
const EXP_F = new Float64Array(256);
{
  const area = 3.949659822581572e-3;
  let d = EXP_R;
  let t = d;
  const q = area / Math.exp(-d);
  EXP_K[0] = Math.floor((d / q) * TWO_POW_32);
  EXP_K[1] = 0;
  EXP_W[0] = q / TWO_POW_32;
  EXP_W[255] = d / TWO_POW_32;
  EXP_F[0] = 1;
  EXP_F[255] = Math.exp(-d);
  for (let i = 254; i >= 1; i--) {
    d = -Math.log(area / d + Math.exp(-d));
    EXP_K[i + 1] = Math.floor((d / t) * TWO_POW_32);
    t = d;
    EXP_F[i] = Math.exp(-d);
    EXP_W[i] = d / TWO_POW_32;
  }
}
