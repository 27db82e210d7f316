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
for (const f of fs.readdirSync(dir).slice(2, 6)) {
  const v = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const h = v.object.uri.replace('mm://sha256/', '');
  const d = { ...v, file: path.join(projectRoot, '.mediamesh/corpus/store/sha256', h.slice(0, 2), h) };
  const t0 = performance.now();
  const det = await detectShots(readerOf(tools, d), params, { lanes: 2 });
  console.log(f.slice(0, 8), Math.round(det.frames / ((performance.now() - t0) / 1000)), 'fps');
}
