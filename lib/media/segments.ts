// Decoding a constant-rate video in several ffmpeg processes at once, one segment each, with the frames handed out
// in order. Why: on few cores ffmpeg's frame threading gains little on small H.264 (two threads decode a 360p
// derivative ~1.2× as fast as one), while two single-threaded processes on different segments decode ~2× as
// fast. A segment starts with an exact seek (to the keyframe before it, decoding forward), so the pixels are those
// of one sequential decode; segments start on keyframes when the GOP is known, so no frame is decoded twice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BadInputError } from '../features/definition.ts';
import { decodeInProcess } from './in-process.ts';
import {
  decodePictures,
  geometry,
  type Picture,
  type PictureOptions,
  pictureCommand,
  type VideoSource,
} from './pictures.ts';
import { type FormatInfo, PIXEL_FORMATS, type PixelFormat } from './pixels.ts';
import { ratio } from './timing.ts';
import { type MediaTools, runTool } from './tools.ts';

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
  /** Decoder threads when the whole range is one process (default: ffmpeg's choice); segments always use 1. */
  threads?: number | undefined;
  /** Filter threads when the whole range is one process (default: ffmpeg's choice); segments always use 1. */
  filterThreads?: number | undefined;
  /** Processes at once (default: the cores, at most 4); 1 decodes the range in one process. */
  lanes?: number | undefined;
  /** Most bytes of frames one segment decoded ahead of the reader may write to its file (default 256 MiB). */
  segmentBytes?: number | undefined;
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

const DEFAULT_SEGMENT_BYTES = 256 * 2 ** 20;
/** Below this a process's start (~90 ms of CPU: loading ffmpeg, opening and seeking) outweighs what a lane gains. */
export const MIN_SEGMENT_FRAMES = 500;
/** A segment read from its file arrives only when ffmpeg is done with it: ~10 s of decoding at most, so the
 * reader (and an activity's heartbeats) never waits long. */
const MAX_SEGMENT_FRAMES = 10_000;
const MAX_LANES = 4;

/** Decoder threads for one ffmpeg whose frames a consumer works on: one thread fewer than the cores (at most 4). */
export function threadsBesideConsumer(cores = os.availableParallelism()): number {
  return Math.max(1, Math.min(4, cores - 1));
}

/**
 * In-process decoders side by side: one more than the cores (a decoder idles between its chunks until the main
 * thread hands it the next; the spare one fills those gaps: ~3 % more frames a second on 2 cores), and one fewer
 * than libuv's pool (where they run), so file system work keeps a thread.
 */
export function inProcessLanes(cores = os.availableParallelism()): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(MAX_LANES, cores + 1, pool - 1));
}

export function defaultLanes(): number {
  return Math.max(1, Math.min(MAX_LANES, os.availableParallelism()));
}

/**
 * Cuts [start, end) into segments: a multiple of `lanes` of them, each at least MIN_SEGMENT_FRAMES long and at
 * most about MAX_SEGMENT_FRAMES, holding about `segmentBytes` of kept frames at most, boundaries on multiples of
 * `gop`. One segment when that
 * cannot be had.
 */
