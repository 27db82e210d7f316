import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.ts';

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** FFMPEG_PATH / FFPROBE_PATH when set, else the system binaries (Debian's ffmpeg package). */
export function findMediaTools(config: Pick<Config, 'media'>): MediaTools | undefined {
  const ffmpeg = config.media.ffmpeg ?? onPath('ffmpeg');
  const ffprobe = config.media.ffprobe ?? onPath('ffprobe');
  return ffmpeg && ffprobe ? { ffmpeg, ffprobe } : undefined;
}

export class MediaToolError extends Error {
  override name = 'MediaToolError';
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Runs ffmpeg/ffprobe with stdout captured as a Buffer; fails with the tool's own last error lines. */
export function runTool(
  bin: string,
  args: string[],
  { signal, maxBuffer = 256 * 1024 * 1024 }: { signal?: AbortSignal; maxBuffer?: number } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { encoding: 'buffer', maxBuffer, signal }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const tail = stderr.toString('utf8').trim().split('\n').slice(-3).join(' | ');
      reject(
        new MediaToolError(`${path.basename(bin)} failed: ${tail || err.message}`, stderr.toString('utf8')),
      );
    });
  });
}
