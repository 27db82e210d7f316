// Shot detection over a video: every picture of the derivative in order, as small yuv420p frames (its own format,
// so ffmpeg only scales), decoded in segments side by side and streamed into the detector with progress and
// cancellation.
import { BadInputError } from '../features/definition.ts';
import type { VideoReader } from '../media/reader.ts';
import {
  decodeFrames,
  defaultLanes,
  MIN_SEGMENT_FRAMES,
  splitRange,
  threadsBesideConsumer,
} from '../media/segments.ts';
import { contextFrames, type Detection, decideShots, ShotDetector } from './detector.ts';
import type { ShotParams } from './params.ts';
import { type SignalPart, stitchSignals } from './signals.ts';

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

/** A part this long keeps a process's start (~90 ms of CPU) and its context frames small beside its decode. */
const FRAMES_PER_PART = 4000;

/**
 * The parts decoded side by side: `lanes` of them (more for long videos, so a lane that finishes early takes the
 * next), starting on keyframes. One part when the video is too short to gain.
 */
export function detectionParts(frames: number, lanes: number, gop?: number): [number, number][] {
  if (lanes < 2 || frames < lanes * MIN_SEGMENT_FRAMES) return [[0, frames]];
  const count = lanes * Math.max(1, Math.floor(frames / (lanes * FRAMES_PER_PART)));
  const bounds = splitRange(0, frames, count, gop);
  return bounds.slice(1).map((end, k) => [bounds[k]!, end]);
}

/**
 * Detects the shots of a whole video. With several lanes, each part of the video is decoded by its own ffmpeg and
 * analysed by its own signal stream as its frames arrive (in any order between parts), with enough frames of
 * context on each side that the stitched signals equal one stream's over the whole video; the decisions then run
 * once over them. Same result as one pass, without waiting on frame order.
 */
export async function detectShots(
  reader: VideoReader,
  params: ShotParams,
  opts: DetectOptions = {},
): Promise<Detection> {
  const total = reader.frameCount;
  if (!(total > 0)) throw new BadInputError(`${reader.source.file} has no video frames`);
  const fps = reader.fps;
  const every = opts.progressEvery ?? 500;
  const started = performance.now();
  let seen = 0;
  const report = (frame: number) =>
    opts.onProgress?.({
      frame,
      frames: total,
      fraction: frame / total,
      fps: frame / Math.max(1e-3, (performance.now() - started) / 1000),
    });
  const lanes = opts.lanes ?? defaultLanes();
  const parts = detectionParts(total, lanes, reader.source.gop);
  const context = parts.length > 1 ? contextFrames(fps) : 0;
  const stop = new AbortController();
  const abort = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', abort, { once: true });
  const analyse = async ([from, to]: [number, number]): Promise<SignalPart> => {
    const first = Math.max(0, from - context);
    const last = Math.min(total, to + context);
    const detector = new ShotDetector(fps, params);
    for await (const p of decodeFrames(reader.tools, reader.source, {
      start: first,
      end: last,
      width: params.width,
      height: params.height,
      pixelFormat: 'yuv420p',
      signal: stop.signal,
      decoderArgs: ANALYSIS_DECODER_ARGS,
      // Side by side, each ffmpeg keeps to one thread for decoding and one for filtering.
      threads: parts.length > 1 ? 1 : threadsBesideConsumer(),
      filterThreads: parts.length > 1 ? 1 : undefined,
      lanes: 1,
    })) {
      detector.push(p.data as Uint8Array);
      if (++seen % every === 0) report(Math.min(seen, total));
    }
    if (detector.frames !== last - first) {
      throw new BadInputError(
        `${reader.source.file}: decoded ${detector.frames} frames of ${first}–${last - 1}, the video has ${total}`,
      );
    }
    return { signals: detector.signals(), first, from, to };
  };
  try {
    opts.signal?.throwIfAborted();
    const done: SignalPart[] = [];
    let next = 0;
    const lane = async () => {
      while (next < parts.length) done.push(await analyse(parts[next++]!));
    };
    await Promise.all(Array.from({ length: Math.min(lanes, parts.length) }, lane)).catch((err) => {
      stop.abort(err);
      throw err;
    });
    report(total);
    return decideShots(stitchSignals(done, total), fps, params);
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    stop.abort();
  }
}
