// What a GGUF model file says about itself: its header's metadata (general.name, the architecture, the file type,
// the context length) and its tensor table (the parameter count). Only the header is read, in chunks, so a
// 20 GB file costs a few megabytes of reading.
import { closeSync, openSync, readSync } from 'node:fs';

export interface GgufMeta {
  name: string | null;
  architecture: string | null;
  /** general.size_label where the file has one ("30B-A3B"). */
  sizeLabel: string | null;
  /** The sum of every tensor's elements. */
  parameters: number;
  /** The file type as llama.cpp names it ("Q4_K_M", "F32"), or null when unknown. */
  quantization: string | null;
  contextLength: number | null;
  description: string | null;
}

// llama.cpp's llama_ftype values (general.file_type).
const FILE_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  19: 'IQ2_XXS',
  20: 'IQ2_XS',
  21: 'Q2_K_S',
  22: 'IQ3_XS',
  23: 'IQ3_XXS',
  24: 'IQ1_S',
  25: 'IQ4_NL',
  26: 'IQ3_S',
  27: 'IQ3_M',
  28: 'IQ2_S',
  29: 'IQ2_M',
  30: 'IQ4_XS',
  31: 'IQ1_M',
  32: 'BF16',
  36: 'TQ1_0',
  37: 'TQ2_0',
  38: 'MXFP4_MOE',
};

// The fixed-size value types (GGUF v2/v3), each with its size and how it reads: U8 I8 U16 I16 U32 I32 F32 BOOL,
// (8 STRING and 9 ARRAY are read apart), U64 I64 F64.
const FIXED: Record<number, [number, (b: Buffer) => number | boolean]> = {
  0: [1, (b) => b.readUInt8(0)],
  1: [1, (b) => b.readInt8(0)],
  2: [2, (b) => b.readUInt16LE(0)],
  3: [2, (b) => b.readInt16LE(0)],
  4: [4, (b) => b.readUInt32LE(0)],
  5: [4, (b) => b.readInt32LE(0)],
  6: [4, (b) => b.readFloatLE(0)],
  7: [1, (b) => b.readUInt8(0) !== 0],
  10: [8, (b) => Number(b.readBigUInt64LE(0))],
  11: [8, (b) => Number(b.readBigInt64LE(0))],
  12: [8, (b) => b.readDoubleLE(0)],
};
const STRING = 8;
const ARRAY = 9;

/** A forward-only reader over a file, a chunk at a time. */
class Cursor {
  private buf = Buffer.alloc(0);
  private start = 0; // file offset of buf[0]
  pos = 0;
  constructor(private readonly fd: number) {}

  private need(n: number): void {
    const have = this.start + this.buf.length - this.pos;
    if (have >= n) return;
    const keep = this.buf.subarray(this.pos - this.start);
    const more = Buffer.alloc(Math.max(n - keep.length, 1 << 20));
    const got = readSync(this.fd, more, 0, more.length, this.start + this.buf.length);
    if (keep.length + got < n) throw new Error('the file ends inside its GGUF header');
    this.buf = Buffer.concat([keep, more.subarray(0, got)]);
    this.start = this.pos;
  }
  private take(n: number): Buffer {
    this.need(n);
    const at = this.pos - this.start;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }
  tag = () => this.take(4).toString('latin1');
  u32 = () => this.take(4).readUInt32LE(0);
  u64 = () => Number(this.take(8).readBigUInt64LE(0));
  str = () => this.take(this.u64()).toString('utf8');
  skip = (n: number) => void this.take(n);
  value(type: number): unknown {
    if (type === STRING) return this.str();
    if (type === ARRAY) {
      const sub = this.u32();
      const count = this.u64();
      if (sub === STRING) for (let i = 0; i < count; i++) this.skip(this.u64());
      else if (FIXED[sub]) this.skip(FIXED[sub][0] * count);
      else for (let i = 0; i < count; i++) this.value(sub);
      return null; // arrays (the vocabulary) are not needed
    }
    const fixed = FIXED[type];
    if (!fixed) throw new Error(`unknown GGUF value type ${type}`);
    return fixed[1](this.take(fixed[0]));
  }
}

/** The metadata of a GGUF file; throws with a readable message when the file is not one. */
export function readGguf(path: string): GgufMeta {
  const fd = openSync(path, 'r');
  try {
    const c = new Cursor(fd);
    if (c.tag() !== 'GGUF') throw new Error(`${path} is not a GGUF file`);
    const version = c.u32();
    if (version < 2) throw new Error(`${path}: GGUF version ${version} is too old to read`);
    const tensors = c.u64();
    const kvs = c.u64();
    const kv: Record<string, unknown> = {};
    for (let i = 0; i < kvs; i++) {
      const key = c.str();
      kv[key] = c.value(c.u32());
    }
    let parameters = 0;
    for (let i = 0; i < tensors; i++) {
      c.skip(c.u64()); // name
      const dims = c.u32();
      let n = 1;
      for (let d = 0; d < dims; d++) n *= c.u64();
      c.skip(12); // type (u32) and offset (u64)
      parameters += n;
    }
    const text = (k: string) => (typeof kv[k] === 'string' ? (kv[k] as string) : null);
    const arch = text('general.architecture');
    const ctx = arch ? kv[`${arch}.context_length`] : undefined;
    const ftype = kv['general.file_type'];
    return {
      name: text('general.name'),
      architecture: arch,
      sizeLabel: text('general.size_label'),
      parameters,
      quantization: typeof ftype === 'number' ? (FILE_TYPES[ftype] ?? `file type ${ftype}`) : null,
      contextLength: typeof ctx === 'number' ? ctx : null,
      description: text('general.description'),
    };
  } finally {
    closeSync(fd);
  }
}
