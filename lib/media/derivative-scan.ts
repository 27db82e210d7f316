// One pass over a standardized video derivative for features that need some of its frames (shot representatives,
// thumbnails, motion pairs): every picture is decoded and scaled (in-process by decoders side by side, see
// in-process.ts and segments.ts), the wanted ones are handed to the caller in frame order with their index, and the pass
// stops after the last wanted frame. Cheaper than a seek per frame: a seek decodes from the previous keyframe.
import type { FeatureContext, StoredInput } from '../features/definition.ts';
import { derivativeSource } from './pictures.ts';
import type { PixelFormat } from './pixels.ts';
import { decodeFrames, type FrameSelection, threadsBesideConsumer } from './segments.ts';

export interface DerivativeScan {
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  /** Frames to hand out (any order, duplicates fine). */
  wanted: Iterable<number>;
  /** Named in heartbeats and errors. */
  stage: string;
}

/** Selecting pays off when at most one frame in this many is wanted. */
const SPARSE_RATIO = 8;
/** Keeps the expression (~28 bytes a frame) well under Linux's 128 KiB limit for one argument. */
const MAX_SELECTED = 2000;

/**
 * ffmpeg's select filter keeping exactly these frame numbers (sorted, distinct). A binary search of `if(lt(…))`:
 * each frame costs log2(n) comparisons, and the nesting stays shallow (a flat sum of `eq` terms fails to parse
 * beyond ~100 terms in ffmpeg 5.1).
 */
function selectFrames(frames: number[]): string {
  const tree = (lo: number, hi: number): string => {
    if (hi - lo === 1) return `eq(n,${frames[lo]})`;
    const mid = (lo + hi) >> 1;
    return `if(lt(n,${frames[mid]}),${tree(lo, mid)},${tree(mid, hi)})`;
  };
  return `select='${tree(0, frames.length)}'`;
}

/** The derivative's size, frame count and GOP, as the video recipe's value records them. */
interface DerivativeValue {
  width: number;
  height: number;
  frameRate: string;
  frames: number;
  gop: number;
}

/**
 * Calls `onFrame(index, pixels)` for each wanted frame in frame order (awaiting it: the decode waits) and returns
 * how many were handed out. `pixels` belongs to the caller. Throws when a wanted frame is past the end.
 */
export async function scanDerivative(
  ctx: Pick<FeatureContext<unknown>, 'tools' | 'objects' | 'signal' | 'heartbeat'>,
  video: StoredInput,
  scan: DerivativeScan,
  onFrame: (index: number, pixels: Uint8Array) => void | Promise<void>,
): Promise<number> {
  const wanted = [...new Set(scan.wanted)].sort((a, b) => a - b);
  if (wanted.length === 0) return 0;
  const last = wanted.at(-1)!;
  const d = video.value as DerivativeValue;
  if (last >= d.frames) {
    const missing = wanted.find((w) => w >= d.frames);
    throw new Error(
      `${scan.stage}: the derivative (${d.frames} frames) ended before frame ${missing}, which was wanted`,
    );
  }
  const isWanted = new Set(wanted);
  // A few frames of many (a few per shot): ffmpeg's select filter drops the others right after decoding, so they
  // are never scaled nor piped. Most frames (every frame of each shot's core): all come through, picked here.
  const sparse = wanted.length * SPARSE_RATIO <= last + 1 && wanted.length <= MAX_SELECTED;
  const selection: FrameSelection | undefined = sparse
    ? {
        keeps: (i) => isWanted.has(i),
        filter: (start, end) =>
          selectFrames(wanted.filter((w) => w >= start && w < end).map((w) => w - start)),
      }
    : undefined;
  const source = derivativeSource(await ctx.objects.localPath({ uri: video.objectUri! }), d);
  let handed = 0;
  for await (const p of decodeFrames(ctx.tools, source, {
    start: 0,
    end: last + 1,
    selection,
    width: scan.width,
    height: scan.height,
    pixelFormat: scan.pixelFormat,
    fit: 'stretch',
    signal: ctx.signal,
    // When one decoder reads the whole range: one thread fewer than the cores, the other runs the feature's work.
    threads: threadsBesideConsumer(),
  })) {
    if (isWanted.has(p.index)) {
      await onFrame(p.index, new Uint8Array(p.data as Uint8Array));
      handed++;
    }
    if (sparse ? handed % 50 === 0 : p.index % 2000 === 0) {
      ctx.heartbeat({ stage: scan.stage, frame: p.index, of: last + 1 });
    }
  }
  return handed;
}
