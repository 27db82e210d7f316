// The in-process decoder: a small addon over the system's libav (native/libav, built by `npm run setup`), running
// the same demuxer, decoder and filters as the ffmpeg command without the process and the pipe. Optional: when it
// is not built (no compiler or libav headers), frames come from ffmpeg processes, with the same pixels.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeReadOptions {
  /** Seek first, as `ffmpeg -ss` before `-i`: to the keyframe before, dropping the frames before this time. */
  seekSec?: number;
  /** Where the seek lands: the keyframe at or before this time (default `seekSec`). */
  seekToSec?: number;
  /**
   * The range ends at the first keyframe after this time, and its GOPs are closed: the decoder is drained there
   * instead of decoding on into frames that belong to the next range.
   */
  endSec?: number;
  /** Per frame from the seek point (or the start): 0 drops it before the filters; frames past its end are kept. */
  keep?: Uint8Array;
}

export interface NativeDecoder {
  /** Decodes the next frames, one into each buffer (each exactly one frame's bytes); resolves with how many. */
  read(buffers: Uint8Array[], opts?: NativeReadOptions): Promise<number>;
  /** Frees everything (after the running call, if any). */
  close(): void;
}

export interface NativeDecoderOptions {
  file: string;
  /** An ffmpeg filter chain (`-vf`), e.g. `scale=320:180:flags=area,format=gbrp`. */
  filters: string;
  /** libav's pixel format name of the frames out (`gbrp`, `rgb24`, …). */
  pixelFormat: string;
  /** Decoder threads (0: libav's choice). */
  threads?: number;
  /** Filter threads (0: libav's choice). */
  filterThreads?: number;
  /** Decoder options, as ffmpeg's input options (`skip_loop_filter: 'all'`). */
  codecOptions?: Record<string, string>;
  /** For 3 equal planes: where each of libav's planes goes in the buffer (its planar RGB is G, B, R). */
  planeOrder?: readonly number[];
}

export interface Libav {
  Decoder: new (opts: NativeDecoderOptions) => NativeDecoder;
  /** The libav versions it was built against. */
  versions: string;
}

const ADDON = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../native/libav/build/Release/mediamesh_libav.node',
);

let loaded: { libav: Libav | undefined; why: string } | undefined;

/** The addon when it is built and loads; `why` says what happened otherwise. */
export function loadLibav(): { libav: Libav | undefined; why: string } {
  if (loaded) return loaded;
  if (!fs.existsSync(ADDON)) {
    loaded = { libav: undefined, why: `${ADDON} is not built (npm run setup builds it)` };
  } else {
    try {
      loaded = { libav: createRequire(import.meta.url)(ADDON) as Libav, why: 'loaded' };
    } catch (err) {
      loaded = { libav: undefined, why: `${ADDON} does not load: ${(err as Error).message}` };
    }
  }
  return loaded;
}

/** ffmpeg input options (`['-skip_loop_filter', 'all']`) as decoder options. */
export function codecOptions(args: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < (args?.length ?? 0); i += 2) {
    const key = args![i]!;
    const value = args![i + 1];
    if (!key.startsWith('-') || value === undefined) {
      throw new Error(`decoder options must be "-name value" pairs, got ${JSON.stringify(args)}`);
    }
    out[key.slice(1)] = value;
  }
  return out;
}
