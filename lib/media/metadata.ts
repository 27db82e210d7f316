// The frozen metadata snapshot of an asset: ffprobe's container and stream facts plus a packet scan of the main
// video stream (exact frame count, timing, VFR), normalized into one small, validated record.
import fs from 'node:fs';
import { z } from 'zod';
import { spawnLines } from './process.ts';
import { containerSignature, SIGNATURE_BYTES } from './signature.ts';
import {
  analyzeTimestamps,
  formatRational,
  parseRational,
  type Rational,
  ratio,
  standardFrameRate,
  type TimingStats,
} from './timing.ts';
import { MediaToolError, type MediaTools, runTool } from './tools.ts';

// ---- ffprobe's JSON (only what we read; everything optional, since hostile files omit anything) ----

const num = z.coerce.number().optional().catch(undefined);
const str = z.string().optional().catch(undefined);

const ffprobeStream = z.object({
  index: z.number().int(),
  codec_type: str,
  codec_name: str,
  profile: str,
  width: num,
  height: num,
  sample_aspect_ratio: str,
  pix_fmt: str,
  field_order: str,
  color_range: str,
  color_space: str,
  color_transfer: str,
  color_primaries: str,
  bits_per_raw_sample: num,
  r_frame_rate: str,
  avg_frame_rate: str,
  time_base: str,
  start_time: num,
  duration: num,
  nb_frames: num,
  bit_rate: num,
  sample_rate: num,
  channels: num,
  channel_layout: str,
  sample_fmt: str,
  disposition: z.record(z.string(), z.number()).optional().catch(undefined),
  tags: z.record(z.string(), z.string()).optional().catch(undefined),
  side_data_list: z
    .array(z.object({ side_data_type: str, rotation: num }))
    .optional()
    .catch(undefined),
});
type FfprobeStream = z.infer<typeof ffprobeStream>;

const ffprobeOutput = z.object({
  format: z
    .object({
      format_name: str,
      format_long_name: str,
      duration: num,
      start_time: num,
      bit_rate: num,
      probe_score: num,
    })
    .optional(),
  streams: z.array(ffprobeStream).default([]),
});

// ---- the snapshot ----

const MAX_STREAMS = 64;
/** ffprobe hanging this long on a file (a hostile one, typically) gives up on it. */
const PROBE_TIMEOUT_MS = 120_000;
const MAX_WARNINGS = 10;

const rationalString = z.string().regex(/^\d+\/\d+$/);

const colorSchema = z.object({
  range: z.string().nullable(),
  space: z.string().nullable(),
  transfer: z.string().nullable(),
  primaries: z.string().nullable(),
});

