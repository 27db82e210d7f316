// The reader API over standardized derivatives: video frames as typed arrays (by index range, one by index or
// time, resampled to a lower rate), audio as float32 PCM, images. Everything streams out of ffmpeg (a pipe with
// backpressure, and for long video ranges segment files decoded ahead), so memory stays constant whatever the
// duration. Frame indices are those of the derivative: frame i is shown from i / fps to (i + 1) / fps.
import { BadInputError } from '../features/definition.ts';
import { decodePictures, type Picture, type PictureOptions, type VideoSource } from './pictures.ts';
import { readChunks } from './raw-pipe.ts';
import { decodeFrames, type FrameSelection } from './segments.ts';
import { formatRational, parseRational, ratio } from './timing.ts';
import { type MediaTools, runTool } from './tools.ts';

export {
  decodePictures,
  derivativeSource,
  type Fit,
  geometry,
  type Picture,
  type PictureOptions,
  type VideoSource,
} from './pictures.ts';

export interface FrameOptions extends PictureOptions {
  /** First frame index (default 0). */
  start?: number | undefined;
  /** Index after the last frame (default: the end). */
  end?: number | undefined;
  /** Sample at most this many frames per second of media (≤ the video's rate): the first frame of each period. */
  fps?: number | undefined;
}

export interface Frame extends Picture {
  /** Frame index in the video (the standardized derivative when read through an asset). */
  index: number;
  timeSec: number;
}

/**
 * Frame-accurate reading of a constant-frame-rate video (a video-360p-h264 derivative, typically).
 * Seeks to the keyframe before `start` and decodes from there; only the frames asked for reach the pipe.
 */
export class VideoReader {
  constructor(
    readonly tools: MediaTools,
    readonly source: VideoSource,
  ) {}

  /** Probes a file for its size, rate and frame count; meant for constant-frame-rate files. */
  static async open(tools: MediaTools, file: string, signal?: AbortSignal): Promise<VideoReader> {
    const out = await runTool(
      tools.ffprobe,
      [
        ...['-v', 'error', '-select_streams', 'v:0', '-count_packets'],
        ...['-show_entries', 'stream=width,height,r_frame_rate,nb_read_packets', '-of', 'json', file],
      ],
      { signal },
    );
    const s = (JSON.parse(out.toString('utf8')) as { streams?: Record<string, string | number>[] })
      .streams?.[0];
    const frameRate = parseRational(String(s?.r_frame_rate ?? ''));
    if (!s || !frameRate) throw new BadInputError(`${file} has no video stream with a frame rate`);
    return new VideoReader(tools, {
      file,
      width: Number(s.width),
      height: Number(s.height),
      frameRate,
      frames: Number(s.nb_read_packets),
    });
  }

  get fps(): number {
    return ratio(this.source.frameRate);
  }

  get frameCount(): number {
    return this.source.frames;
  }

  get durationSec(): number {
    return this.source.frames / this.fps;
  }

  /** The index of the frame shown at `timeSec`. */
  indexAt(timeSec: number): number {
    if (!Number.isFinite(timeSec) || timeSec < 0)
      throw new BadInputError(`time must be ≥ 0 s, got ${timeSec}`);
    return Math.floor(timeSec * this.fps + 1e-6);
  }

  timeOf(index: number): number {
    return index / this.fps;
  }

  #range(opts: FrameOptions): { start: number; end: number } {
    const start = opts.start ?? 0;
    const end = Math.min(opts.end ?? this.frameCount, this.frameCount);
    if (!Number.isInteger(start) || start < 0)
      throw new BadInputError(`start must be a frame index ≥ 0, got ${start}`);
    if (!Number.isInteger(end)) throw new BadInputError(`end must be a frame index, got ${end}`);
    if (start >= this.frameCount) {
      throw new BadInputError(`frame ${start} is past the end (the video has ${this.frameCount} frames)`);
    }
    return { start, end };
  }

  /**
   * With `fps`, the frames kept are those where floor(i · fps / rate) steps up (the first of each output period),
   * the same rule in ffmpeg's select filter and here, so each frame carries its true index.
   */
  #sampling(fps: number | undefined): { keep(i: number): boolean; expr(start: number): string } | undefined {
    if (fps === undefined) return undefined;
    if (!(fps > 0) || fps > this.fps * (1 + 1e-9)) {
      throw new BadInputError(`fps must be > 0 and ≤ the video's ${this.fps.toFixed(3)} fps, got ${fps}`);
    }
    const r = fps / this.fps;
    if (r >= 1 - 1e-12) return undefined;
    const rs = String(r);
    const rn = Number(rs);
    return {
      keep: (i) => i === 0 || Math.floor(i * rn) > Math.floor((i - 1) * rn),
      expr: (start) => `select='eq(n+${start},0)+gt(floor((n+${start})*${rs}),floor((n+${start}-1)*${rs}))'`,
    };
  }

  /**
   * Frames [start, end) as typed arrays, in order, one at a time (the pipe waits while you work). Long ranges are
   * decoded in segments by several processes at once (see segments.ts): the same frames, order and pixels.
   */
  async *frames(opts: FrameOptions = {}): AsyncGenerator<Frame> {
    const { start, end } = this.#range(opts);
    if (end <= start) return;
    const sampling = this.#sampling(opts.fps);
    const selection: FrameSelection | undefined = sampling && {
      keeps: sampling.keep,
      filter: (from) => sampling.expr(from),
    };
    for await (const p of decodeFrames(this.tools, this.source, { ...opts, start, end, selection })) {
      yield { ...p, timeSec: this.timeOf(p.index) };
    }
  }

  /** One frame by index. */
  async frame(index: number, opts: PictureOptions = {}): Promise<Frame> {
    for await (const f of this.frames({ ...opts, start: index, end: index + 1 })) return f;
    throw new BadInputError(`frame ${index} could not be read`);
  }

  /** The frame shown at `timeSec`. */
  frameAt(timeSec: number, opts: PictureOptions = {}): Promise<Frame> {
    return this.frame(this.indexAt(timeSec), opts);
  }

  describe(): string {
    const s = this.source;
    return `${s.width}×${s.height} @ ${formatRational(s.frameRate)} fps, ${s.frames} frames`;
  }
}

