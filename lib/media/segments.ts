// Decoding a constant-rate video in several ffmpeg processes at once, one segment each, with the frames handed out
// in order. Why: on few cores ffmpeg's frame threading gains little on small H.264 (two threads decode a 360p
// derivative ~1.2× as fast as one), while two single-threaded processes on different segments decode ~2× as
// fast. A segment starts with an exact seek (to the keyframe before it, decoding forward), so the pixels are those
// of one sequential decode; segments start on keyframes when the GOP is known, so no frame is decoded twice.
// Memory stays bounded: a segment decoded ahead of the one being read holds at most `aheadBytes / lanes`.
import os from 'node:os';
import { BadInputError } from '../features/definition.ts';
import { decodePictures, geometry, type Picture, type PictureOptions, type VideoSource } from './pictures.ts';
import { PIXEL_FORMATS } from './pixels.ts';
import { ratio } from './timing.ts';
import type { MediaTools } from './tools.ts';

/** Frames to keep of those decoded: ffmpeg's select filter drops the others right after decoding. */
export interface FrameSelection {
  keeps(index: number): boolean;
  /** The select filter keeping exactly those frames of [start, end), where ffmpeg's `n` is 0 at frame `start`. */
  filter(start: number, end: number): string;
}

export interface DecodeFramesOptions extends PictureOptions {
  start: number;
  end: number;
  selection?: FrameSelection | undefined;
  /** Decoder options placed before the input (e.g. `-skip_loop_filter all`), without `-threads`. */
  decoderArgs?: string[] | undefined;
  /** Decoder threads when the whole range is one process (default: ffmpeg's choice). */
  threads?: number | undefined;
  /** Processes at once (default: the cores, at most 4); 1 decodes the range in one process. */
  lanes?: number | undefined;
  /** What the frames decoded ahead of the reader may hold in memory (default 64 MiB). */
  aheadBytes?: number | undefined;
}

export interface IndexedPicture extends Picture {
  index: number;
}

export interface Segment {
  start: number;
  end: number;
  /** Frames it hands out (all of [start, end) unless a selection keeps fewer). */
  kept: number;
}

const DEFAULT_AHEAD_BYTES = 64 * 2 ** 20;
/** Below this a process's start (~90 ms of CPU: loading ffmpeg, opening and seeking) outweighs what a lane gains. */
export const MIN_SEGMENT_FRAMES = 500;
const MAX_LANES = 4;

export function defaultLanes(): number {
  return Math.max(1, Math.min(MAX_LANES, os.availableParallelism()));
}

/**
 * Cuts [start, end) into segments: a multiple of `lanes` of them, each at least MIN_SEGMENT_FRAMES long, each
 * holding at most `aheadBytes / lanes` of kept frames, boundaries on multiples of `gop`. One segment when that
 * cannot be had.
 */
export function planSegments(
  start: number,
  end: number,
  p: {
    lanes: number;
    frameBytes: number;
    aheadBytes: number;
    gop?: number | undefined;
    keeps?: (i: number) => boolean;
  },
): Segment[] {
  const kept = (a: number, b: number) => {
    if (!p.keeps) return b - a;
    let n = 0;
    for (let i = a; i < b; i++) if (p.keeps(i)) n++;
    return n;
  };
  const whole = [{ start, end, kept: kept(start, end) }];
  const frames = end - start;
  if (p.lanes < 2 || frames < 2 * MIN_SEGMENT_FRAMES) return whole;
  const perSegmentBytes = p.aheadBytes / p.lanes;
  const keptBytes = whole[0]!.kept * p.frameBytes;
  let count = Math.max(p.lanes, Math.ceil(keptBytes / perSegmentBytes));
  count = Math.ceil(count / p.lanes) * p.lanes;
  if (frames / count < MIN_SEGMENT_FRAMES) return whole;
  const bounds = splitRange(start, end, count, p.gop);
  const segments = bounds.slice(1).map((b, k) => ({ start: bounds[k]!, end: b, kept: kept(bounds[k]!, b) }));
  const largest = Math.max(...segments.map((s) => s.kept)) * p.frameBytes;
  return largest <= perSegmentBytes * 1.5 ? segments : whole;
}

/** Boundaries of `count` near-equal parts of [start, end) (first start, last end), inner ones on multiples of `gop`. */
export function splitRange(start: number, end: number, count: number, gop?: number): number[] {
  const step = gop && gop > 0 ? gop : 1;
  const bounds = [start];
  for (let k = 1; k < count; k++) {
    const at = Math.round((start + (end - start) * (k / count)) / step) * step;
    if (at > bounds.at(-1)! && at < end) bounds.push(at);
  }
  bounds.push(end);
  return bounds;
}

