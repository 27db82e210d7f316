import fs from 'node:fs';
import path from 'node:path';
import { findMediaTools } from '../../lib/media/tools.ts';
import { shotParams } from '../../lib/shots/params.ts';
import { detectShots } from '../../lib/shots/read.ts';
import { readerOf } from '../corpus/derivatives.ts';
import { projectRoot } from '../../lib/config/config.ts';
const tools = findMediaTools({ media: {} } as never)!;
const dir = path.join(projectRoot, '.mediamesh/corpus/derivatives');
const params = shotParams.parse({});
const f = fs.readdirSync(dir)[2]!;
const v = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const h = v.object.uri.replace('mm://sha256/', '');
const d = { ...v, file: path.join(projectRoot, '.mediamesh/corpus/store/sha256', h.slice(0, 2), h) };
for (const lanes of [2, 1, 2, 1, 2]) {
  const t0 = performance.now();
  let first = 0;
  const det = await detectShots(readerOf(tools, d), params, { lanes, progressEvery: 1, onProgress: (p) => { if (!first) first = performance.now() - t0; } });
  const all = performance.now() - t0;
  console.log('lanes', lanes, 'first frame', first.toFixed(0), 'ms; total', all.toFixed(0), 'ms;', Math.round(det.frames / (all / 1000)), 'fps');
}
