// Assets are content-addressed and belong to the title that landed their bytes first; test files share one
// database, so a file that lands media other files also use (the corpus title, the sample clips) lands a tagged
// stream copy: the same pictures, bytes no other test lands.

import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MediaTools } from '../../lib/media/tools.ts';

export async function taggedCopy(
  tools: MediaTools,
  file: string,
  dir: string,
  name: string,
): Promise<string> {
  const out = path.join(dir, name);
  await promisify(execFile)(tools.ffmpeg, [
    ...['-v', 'error', '-i', file, '-map', '0', '-c', 'copy'],
    ...['-metadata', `comment=mediamesh-test ${crypto.randomUUID()}`, '-y', out],
  ]);
  return out;
}