export const videoInfoSchema = z.object({
  streamIndex: z.number().int().nonnegative(),
  codec: z.string().nullable(),
  profile: z.string().nullable(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  /** Sample (pixel) aspect ratio; 1/1 when the file does not say. */
  sampleAspectRatio: rationalString,
  /** Clockwise degrees a player turns the picture (display matrix or `rotate` tag), a multiple of 90. */
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
  /** Size as displayed: rotation and sample aspect ratio applied. */
  displayWidth: z.number().nonnegative(),
  displayHeight: z.number().nonnegative(),
  pixelFormat: z.string().nullable(),
  bitDepth: z.number().int().nullable(),
  fieldOrder: z.string().nullable(),
  color: colorSchema,
  /** The container's r_frame_rate ("real base rate") and avg_frame_rate, as "num/den" or null. */
  realFrameRate: rationalString.nullable(),
  avgFrameRate: rationalString.nullable(),
  realFps: z.number().nullable(),
  avgFps: z.number().nullable(),
  /** Frames in the container index (may be missing or wrong) and video packets actually demuxed. */
  headerFrameCount: z.number().int().nullable(),
  frameCount: z.number().int().nonnegative().nullable(),
  keyframes: z.number().int().nonnegative().nullable(),
  startTimeSec: z.number().nullable(),
  durationSec: z.number().nullable(),
  timing: z
    .object({
      medianIntervalSec: z.number().nullable(),
      minIntervalSec: z.number().nullable(),
      maxIntervalSec: z.number().nullable(),
      irregularIntervals: z.number().int().nonnegative(),
      spanSec: z.number().nullable(),
    })
    .nullable(),
  vfr: z.boolean(),
});

const audioInfoSchema = z.object({
  streamIndex: z.number().int().nonnegative(),
  codec: z.string().nullable(),
  sampleRate: z.number().int().nullable(),
  channels: z.number().int().nullable(),
  channelLayout: z.string().nullable(),
  sampleFormat: z.string().nullable(),
  startTimeSec: z.number().nullable(),
  durationSec: z.number().nullable(),
  language: z.string().nullable(),
  default: z.boolean(),
});

const TEXT_SUBTITLE_CODECS = new Set([
  'subrip',
  'srt',
  'ass',
  'ssa',
  'webvtt',
  'mov_text',
  'text',
  'microdvd',
  'subviewer',
  'subviewer1',
  'jacosub',
  'realtext',
  'sami',
  'stl',
  'mpl2',
  'pjs',
  'vplayer',
]);

const subtitleInfoSchema = z.object({
  streamIndex: z.number().int().nonnegative(),
  codec: z.string().nullable(),
  language: z.string().nullable(),
  title: z.string().nullable(),
  default: z.boolean(),
  forced: z.boolean(),
  /** Text-based (readable as cues) rather than bitmaps (PGS, DVD, DVB). */
  text: z.boolean(),
});

export const mediaMetadataSchema = z.object({
  /** false when ffprobe cannot read the file at all; `error` then says why. */
  readable: z.boolean(),
  error: z.string().nullable(),
  sizeBytes: z.number().int().nonnegative(),
  /** Container family announced by the first bytes (magic number), whatever ffprobe makes of the rest. */
  signature: z.string().nullable(),
  container: z
    .object({
      formatName: z.string(),
      formatLongName: z.string().nullable(),
      durationSec: z.number().nullable(),
      startTimeSec: z.number().nullable(),
      bitRate: z.number().nullable(),
      probeScore: z.number().nullable(),
      /** A single-picture format (png, jpeg, …), not a video container. */
      stillImage: z.boolean(),
    })
    .nullable(),
  streamCount: z.number().int().nonnegative(),
  streams: z
    .array(
      z.object({
        index: z.number().int(),
        type: z.string(),
        codec: z.string().nullable(),
        attachedPicture: z.boolean(),
      }),
    )
    .max(MAX_STREAMS),
  video: videoInfoSchema.nullable(),
  audio: z.array(audioInfoSchema).max(MAX_STREAMS),
  subtitles: z.array(subtitleInfoSchema).max(MAX_STREAMS),
  /** First demuxer warnings of the packet scan (e.g. "partial file"): hints of truncation or damage. */
  demuxWarnings: z.array(z.string()).max(MAX_WARNINGS),
});
export type MediaMetadata = z.infer<typeof mediaMetadataSchema>;
export type VideoInfo = z.infer<typeof videoInfoSchema>;

/** The constant rate the recipes give this stream (see standardFrameRate); null when it has no usable rate. */
export function standardRateOf(v: VideoInfo): ReturnType<typeof standardFrameRate> {
  return standardFrameRate({
    medianIntervalSec: v.timing?.medianIntervalSec ?? null,
    realFps: v.realFps,
    avgFps: v.avgFps,
  });
}

const HDR_TRANSFERS = new Set(['smpte2084', 'arib-std-b67']);
const INTERLACED_ORDERS = new Set(['tt', 'bb', 'tb', 'bt']);
export const isHdr = (v: VideoInfo) => HDR_TRANSFERS.has(v.color.transfer ?? '');
export const isInterlaced = (v: VideoInfo) => INTERLACED_ORDERS.has(v.fieldOrder ?? '');

export interface PacketScan {
  pts: Float64Array;
  keyframes: number;
  packets: number;
  timeBase: Rational;
  warnings: string[];
}

const nn = <T>(v: T | undefined): T | null => v ?? null;
const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

/** Clockwise degrees to display, from the display matrix (counter-clockwise in ffprobe) or the legacy tag. */
function rotationOf(s: FfprobeStream): 0 | 90 | 180 | 270 {
  const matrix = s.side_data_list?.find((d) => d.side_data_type === 'Display Matrix')?.rotation;
  const raw = matrix !== undefined ? -matrix : Number(s.tags?.rotate ?? 0);
  const quarter = Math.round((((raw % 360) + 360) % 360) / 90) % 4;
  return ([0, 90, 180, 270] as const)[quarter]!;
}

function bitDepthOf(s: FfprobeStream): number | null {
  const m = /(\d+)(le|be)$/.exec(s.pix_fmt ?? '');
  if (m) return Number(m[1]);
  if (s.bits_per_raw_sample) return s.bits_per_raw_sample;
  return s.pix_fmt ? 8 : null;
}

const isAttachedPicture = (s: FfprobeStream) => s.disposition?.attached_pic === 1;

/** The stream a recipe standardizes: the default video stream, else the first; cover art does not count. */
export function mainVideoStream(streams: FfprobeStream[]): FfprobeStream | undefined {
  const video = streams.filter((s) => s.codec_type === 'video' && !isAttachedPicture(s));
  return video.find((s) => s.disposition?.default === 1) ?? video[0];
}

function videoInfo(s: FfprobeStream, scan: PacketScan | null, timing: TimingStats | null): VideoInfo {
  const width = s.width ?? 0;
  const height = s.height ?? 0;
  const sar = parseRational(s.sample_aspect_ratio) ?? { num: 1, den: 1 };
  const rotation = rotationOf(s);
  const sideways = rotation === 90 || rotation === 270;
  const w = width * ratio(sar);
  const real = parseRational(s.r_frame_rate);
  const avg = parseRational(s.avg_frame_rate);
  return {
    streamIndex: s.index,
    codec: nn(s.codec_name),
    profile: nn(s.profile),
    width,
    height,
    sampleAspectRatio: formatRational(sar),
    rotation,
    displayWidth: sideways ? height : w,
    displayHeight: sideways ? w : height,
    pixelFormat: nn(s.pix_fmt),
    bitDepth: bitDepthOf(s),
    fieldOrder: nn(s.field_order),
    color: {
      range: nn(s.color_range),
      space: nn(s.color_space),
      transfer: nn(s.color_transfer),
      primaries: nn(s.color_primaries),
    },
    realFrameRate: real ? formatRational(real) : null,
    avgFrameRate: avg ? formatRational(avg) : null,
    realFps: real ? ratio(real) : null,
    avgFps: avg ? ratio(avg) : null,
    headerFrameCount: s.nb_frames !== undefined && Number.isInteger(s.nb_frames) ? s.nb_frames : null,
    frameCount: scan ? scan.packets : null,
    keyframes: scan ? scan.keyframes : null,
    startTimeSec: finite(s.start_time),
    durationSec: finite(s.duration) ?? timing?.spanSec ?? null,
    timing: timing && {
      medianIntervalSec: timing.medianIntervalSec,
      minIntervalSec: timing.minIntervalSec,
      maxIntervalSec: timing.maxIntervalSec,
      irregularIntervals: timing.irregularIntervals,
      spanSec: timing.spanSec,
    },
    vfr: timing?.vfr ?? false,
  };
}

/** Builds the snapshot from ffprobe's JSON and the packet scan of the main video stream (pure). */
export function buildSnapshot(
  probeJson: unknown,
  scan: PacketScan | null,
  file: { sizeBytes: number; signature: string | null },
): MediaMetadata {
  const probe = ffprobeOutput.parse(probeJson);
  const streams = probe.streams;
  const f = probe.format;
  const main = mainVideoStream(streams);
  const timing = scan ? analyzeTimestamps(scan.pts, scan.timeBase) : null;
  const formatName = f?.format_name ?? 'unknown';
  return {
    readable: true,
    error: null,
    ...file,
    container: {
      formatName,
      formatLongName: nn(f?.format_long_name),
      durationSec: finite(f?.duration),
      startTimeSec: finite(f?.start_time),
      bitRate: finite(f?.bit_rate),
      probeScore: finite(f?.probe_score),
      stillImage: formatName === 'image2' || formatName.endsWith('_pipe'),
    },
    streamCount: streams.length,
    streams: streams.slice(0, MAX_STREAMS).map((s) => ({
      index: s.index,
      type: s.codec_type ?? 'unknown',
      codec: nn(s.codec_name),
      attachedPicture: isAttachedPicture(s),
    })),
    video: main ? videoInfo(main, scan, timing) : null,
    audio: streams
      .filter((s) => s.codec_type === 'audio')
      .slice(0, MAX_STREAMS)
      .map((s) => ({
        streamIndex: s.index,
        codec: nn(s.codec_name),
        sampleRate: finite(s.sample_rate),
        channels: finite(s.channels),
        channelLayout: nn(s.channel_layout),
        sampleFormat: nn(s.sample_fmt),
        startTimeSec: finite(s.start_time),
        durationSec: finite(s.duration),
        language: nn(s.tags?.language),
        default: s.disposition?.default === 1,
      })),
    subtitles: streams
      .filter((s) => s.codec_type === 'subtitle')
      .slice(0, MAX_STREAMS)
      .map((s) => ({
        streamIndex: s.index,
        codec: nn(s.codec_name),
        language: nn(s.tags?.language),
        title: nn(s.tags?.title),
        default: s.disposition?.default === 1,
        forced: s.disposition?.forced === 1,
        text: TEXT_SUBTITLE_CODECS.has(s.codec_name ?? ''),
      })),
    demuxWarnings: scan?.warnings.slice(0, MAX_WARNINGS) ?? [],
  };
}

/** What an unreadable file's snapshot says: nothing but its size and ffprobe's complaint. */
export function unreadableSnapshot(
  error: string,
  file: { sizeBytes: number; signature: string | null },
): MediaMetadata {
  return {
    readable: false,
    error,
    ...file,
    container: null,
    streamCount: 0,
    streams: [],
    video: null,
    audio: [],
    subtitles: [],
    demuxWarnings: [],
  };
}

/** Demuxes every packet of one stream (no decoding): timestamps, keyframes and demuxer warnings, streamed. */
export async function scanPackets(
  tools: MediaTools,
  file: string,
  stream: { index: number; timeBase: Rational },
  signal?: AbortSignal,
): Promise<PacketScan> {
  let pts = new Float64Array(4096);
  let packets = 0;
  let keyframes = 0;
  const warnings: string[] = [];
  const onStderrLine = (line: string) => {
    if (warnings.length < MAX_WARNINGS) warnings.push(line.replace(/ @ 0x[0-9a-f]+\]/, ']').slice(0, 300));
  };
  try {
    await spawnLines(
      tools.ffprobe,
      [
        ...['-v', 'error', '-select_streams', String(stream.index)],
        ...['-show_entries', 'packet=pts,flags', '-of', 'csv=p=0', file],
      ],
      {
        signal,
        stallMs: PROBE_TIMEOUT_MS,
        onStderrLine,
        onStdoutLine(line) {
          const [p, flags] = line.split(',');
          if (packets === pts.length) {
            const bigger = new Float64Array(pts.length * 2);
            bigger.set(pts);
            pts = bigger;
          }
          pts[packets++] = p === undefined || p === 'N/A' ? Number.NaN : Number(p);
          if (flags?.startsWith('K')) keyframes++;
        },
      },
    );
  } catch (err) {
    // A demuxer that gives up half-way has still told us what it read; its complaint is in the warnings.
    if (!(err instanceof MediaToolError)) throw err;
    onStderrLine(err.message);
  }
  return { pts: pts.subarray(0, packets), keyframes, packets, timeBase: stream.timeBase, warnings };
}

