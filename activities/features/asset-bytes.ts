import fs from 'node:fs';
import { z } from 'zod';
import { defineFeature } from '../../lib/features/definition.ts';

const signatures: [string, (b: Buffer) => boolean][] = [
  ['iso-bmff', (b) => b.subarray(4, 8).toString('latin1') === 'ftyp'],
  ['matroska', (b) => b.readUInt32BE(0) === 0x1a45dfa3],
  ['riff', (b) => b.subarray(0, 4).toString('latin1') === 'RIFF'],
  ['mpeg-ts', (b) => b[0] === 0x47 && b[188] === 0x47],
  ['png', (b) => b.readUInt32BE(0) === 0x89504e47],
  ['jpeg', (b) => b[0] === 0xff && b[1] === 0xd8],
];

/** Byte-level facts about an asset: size, container family by magic number, Shannon entropy. */
export default defineFeature({
  name: 'asset-bytes',
  version: 1,
  description: 'size, container family (magic number) and byte entropy of the raw asset',
  module: import.meta.url,
  entityType: 'asset',
  taskQueue: 'cpu',
  output: z.object({
    sizeBytes: z.number().int().nonnegative(),
    container: z.string(),
    entropyBitsPerByte: z.number().min(0).max(8),
  }),
  async compute(ctx) {
    const file = await ctx.assetPath();
    const counts = new Float64Array(256);
    let size = 0;
    let head = Buffer.alloc(0);
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20, signal: ctx.signal })) {
      const buf = chunk as Buffer;
      if (head.length < 256) head = Buffer.concat([head, buf.subarray(0, 256 - head.length)]);
      for (let i = 0; i < buf.length; i++) counts[buf[i]!]!++;
      size += buf.length;
      ctx.heartbeat({ bytes: size });
    }
    let entropy = 0;
    for (const c of counts) if (c > 0) entropy -= (c / size) * Math.log2(c / size);
    const container =
      head.length >= 192 ? (signatures.find(([, test]) => test(head))?.[0] ?? 'unknown') : 'unknown';
    return { sizeBytes: size, container, entropyBitsPerByte: entropy };
  },
});
