// Raw pictures out of ffmpeg: the output geometry (size, fit, pixel format) and one decode of a file into frames of
// it, streamed through a pipe with backpressure. The reader and the segmented decoder build on it.
import { BadInputError } from '../features/definition.ts';
import { type FormatInfo, type FrameData, isPixelFormat, PIXEL_FORMATS, type PixelFormat } from './pixels.ts';
import { readChunks } from './raw-pipe.ts';
import { parseRational, type Rational } from './timing.ts';
import type { MediaTools } from './tools.ts';

export type Fit = 'stretch' | 'contain' | 'cover';

export interface PictureOptions {
  /** Output size; give one and the other follows the aspect ratio; neither → the source size. */
  width?: number | undefined;
  height?: number | undefined;
  /** With both sizes: stretch (default), contain (letterbox with black) or cover (crop the overflow). */
  fit?: Fit | undefined;
  /** Default rgb24. */
  pixelFormat?: PixelFormat | undefined;
  signal?: AbortSignal | undefined;
}

export interface Picture {
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  data: FrameData;
}

/** What a reader needs to know about a constant-frame-rate video file. */
export interface VideoSource {
  file: string;
  width: number;
  height: number;
  frameRate: Rational;
  frames: number;
  /** Frames from one keyframe to the next, when known (a derivative's fixed GOP): segments start on keyframes. */
  gop?: number | undefined;
  /**
   * A derivative our recipe made from input the QC gate accepted: safe to decode in this process (libav.ts). Any
   * other file is decoded by ffmpeg processes, so a decoder crashing on hostile input cannot take the worker down.
   */
  standardized?: boolean | undefined;
}

/** The source of a standardized derivative (a `video-360p-h264` value and its file). */
export function derivativeSource(
  file: string,
  d: { width: number; height: number; frameRate: string; frames: number; gop: number },
): VideoSource {
  const frameRate = parseRational(d.frameRate);
  if (!frameRate) throw new BadInputError(`the standardized video has no usable frame rate (${d.frameRate})`);
  return {
    file,
    width: d.width,
    height: d.height,
    frameRate,
    frames: d.frames,
    gop: d.gop,
    standardized: true,
  };
}

interface Geometry {
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  filters: string[];
}

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

function checkSize(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 16384)) {
    throw new BadInputError(`${name} must be an integer from 1 to 16384, got ${v}`);
  }
}

/** Output size, pixel format and the scale / pad / crop filters that produce them from a w×h source. */
export function geometry(srcWidth: number, srcHeight: number, opts: PictureOptions): Geometry {
  const pixelFormat = opts.pixelFormat ?? 'rgb24';
  if (!isPixelFormat(pixelFormat)) {
    throw new BadInputError(
      `unknown pixel format "${pixelFormat}" (one of ${Object.keys(PIXEL_FORMATS).join(', ')})`,
    );
  }
  checkSize('width', opts.width);
  checkSize('height', opts.height);
  const fmt = PIXEL_FORMATS[pixelFormat];
  const round = fmt.even ? even : (n: number) => Math.max(1, Math.round(n));
  let width = opts.width ?? (opts.height ? round((opts.height * srcWidth) / srcHeight) : srcWidth);
  let height = opts.height ?? (opts.width ? round((opts.width * srcHeight) / srcWidth) : srcHeight);
  if (fmt.even && (width % 2 || height % 2)) {
    if (opts.width !== undefined || opts.height !== undefined) {
      throw new BadInputError(`${pixelFormat} needs an even width and height, got ${width}×${height}`);
    }
    width = even(width);
    height = even(height);
  }
  const filters: string[] = [];
  if (width !== srcWidth || height !== srcHeight) {
    const flags = width <= srcWidth && height <= srcHeight ? 'area' : 'bicubic';
    const fit = opts.fit ?? 'stretch';
    if (fit === 'stretch') filters.push(`scale=${width}:${height}:flags=${flags}`);
    else if (fit === 'contain') {
      filters.push(
        `scale=${width}:${height}:flags=${flags}:force_original_aspect_ratio=decrease`,
        `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`,
      );
    } else {
      filters.push(
        `scale=${width}:${height}:flags=${flags}:force_original_aspect_ratio=increase`,
        `crop=${width}:${height}`,
      );
    }
  }
  filters.push(`format=${fmt.ffmpeg}`);
  return { width, height, pixelFormat, filters };
}

export interface PictureDecodeOptions extends PictureOptions {
  inputArgs?: string[];
  outputArgs?: string[];
  selectFilter?: string | undefined;
}

/** The ffmpeg command writing the raw pictures of a file's first video stream to `output` (a file or pipe:1). */
export function pictureCommand(
  file: string,
  size: { width: number; height: number },
  opts: PictureDecodeOptions,
  output: string,
): { g: Geometry; fmt: FormatInfo; args: string[]; frameBytes: number } {
  const g = geometry(size.width, size.height, opts);
  const fmt: FormatInfo = PIXEL_FORMATS[g.pixelFormat];
  const filters = [...(opts.selectFilter ? [opts.selectFilter] : []), ...g.filters].join(',');
  const args = [
    ...['-hide_banner', '-nostdin', '-v', 'error', ...(opts.inputArgs ?? []), '-i', file],
    ...['-map', '0:v:0', '-an', '-sn', '-dn', '-vf', filters, '-fps_mode', 'passthrough'],
    ...(opts.outputArgs ?? []),
    ...['-f', 'rawvideo', '-pix_fmt', fmt.ffmpeg, '-y', output],
  ];
  return { g, fmt, args, frameBytes: fmt.bytes(g.width, g.height) };
}

/** Decodes every picture of a file in order, as raw frames of the requested geometry. */
export async function* decodePictures(
  tools: MediaTools,
  file: string,
  size: { width: number; height: number },
  opts: PictureDecodeOptions = {},
): AsyncGenerator<Picture> {
  const { g, fmt, args, frameBytes } = pictureCommand(file, size, opts, 'pipe:1');
  const chunks = readChunks(tools.ffmpeg, args, {
    chunkBytes: frameBytes,
    signal: opts.signal,
    planeOrder: fmt.planeOrder,
  });
  for await (const buf of chunks) {
    yield { width: g.width, height: g.height, pixelFormat: g.pixelFormat, data: fmt.view(buf) };
  }
}
