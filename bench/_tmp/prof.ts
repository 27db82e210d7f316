import fs from 'node:fs';
import path from 'node:path';
import { findMediaTools } from '../../lib/media/tools.ts';
import { ShotDetector } from '../../lib/shots/detector.ts';
import { shotParams } from '../../lib/shots/params.ts';
import { decodeFrames } from '../../lib/media/segments.ts';
import { ANALYSIS_DECODER_ARGS } from '../../lib/shots/read.ts';
import { readerOf } from '../corpus/derivatives.ts';
import { projectRoot } from '../../lib/config/config.ts';
const tools = findMediaTools({ media: {} } as never)!;
const dir = path.join(projectRoot, '.mediamesh/corpus/derivatives');
const f = fs.readdirSync(dir)[2]!;
const v = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const h = v.object.uri.replace('mm://sha256/', '');
const d = { ...v, file: path.join(projectRoot, '.mediamesh/corpus/store/sha256', h.slice(0, 2), h) };
const r = readerOf(tools, d);
const params = shotParams.parse({});
const frames: Uint8Array[] = [];
for await (const p of decodeFrames(tools, r.source, { start: 0, end: d.frames, width: params.width, height: params.height, pixelFormat: 'yuv420p', decoderArgs: ANALYSIS_DECODER_ARGS, lanes: 2 })) frames.push(p.data as Uint8Array);
for (let k = 0; k < 5; k++) {
  const det = new ShotDetector(r.fps, params);
  const t1 = performance.now();
  for (const fr of frames) det.push(fr);
  det.finish();
  console.log('detector', Math.round(frames.length / ((performance.now() - t1) / 1000)), 'fps');
}