export function planSegments(
  start: number,
  end: number,
  p: {
    lanes: number;
    frameBytes: number;
    segmentBytes: number;
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
  const keptBytes = whole[0]!.kept * p.frameBytes;
  let count = Math.max(
    p.lanes,
    Math.ceil(keptBytes / p.segmentBytes),
    Math.ceil(frames / MAX_SEGMENT_FRAMES),
  );
  count = Math.ceil(count / p.lanes) * p.lanes;
  if (frames / count < MIN_SEGMENT_FRAMES) return whole;
  const bounds = splitRange(start, end, count, p.gop);
  const segments = bounds.slice(1).map((b, k) => ({ start: bounds[k]!, end: b, kept: kept(bounds[k]!, b) }));
  const largest = Math.max(...segments.map((s) => s.kept)) * p.frameBytes;
  return largest <= p.segmentBytes * 1.5 ? segments : whole;
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

/** A segment decoding ahead of the reader into a raw file of its frames, read back once ffmpeg is done. */
class SegmentFile {
  readonly done: Promise<void>;

  constructor(
    readonly segment: Segment,
    readonly path: string,
    run: () => Promise<unknown>,
  ) {
    this.done = run().then(() => undefined);
    // Awaited when the reader reaches the segment; a failure before then must not go unhandled.
    this.done.catch(() => {});
  }

  /** Its frames, each read into a fresh buffer (ffmpeg's planes put in `planeOrder` by the read itself). */
  async *frames(
    fmt: FormatInfo,
    size: { width: number; height: number; pixelFormat: PixelFormat },
  ): AsyncGenerator<Picture> {
    await this.done;
    const frameBytes = fmt.bytes(size.width, size.height);
    const fh = await fs.promises.open(this.path, 'r');
    try {
      const { size: bytes } = await fh.stat();
      if (bytes !== this.segment.kept * frameBytes)
        throw shortSegment(this.segment, Math.floor(bytes / frameBytes));
      const plane = frameBytes / 3;
      for (let i = 0; i < this.segment.kept; i++) {
        const buf = Buffer.allocUnsafeSlow(frameBytes);
        const order = fmt.planeOrder;
        const parts = order ? order.map((to) => buf.subarray(to * plane, (to + 1) * plane)) : [buf];
        const { bytesRead } = await fh.readv(parts, i * frameBytes);
        if (bytesRead !== frameBytes) throw new Error(`${this.path}: short read at frame ${i}`);
        yield { width: size.width, height: size.height, pixelFormat: size.pixelFormat, data: fmt.view(buf) };
      }
    } finally {
      await fh.close();
      await fs.promises.rm(this.path, { force: true });
    }
  }
}

const DIR_PREFIX = 'mm-segments-';
let swept = false;

/**
 * Removes segment folders left by processes that died mid-read (a killed worker cannot clean up): the folder
 * names carry the pid, so only those of processes no longer running go. Once per process.
 */
export async function sweepStaleSegmentDirs(tmp = os.tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.promises.readdir(tmp).catch(() => [] as string[])) {
    const pid = Number(/^mm-segments-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isRunning(pid)) continue;
    await fs.promises.rm(path.join(tmp, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** ffmpeg's thread options; with several processes on few cores, extra threads only compete. */
function threadArgs(threads: number | undefined, filterThreads: number | undefined): string[] {
  return [
    ...(threads !== undefined ? ['-threads', String(threads)] : []),
    ...(filterThreads !== undefined ? ['-filter_threads', String(filterThreads)] : []),
  ];
}

function shortSegment(s: Segment, got: number): BadInputError {
  return new BadInputError(
    `decoded ${got} frames between ${s.start} and ${s.end}, fewer than the ${s.kept} expected ` +
      '(the video is shorter than its frame count says, or damaged)',
  );
}

/**
 * Frames [start, end) of a constant-rate video (or the selected ones), in order with their indices, decoded by up
 * to `lanes` ffmpeg processes at once. The first segment streams through a pipe at the reader's pace; the others
 * are decoded ahead into raw files in a private temporary folder (at most `lanes` processes and files at once,
 * each within `segmentBytes`), so memory stays constant however far ahead they get. Leaving
 * the loop early or aborting stops every process and removes the files.
 */
export async function* decodeFrames(
  tools: MediaTools,
  source: VideoSource,
  opts: DecodeFramesOptions,
): AsyncGenerator<IndexedPicture> {
  const { start, end, selection } = opts;
  if (end <= start) return;
  if (tools.libav && source.standardized) {
    yield* decodeInProcess(
      tools.libav,
      source,
      { ...opts, lanes: opts.lanes ?? inProcessLanes() },
      shortSegment,
    );
    return;
  }
  const g = geometry(source.width, source.height, opts);
  const fmt = PIXEL_FORMATS[g.pixelFormat];
  const lanes = opts.lanes ?? defaultLanes();
  const segments = planSegments(start, end, {
    lanes,
    frameBytes: fmt.bytes(g.width, g.height),
    segmentBytes: opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    gop: source.gop,
    keeps: selection ? (i) => selection.keeps(i) : undefined,
  }).filter((s) => s.kept > 0);
  if (segments.length === 0) return;
  const fps = ratio(source.frameRate);
  const single = segments.length === 1;
  const stop = new AbortController();
  const abort = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', abort, { once: true });
  const decodeOptions = (s: Segment) => ({
    ...opts,
    signal: stop.signal,
    inputArgs: [
      ...threadArgs(single ? opts.threads : 1, single ? opts.filterThreads : 1),
      ...(opts.decoderArgs ?? []),
      ...(s.start > 0 ? ['-ss', ((s.start - 0.5) / fps).toFixed(9)] : []),
    ],
    selectFilter: selection?.filter(s.start, s.end),
    outputArgs: ['-frames:v', String(s.kept)],
  });
  let dir: string | undefined;
  const ahead: SegmentFile[] = [];
  let next = 1;
  const launch = async () => {
    if (!dir) {
      if (!swept) {
        swept = true;
        await sweepStaleSegmentDirs();
      }
      dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-`));
    }
    const s = segments[next]!;
    const out = path.join(dir, `${next++}.raw`);
    const { args } = pictureCommand(source.file, source, decodeOptions(s), out);
    ahead.push(new SegmentFile(s, out, () => runTool(tools.ffmpeg, args, { signal: stop.signal })));
  };
  const emit = async function* (
    s: Segment,
    pictures: AsyncGenerator<Picture>,
  ): AsyncGenerator<IndexedPicture> {
    let index = s.start;
    let count = 0;
    for await (const p of pictures) {
      if (selection) while (!selection.keeps(index)) index++;
      count++;
      yield { ...p, index: index++ };
    }
    if (count !== s.kept) throw shortSegment(s, count);
  };
  try {
    opts.signal?.throwIfAborted();
    while (next < segments.length && ahead.length < lanes - 1) await launch();
    const first = segments[0]!;
    yield* emit(first, decodePictures(tools, source.file, source, decodeOptions(first)));
    while (ahead.length > 0) {
      // Every lane busy while the reader waits for (and then reads) the head.
      while (next < segments.length && ahead.length < lanes) await launch();
      const head = ahead[0]!;
      yield* emit(head.segment, head.frames(fmt, g));
      ahead.shift();
    }
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    stop.abort();
    await Promise.allSettled(ahead.map((f) => f.done));
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  }
  opts.signal?.throwIfAborted();
}
