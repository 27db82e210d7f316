// Shot detection over a video: every picture of the derivative in order, as small yuv420p frames (its own format,
// so ffmpeg only scales), decoded in segments side by side and streamed into the detector with progress and
// cancellation.
import os from 'node:os';
import { BadInputError } from '../features/definition.ts';
import type { VideoReader } from '../media/reader.ts';
import { decodeFrames } from '../media/segments.ts';
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
  /** ffmpeg processes decoding segments at once (default: the cores, at most 4). */
  lanes?: number | undefined;
}

/**
 * Decoder settings for analysis at 64×36: no deblocking (invisible once 100 pixels are averaged into one; the
 * decode is ~15 % faster and as deterministic).
 */
export const ANALYSIS_DECODER_ARGS = ['-skip_loop_filter', 'all'];

/** In one process, one decoder thread fewer than the cores leaves one for the detector. */
export function analysisThreads(cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
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
  // Every picture in order from the start (segments decoded side by side): frame i is the derivative's frame i.
  for await (const p of decodeFrames(reader.tools, reader.source, {
    start: 0,
    end: total,
    width: params.width,
    height: params.height,
    pixelFormat: 'yuv420p',
    signal: opts.signal,
    decoderArgs: ANALYSIS_DECODER_ARGS,
    threads: analysisThreads(),
    lanes: opts.lanes,
  })) {
    detector.push(p.data as Uint8Array);
    if (detector.frames % every === 0) report(detector.frames);
  }
  if (detector.frames !== total) {
    throw new BadInputError(
      `${reader.source.file}: decoded ${detector.frames} frames, the video has ${total}`,
    );
  }
  report(detector.frames);
  return detector.finish();
}
