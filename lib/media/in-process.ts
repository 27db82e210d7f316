// Frames of a constant-rate video decoded in this process through libav (libav.ts), several decoders at once.
// The range is cut on keyframes into small chunks (~16 MiB of frames) dealt to the decoders in turn, each decoding
// its chunk on a thread of libuv's pool straight into the frames' buffers, at most two chunks ahead of the reader;
// the reader takes the chunks in order. Memory stays bounded by lanes × 2 chunks, and no frame is decoded twice.
// Why not one decoder with frame threads: on few cores they gain little on small H.264 (two threads decode a 360p
// derivative ~1.2× as fast as one), while independent single-threaded decoders scale with the cores.
import { BadInputError } from '../features/definition.ts';
import { codecOptions, type Libav, type NativeDecoder } from './libav.ts';
import { geometry, type VideoSource } from './pictures.ts';
import { type FormatInfo, PIXEL_FORMATS } from './pixels.ts';
import type { DecodeFramesOptions, IndexedPicture, Segment } from './segments.ts';
import { ratio } from './timing.ts';
import { MediaToolError } from './tools.ts';

/** Kept frames' bytes a chunk holds at most (unless one keyframe interval holds more). */
const CHUNK_BYTES = 16 * 2 ** 20;
/** Frames a chunk spans at most, so a sparse selection still reaches the reader in steps. */
const MAX_CHUNK_FRAMES = 2_000;
/** Chunks each decoder works ahead of the reader. */
const AHEAD = 2;
/** One decoder alone reads this many bytes of frames per call, one call ahead of the reader. */
const BATCH_BYTES = 4 * 2 ** 20;
/** Frames between keyframes beyond which chunks would hold too much: one decoder reads the range in order. */
const MAX_KEYFRAME_BYTES = 4 * CHUNK_BYTES;

/**
 * Chunks of [start, end) for decoders working side by side: each starts on a keyframe and holds about
 * CHUNK_BYTES of kept frames, or undefined when that cannot be had (keyframes too far apart for the frame size,
 * or the whole range fits one chunk).
 */
export function planChunks(
  start: number,
  end: number,
  p: { frameBytes: number; keyframes: readonly number[]; keeps?: ((i: number) => boolean) | undefined },
): Segment[] | undefined {
  const kept = new Uint32Array(end - start + 1);
  for (let i = start; i < end; i++) kept[i - start + 1] = kept[i - start]! + (!p.keeps || p.keeps(i) ? 1 : 0);
  const keptIn = (a: number, b: number) => kept[b - start]! - kept[a - start]!;
  const cuts = p.keyframes.filter((k) => k > start && k < end);
  const chunks: Segment[] = [];
  let from = start;
  let last = start;
  for (const k of [...cuts, end]) {
    if (keptIn(last, k) * p.frameBytes > MAX_KEYFRAME_BYTES) return undefined;
    last = k;
    if (keptIn(from, k) * p.frameBytes >= CHUNK_BYTES || k - from >= MAX_CHUNK_FRAMES || k === end) {
      chunks.push({ start: from, end: k, kept: keptIn(from, k) });
      from = k;
    }
  }
  return chunks.length > 1 ? chunks : undefined;
}

function nativeError(err: unknown): Error {
  if (err instanceof BadInputError || err instanceof MediaToolError) return err;
  const message = (err as Error).message ?? String(err);
  return new MediaToolError(`libav: ${message}`, message);
}

/** Frame indices of a derivative's keyframes: multiples of its fixed GOP. */
function keyframeIndices(source: VideoSource): number[] {
  const gop = source.gop ?? 0;
  return gop > 0 ? Array.from({ length: Math.ceil(source.frames / gop) }, (_, k) => k * gop) : [];
}

