import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config } from '../config/config.ts';
import { type Libav, loadLibav } from './libav.ts';

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
  /** The in-process decoder, when built and not turned off (MEDIAMESH_DECODER=ffmpeg); else ffmpeg processes. */
  libav?: Libav | undefined;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * ffmpeg-static's binary, only when it exists: its install script (which downloads it) is denied in package.json
 * so that `npm ci` works offline, and then the package still returns a path, to nothing.
 */
export function ffmpegStaticBinary(): string | undefined {
  try {
    const bin = createRequire(import.meta.url)('ffmpeg-static') as string | null;
    return bin && fs.existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * FFMPEG_PATH / FFPROBE_PATH when set, else the system binaries (Debian's ffmpeg package), else ffmpeg-static.
 * ffmpeg-static ships no ffprobe: with it, ffprobe must sit beside it, be on PATH or be named by FFPROBE_PATH.
 */
export function findMediaTools(config: Pick<Config, 'media'>): MediaTools | undefined {
  const ffmpeg = config.media.ffmpeg ?? onPath('ffmpeg') ?? ffmpegStaticBinary();
  const beside = ffmpeg ? path.join(path.dirname(ffmpeg), 'ffprobe') : undefined;
  const ffprobe =
    config.media.ffprobe ?? onPath('ffprobe') ?? (beside && fs.existsSync(beside) ? beside : undefined);
  if (!ffmpeg || !ffprobe) return undefined;
  const libav = config.media.decoder === 'ffmpeg' ? undefined : loadLibav().libav;
  return { ffmpeg, ffprobe, ...(libav ? { libav } : {}) };
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
      // Cancellation (or a timeout signal) is not the tool's failure: pass the signal's reason on.
      if (signal?.aborted) return reject(signal.reason);
      const tail = stderr.toString('utf8').trim().split('\n').slice(-3).join(' | ');
      reject(
        new MediaToolError(`${path.basename(bin)} failed: ${tail || err.message}`, stderr.toString('utf8')),
      );
    });
  });
}

const versions = new Map<string, Promise<string>>();

/** The first line of `<tool> -version` (e.g. "ffmpeg version 5.1.9-0+deb12u1"), once per binary. */
export function toolVersion(bin: string): Promise<string> {
  let v = versions.get(bin);
  if (!v) {
    v = runTool(bin, ['-hide_banner', '-version']).then((out) => out.toString('utf8').split('\n')[0]!.trim());
    v.catch(() => versions.delete(bin));
    versions.set(bin, v);
  }
  return v;
}
