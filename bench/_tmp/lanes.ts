import fs from 'node:fs';
import path from 'node:path';
import { findMediaTools } from '../../lib/media/tools.ts';
import { detectShots } from '../../lib/shots/read.ts';
import { shotParams } from '../../lib/shots/params.ts';
import { readerOf } from '../corpus/derivatives.ts';
import { projectRoot } from '../../lib/config/config.ts';
const tools = findMediaTools({ media: {} } as never)!;
const dir = path.join(projectRoot, '.mediamesh/corpus/derivatives');
const files = fs.readdirSync(dir).slice(0, 4);
const params = shotParams.parse({});
for (const f of files) {
  const v = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  const d = { ...v, file: path.join(projectRoot, '.mediamesh/corpus/store/sha256', v.object.uri.replace('mm://sha256/', '').slice(0,2), v.object.uri.replace('mm://sha256/', '')) };
  for (const lanes of [1, 2, 1, 2]) {
    const t0 = performance.now();
    const det = await detectShots(readerOf(tools, d), params, { lanes });
    const s = (performance.now() - t0) / 1000;
    console.log(f.slice(0, 8), d.frames, d.gop, 'lanes', lanes, Math.round(det.frames / s), 'fps');
  }
}
