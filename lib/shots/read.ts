// Shot detection over a video through the reader API: small yuv420p frames (the derivative's own format, so
// ffmpeg only scales) streamed into the detector, with progress reports and cancellation.
import { BadInputError } from '../features/definition.ts';
import type { VideoReader } from '../media/reader.ts';
import { type Detection, ShotDetector } from './detector.ts';
import type { ShotParams } from './params.ts';

export interface Progress {
  frame: number;
  frames: number;
  fraction: number;
  fps: number;
}

export interface DetectOptions {
  signal?: AbortSignal | undefined;
  /** Called every `progressEvery` frames and at the end. */
  onProgress?: ((p: Progress) => void) | undefined;
  progressEvery?: number;
}

export async function detectShots(
  reader: VideoReader,
  params: ShotParams,
  opts: DetectOptions = {},
): Promise<Detection> {
  const total = reader.frameCount;
  if (!(total > 0)) throw new BadInputError(`${reader.source.file} has no video frames`);
  const detector = new ShotDetector(reader.fps, params);
  const every = opts.progressEvery ?? 500;
  const started = performance.now();
  const report = (frame: number) =>
    opts.onProgress?.({
      frame,
      frames: total,
      fraction: frame / total,
      fps: frame / Math.max(1e-3, (performance.now() - started) / 1000),
    });
  for await (const f of reader.frames({
    width: params.width,
    height: params.height,
    pixelFormat: 'yuv420p',
    signal: opts.signal,
  })) {
    detector.push(f.data as Uint8Array);
    if (detector.frames % every === 0) report(detector.frames);
  }
  if (detector.frames === 0) throw new BadInputError(`${reader.source.file}: no frame could be decoded`);
  report(detector.frames);
  return detector.finish();
}