async function fileFacts(file: string): Promise<{ sizeBytes: number; signature: string | null }> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, SIGNATURE_BYTES));
    await handle.read(head, 0, head.length, 0);
    return { sizeBytes: size, signature: containerSignature(head) };
  } finally {
    await handle.close();
  }
}

/** ffprobe the file and scan the packets of its main video stream; an unreadable file gives `readable: false`. */
export async function probeMetadata(
  tools: MediaTools,
  file: string,
  signal?: AbortSignal,
): Promise<MediaMetadata> {
  const facts = await fileFacts(file);
  if (facts.sizeBytes === 0) return unreadableSnapshot('the file is empty (0 bytes)', facts);
  let raw: Buffer;
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  try {
    raw = await runTool(
      tools.ffprobe,
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
      { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, maxBuffer: 64 << 20 },
    );
  } catch (err) {
    signal?.throwIfAborted();
    if (timeout.aborted) {
      return unreadableSnapshot(`ffprobe found nothing within ${PROBE_TIMEOUT_MS / 1000} s`, facts);
    }
    if (!(err instanceof MediaToolError)) throw err;
    const lines = err.stderr.trim().split('\n').filter(Boolean);
    const detail = lines
      .map((l) => l.replace(/^\[[^\]]*\]\s*/, '').replace(`${file}: `, ''))
      .slice(-2)
      .join('; ');
    return unreadableSnapshot(detail || err.message, facts);
  }
  const json = JSON.parse(raw.toString('utf8')) as unknown;
  const main = mainVideoStream(ffprobeOutput.parse(json).streams);
  const timeBase = parseRational(main?.time_base);
  const scan =
    main && timeBase ? await scanPackets(tools, file, { index: main.index, timeBase }, signal) : null;
  return buildSnapshot(json, scan, facts);
}

/** Packets of the first stream matching `selector` (e.g. `v:0`), by demuxing only. */
export async function countPackets(
  tools: MediaTools,
  file: string,
  selector: string,
  signal?: AbortSignal,
): Promise<number> {
  const out = await runTool(
    tools.ffprobe,
    [
      ...['-v', 'error', '-select_streams', selector, '-count_packets'],
      ...['-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file],
    ],
    { signal },
  );
  return Number(out.toString('utf8').trim().split('\n')[0]) || 0;
}