/** The in-process counterpart of decodeFrames (segments.ts): the same frames, indices, order and pixels. */
export async function* decodeInProcess(
  libav: Libav,
  source: VideoSource,
  opts: DecodeFramesOptions,
  shortRange: (s: Segment, got: number) => Error,
): AsyncGenerator<IndexedPicture> {
  const { start, end, selection, signal } = opts;
  const g = geometry(source.width, source.height, opts);
  const fmt: FormatInfo = PIXEL_FORMATS[g.pixelFormat];
  const frameBytes = fmt.bytes(g.width, g.height);
  const fps = ratio(source.frameRate);
  const keeps = selection ? (i: number) => selection.keeps(i) : undefined;
  const lanes = opts.lanes ?? 1;
  const keyframeList = lanes > 1 ? keyframeIndices(source) : [];
  const chunks =
    lanes > 1 ? planChunks(start, end, { frameBytes, keyframes: keyframeList, keeps }) : undefined;
  const sideBySide = chunks !== undefined;
  const decoders: NativeDecoder[] = [];
  const decoder = () => {
    const d = new libav.Decoder({
      file: source.file,
      filters: g.filters.join(','),
      pixelFormat: fmt.ffmpeg,
      threads: sideBySide ? 1 : (opts.threads ?? 0),
      filterThreads: sideBySide ? 1 : (opts.filterThreads ?? 0),
      codecOptions: codecOptions(opts.decoderArgs),
      ...(fmt.planeOrder ? { planeOrder: fmt.planeOrder } : {}),
    });
    decoders.push(d);
    return d;
  };
  const maskOf = (a: number, b: number) => {
    if (!keeps) return undefined;
    const mask = new Uint8Array(b - a);
    for (let i = a; i < b; i++) mask[i - a] = keeps(i) ? 1 : 0;
    return mask;
  };
  const keyframes = new Set(keyframeList);
  const read = async (d: NativeDecoder, count: number, first?: Segment): Promise<Buffer[]> => {
    const buffers = Array.from({ length: count }, () => Buffer.allocUnsafeSlow(frameBytes));
    const mask = first && maskOf(first.start, first.end);
    const got = await d
      .read(buffers, {
        ...(first && first.start > 0 ? { seekSec: (first.start - 0.5) / fps } : {}),
        // On a keyframe: land on it, not on the one before (a seek to just before its time would).
        ...(first && first.start > 0 && keyframes.has(first.start)
          ? { seekToSec: (first.start + 0.5) / fps }
          : {}),
        // Ending on a keyframe (a derivative's GOPs are closed): stop decoding there.
        ...(first && first.end < source.frames && keyframes.has(first.end)
          ? { endSec: (first.end - 0.5) / fps }
          : {}),
        ...(mask ? { keep: mask } : {}),
      })
      .catch((err) => Promise.reject(nativeError(err)));
    return buffers.slice(0, got);
  };
  let index = start;
  const picture = (buf: Buffer): IndexedPicture => {
    if (keeps) while (!keeps(index)) index++;
    return {
      width: g.width,
      height: g.height,
      pixelFormat: g.pixelFormat,
      data: fmt.view(buf),
      index: index++,
    };
  };
  const pending: Promise<Buffer[]>[] = [];
  try {
    signal?.throwIfAborted();
    if (!chunks) {
      const whole: Segment = {
        start,
        end,
        kept: keeps ? maskOf(start, end)!.reduce((n, k) => n + k, 0) : end - start,
      };
      const d = decoder();
      const batch = Math.max(1, Math.min(64, Math.floor(BATCH_BYTES / frameBytes)));
      let asked = 0;
      let got = 0;
      const next = () => {
        const count = Math.min(batch, whole.kept - asked);
        const p = read(d, count, asked === 0 ? whole : undefined);
        asked += count;
        p.catch(() => {});
        return p;
      };
      let ahead: Promise<Buffer[]> | undefined = whole.kept > 0 ? next() : undefined;
      while (ahead) {
        const buffers = await ahead;
        got += buffers.length;
        ahead = buffers.length > 0 && asked < whole.kept ? next() : undefined;
        for (const buf of buffers) {
          signal?.throwIfAborted();
          yield picture(buf);
        }
      }
      if (got !== whole.kept) throw shortRange(whole, got);
      return;
    }
    const lanesUsed = Math.min(lanes, chunks.length);
    const laneDecoders = Array.from({ length: lanesUsed }, decoder);
    const tails: Promise<unknown>[] = laneDecoders.map(() => Promise.resolve());
    let launched = 0;
    const launch = () => {
      const k = launched++;
      const c = chunks[k]!;
      const lane = k % lanesUsed;
      const p = tails[lane]!.then(() => read(laneDecoders[lane]!, c.kept, c)).then((buffers) => {
        if (buffers.length !== c.kept) throw shortRange(c, buffers.length);
        return buffers;
      });
      p.catch(() => {});
      tails[lane] = p.catch(() => {});
      pending.push(p);
    };
    for (let k = 0; k < chunks.length; k++) {
      while (launched < chunks.length && launched < k + lanesUsed * AHEAD) launch();
      const buffers = await pending.shift()!;
      signal?.throwIfAborted();
      index = chunks[k]!.start;
      for (const buf of buffers) {
        signal?.throwIfAborted();
        yield picture(buf);
      }
    }
  } finally {
    // A decoder mid-read frees itself when the read is done.
    for (const d of decoders) d.close();
  }
}