export interface AudioSource {
  file: string;
  sampleRate: number;
  samples: number;
}

export interface AudioOptions {
  /** Seconds from the start of the timeline (default 0). */
  start?: number | undefined;
  /** Seconds (default: the end). */
  end?: number | undefined;
  /** Samples per chunk (default one second's worth). */
  chunkSamples?: number | undefined;
  /** Resample to this rate (default: the source's). */
  sampleRate?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface AudioChunk {
  /** Index of the chunk's first sample at the output rate, from the start of the timeline. */
  startSample: number;
  timeSec: number;
  sampleRate: number;
  samples: Float32Array;
}

/** Mono float32 PCM from an audio derivative (16 kHz mono WAV), streamed in chunks. */
export class AudioReader {
  constructor(
    readonly tools: MediaTools,
    readonly source: AudioSource,
  ) {}

  get durationSec(): number {
    return this.source.samples / this.source.sampleRate;
  }

  async *chunks(opts: AudioOptions = {}): AsyncGenerator<AudioChunk> {
    const rate = opts.sampleRate ?? this.source.sampleRate;
    const start = opts.start ?? 0;
    const end = Math.min(opts.end ?? this.durationSec, this.durationSec);
    if (!(start >= 0) || !(end >= start)) throw new BadInputError(`bad audio range ${start}–${end} s`);
    if (!Number.isInteger(rate) || rate < 1000 || rate > 192_000) {
      throw new BadInputError(`sampleRate must be an integer from 1000 to 192000, got ${rate}`);
    }
    const chunkSamples = opts.chunkSamples ?? rate;
    if (!Number.isInteger(chunkSamples) || chunkSamples < 1) {
      throw new BadInputError(`chunkSamples must be a positive integer, got ${chunkSamples}`);
    }
    if (end === start) return;
    const args = [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-ss', start.toFixed(9), '-i', this.source.file],
      ...['-t', (end - start).toFixed(9), '-map', '0:a:0', '-ac', '1', '-ar', String(rate)],
      ...['-f', 'f32le', 'pipe:1'],
    ];
    const first = Math.round(start * rate);
    let n = 0;
    for await (const buf of readChunks(this.tools.ffmpeg, args, {
      chunkBytes: chunkSamples * 4,
      allowPartial: true,
      signal: opts.signal,
    })) {
      const samples = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      yield { startSample: first + n, timeSec: (first + n) / rate, sampleRate: rate, samples };
      n += samples.length;
    }
  }

  /** A whole range as one array (mind the size: an hour at 16 kHz is 230 MB). */
  async read(opts: AudioOptions = {}): Promise<Float32Array> {
    const parts: Float32Array[] = [];
    for await (const c of this.chunks(opts)) parts.push(c.samples);
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** One still image (png, jpeg, webp, …, or the first frame of a video) as a typed array. */
export async function readImage(
  tools: MediaTools,
  file: string,
  opts: PictureOptions = {},
): Promise<Picture> {
  const out = await runTool(
    tools.ffprobe,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file],
    { signal: opts.signal },
  ).catch((err: Error) => {
    throw new BadInputError(`${file} is not a readable image: ${err.message}`);
  });
  const [width, height] = out.toString('utf8').trim().split(',').map(Number);
  if (!width || !height) throw new BadInputError(`${file} has no picture`);
  for await (const p of decodePictures(
    tools,
    file,
    { width, height },
    { ...opts, outputArgs: ['-frames:v', '1'] },
  )) {
    return p;
  }
  throw new BadInputError(`${file}: no picture could be decoded`);
}
