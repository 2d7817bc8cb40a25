// A tiny llama-architecture GGUF (F32, random weights) made at test time, so that a real llama-server can
// load and run a model here without any download. It writes printable ASCII only and never stops by itself:
// always give max_tokens. Deterministic: the same options give the same bytes.
import { writeFileSync } from 'node:fs';

export interface TinyModelOptions {
  embd?: number;
  layers?: number;
  heads?: number;
  ctx?: number;
  name?: string;
  description?: string;
}

const T = { U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;
type Kv = { key: string; type: number; value: unknown; sub?: number };

export function writeTinyGguf(path: string, o: TinyModelOptions = {}): number {
  const embd = o.embd ?? 64,
    layers = o.layers ?? 2,
    heads = o.heads ?? 4,
    ctx = o.ctx ?? 8192,
    ff = embd * 2;
  // Vocabulary: specials, 256 byte tokens, the SPM space marker, printable ASCII, ChatML markers.
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  const space = tokens.length;
  tokens.push('\u2581');
  types.push(1);
  for (let c = 0x21; c <= 0x7e; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(1);
  }
  const lastPrintable = tokens.length - 1;
  tokens.push('<|im_start|>', '<|im_end|>');
  types.push(3, 3);
  const vocab = tokens.length;
  const template =
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  const kvs: Kv[] = [
    { key: 'general.architecture', type: T.STRING, value: 'llama' },
    { key: 'general.name', type: T.STRING, value: o.name ?? 'switchyard-tiny' },
    {
      key: 'general.description',
      type: T.STRING,
      value: o.description ?? 'A tiny model with random weights for testing the local lane: its answers are gibberish.',
    },
    { key: 'general.file_type', type: T.U32, value: 0 },
    { key: 'llama.context_length', type: T.U32, value: ctx },
    { key: 'llama.embedding_length', type: T.U32, value: embd },
    { key: 'llama.block_count', type: T.U32, value: layers },
    { key: 'llama.feed_forward_length', type: T.U32, value: ff },
    { key: 'llama.attention.head_count', type: T.U32, value: heads },
    { key: 'llama.attention.head_count_kv', type: T.U32, value: heads },
    { key: 'llama.rope.dimension_count', type: T.U32, value: embd / heads },
    { key: 'llama.attention.layer_norm_rms_epsilon', type: T.F32, value: 1e-5 },
    { key: 'tokenizer.ggml.model', type: T.STRING, value: 'llama' },
    { key: 'tokenizer.ggml.tokens', type: T.ARRAY, value: tokens, sub: T.STRING },
    { key: 'tokenizer.ggml.scores', type: T.ARRAY, value: tokens.map(() => 0), sub: T.F32 },
    { key: 'tokenizer.ggml.token_type', type: T.ARRAY, value: types, sub: T.I32 },
    { key: 'tokenizer.ggml.unknown_token_id', type: T.U32, value: 0 },
    { key: 'tokenizer.ggml.bos_token_id', type: T.U32, value: 1 },
    { key: 'tokenizer.ggml.eos_token_id', type: T.U32, value: vocab - 1 },
    { key: 'tokenizer.ggml.add_bos_token', type: T.BOOL, value: false },
    { key: 'tokenizer.ggml.add_space_prefix', type: T.BOOL, value: false },
    { key: 'tokenizer.chat_template', type: T.STRING, value: template },
  ];

  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    parts.push(b);
  };
  const u64 = (v: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    parts.push(b);
  };
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    u64(b.length);
    parts.push(b);
  };
  const value = (type: number, v: unknown, sub?: number): void => {
    switch (type) {
      case T.U32:
        u32(v as number);
        break;
      case T.I32: {
        const b = Buffer.alloc(4);
        b.writeInt32LE(v as number);
        parts.push(b);
        break;
      }
      case T.F32: {
        const b = Buffer.alloc(4);
        b.writeFloatLE(v as number);
        parts.push(b);
        break;
      }
      case T.BOOL:
        parts.push(Buffer.from([v ? 1 : 0]));
        break;
      case T.STRING:
        str(v as string);
        break;
      case T.ARRAY:
        u32(sub!);
        u64((v as unknown[]).length);
        for (const x of v as unknown[]) value(sub!, x);
        break;
    }
  };

  // xorshift32: reproducible weights.
  let seed = 0x2545f491;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return ((seed >>> 0) / 4294967296) * 2 - 1;
  };
  type Tensor = { name: string; dims: number[]; fill: (i: number) => number; offset?: number };
  const tensors: Tensor[] = [];
  // Dimension 0 of every embedding is a large constant; the output row of every token the model must not
  // write (bytes, controls, end of turn) has -30 there, so only printable ASCII and spaces come out.
  tensors.push({ name: 'token_embd.weight', dims: [embd, vocab], fill: (i) => (i % embd === 0 ? 8 : rnd() * 0.5) });
  tensors.push({ name: 'output_norm.weight', dims: [embd], fill: () => 1 });
  tensors.push({
    name: 'output.weight',
    dims: [embd, vocab],
    fill: (i) => {
      const tok = Math.floor(i / embd),
        d = i % embd;
      const allowed = tok >= space && tok <= lastPrintable;
      return d === 0 ? (allowed ? 0 : -30) : rnd() * 2;
    },
  });
  const s = 1 / Math.sqrt(embd);
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    tensors.push({ name: `${p}attn_norm.weight`, dims: [embd], fill: () => 1 });
    for (const w of ['attn_q', 'attn_k', 'attn_v', 'attn_output'])
      tensors.push({ name: `${p}${w}.weight`, dims: [embd, embd], fill: () => rnd() * s });
    tensors.push({ name: `${p}ffn_norm.weight`, dims: [embd], fill: () => 1 });
    tensors.push({ name: `${p}ffn_gate.weight`, dims: [embd, ff], fill: () => rnd() * s });
    tensors.push({ name: `${p}ffn_up.weight`, dims: [embd, ff], fill: () => rnd() * s });
    tensors.push({ name: `${p}ffn_down.weight`, dims: [ff, embd], fill: () => rnd() / Math.sqrt(ff) });
  }

  const ALIGN = 32;
  u32(0x46554747);
  u32(3);
  u64(tensors.length);
  u64(kvs.length); // "GGUF", version 3
  for (const kv of kvs) {
    str(kv.key);
    u32(kv.type);
    value(kv.type, kv.value, kv.sub);
  }
  let offset = 0;
  for (const t of tensors) {
    t.offset = offset;
    str(t.name);
    u32(t.dims.length);
    for (const d of t.dims) u64(d);
    u32(0 /* F32 */);
    u64(offset);
    offset += Math.ceil((t.dims.reduce((a, b) => a * b, 1) * 4) / ALIGN) * ALIGN;
  }
  const header = Buffer.concat(parts);
  const pad = (ALIGN - (header.length % ALIGN)) % ALIGN;
  const data = Buffer.alloc(offset);
  for (const t of tensors) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++) data.writeFloatLE(t.fill(i), t.offset! + i * 4);
  }
  const out = Buffer.concat([header, Buffer.alloc(pad), data]);
  writeFileSync(path, out);
  return out.length;
}