/** One segment decoding into a bounded queue, ahead of the reader. */
class SegmentPump {
  readonly #queue: Picture[] = [];
  #head = 0;
  #done = false;
  #error: unknown;
  #wake: (() => void) | undefined;
  #resume: (() => void) | undefined;
  #received = 0;

  constructor(
    readonly file: string,
    readonly segment: Segment,
    pictures: AsyncGenerator<Picture>,
    readonly capacity: number,
  ) {
    void this.#run(pictures);
  }

  async #run(pictures: AsyncGenerator<Picture>): Promise<void> {
    try {
      for await (const p of pictures) {
        this.#queue.push(p);
        this.#received++;
        this.#signal();
        if (this.#queue.length - this.#head >= this.capacity) {
          await new Promise<void>((resolve) => {
            this.#resume = resolve;
          });
        }
      }
    } catch (err) {
      this.#error = err;
    } finally {
      this.#done = true;
      this.#signal();
    }
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The next picture, or undefined at the segment's end; throws what the decode threw. */
  async take(): Promise<Picture | undefined> {
    while (this.#head === this.#queue.length && !this.#done) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.#head < this.#queue.length) {
      const p = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as never;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      const resume = this.#resume;
      this.#resume = undefined;
      resume?.();
      return p;
    }
    if (this.#error) throw this.#error;
    if (this.#received !== this.segment.kept) {
      const { start, end, kept } = this.segment;
      throw new BadInputError(
        `${this.file}: ffmpeg gave ${this.#received} frames between ${start} and ${end}, fewer than the ` +
          `${kept} expected (the video is shorter than its frame count says, or damaged)`,
      );
    }
    return undefined;
  }

  /** Lets a paused decode run on to its end (it was aborted by then, so it ends at once). */
  release(): void {
    const resume = this.#resume;
    this.#resume = undefined;
    resume?.();
  }
}

/**
 * Frames [start, end) of a constant-rate video (or the selected ones), in order with their indices, decoded by up
 * to `lanes` ffmpeg processes at once. Leaving the loop early or aborting stops every process.
 */
export async function* decodeFrames(
  tools: MediaTools,
  source: VideoSource,
  opts: DecodeFramesOptions,
): AsyncGenerator<IndexedPicture> {
  const { start, end, selection } = opts;
  if (end <= start) return;
  const g = geometry(source.width, source.height, opts);
  const frameBytes = PIXEL_FORMATS[g.pixelFormat].bytes(g.width, g.height);
  const aheadBytes = opts.aheadBytes ?? DEFAULT_AHEAD_BYTES;
  const lanes = opts.lanes ?? defaultLanes();
  const segments = planSegments(start, end, {
    lanes,
    frameBytes,
    aheadBytes,
    gop: source.gop,
    keeps: selection ? (i) => selection.keeps(i) : undefined,
  }).filter((s) => s.kept > 0);
  const single = segments.length === 1;
  const threads = single ? opts.threads : 1;
  const fps = ratio(source.frameRate);
  const stop = new AbortController();
  const abort = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', abort, { once: true });
  opts.signal?.throwIfAborted();
  const capacity = single ? 2 : Math.max(2, Math.floor(aheadBytes / lanes / frameBytes));
  const open = (s: Segment) =>
    new SegmentPump(
      source.file,
      s,
      decodePictures(tools, source.file, source, {
        ...opts,
        signal: stop.signal,
        inputArgs: [
          ...(threads !== undefined ? ['-threads', String(threads)] : []),
          ...(opts.decoderArgs ?? []),
          ...(s.start > 0 ? ['-ss', ((s.start - 0.5) / fps).toFixed(9)] : []),
        ],
        selectFilter: selection?.filter(s.start, s.end),
        outputArgs: ['-frames:v', String(s.kept)],
      }),
      capacity,
    );
  const pumps: SegmentPump[] = [];
  let next = 0;
  try {
    while (next < segments.length && pumps.length < lanes) pumps.push(open(segments[next++]!));
    while (pumps.length > 0) {
      const pump = pumps[0]!;
      let index = pump.segment.start;
      for (let p = await pump.take(); p; p = await pump.take()) {
        if (selection) while (!selection.keeps(index)) index++;
        yield { ...p, index: index++ };
      }
      pumps.shift();
      if (next < segments.length) pumps.push(open(segments[next++]!));
    }
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    stop.abort();
    for (const pump of pumps) pump.release();
  }
  opts.signal?.throwIfAborted();
}
