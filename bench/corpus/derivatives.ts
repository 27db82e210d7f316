// Standardized derivatives (video-360p-h264@1) of corpus titles and real clips, made by the feature's own compute
// (no stack needed) and kept in an object store under .mediamesh/corpus/store, looked up by the source's hash.
import fs from 'node:fs';
import path from 'node:path';
import mediaMetadata from '../../activities/features/media-metadata.ts';
import mediaQc from '../../activities/features/media-qc.ts';
import videoRecipe from '../../activities/features/video-360p-h264.ts';
import { derivativeSource, VideoReader } from '../../lib/media/reader.ts';
import type { MediaTools } from '../../lib/media/tools.ts';
import { FsObjectStore, sha256File } from '../../lib/objects/store.ts';
import { runLocally } from '../../test/support/media-local.ts';
import { CORPUS_ROOT } from './corpus.ts';

export interface Derivative {
  file: string;
  width: number;
  height: number;
  frameRate: string;
  frames: number;
  gop: number;
}

export async function standardized(
  tools: MediaTools,
  source: string,
  root = CORPUS_ROOT,
): Promise<Derivative> {
  const objects = new FsObjectStore(path.join(root, 'store'));
  const { sha256 } = await sha256File(source);
  const index = path.join(root, 'derivatives', `${sha256}.json`);
  if (fs.existsSync(index)) {
    const known = JSON.parse(fs.readFileSync(index, 'utf8')) as Derivative & { object: { uri: string } };
    if (await objects.has(known.object.uri.replace('mm://sha256/', ''))) {
      return { ...known, file: await objects.localPath(known.object) };
    }
  }
  const run = await runLocally([mediaMetadata, mediaQc, videoRecipe], source, { objects, tools });
  const v = run.values['video-360p-h264']!.value as Omit<Derivative, 'file'> & { object: { uri: string } };
  fs.mkdirSync(path.dirname(index), { recursive: true });
  fs.writeFileSync(index, `${JSON.stringify(v)}\n`);
  return {
    file: await objects.localPath(v.object),
    width: v.width,
    height: v.height,
    frameRate: v.frameRate,
    frames: v.frames,
    gop: v.gop,
  };
}

export function readerOf(tools: MediaTools, d: Derivative): VideoReader {
  return new VideoReader(tools, derivativeSource(d.file, d));
}
