// The QC gate: a full decode check plus rules over the metadata snapshot, giving a verdict with specific reasons.
// Hard reasons reject (quarantine) the asset; soft ones are normalized by the recipes and recorded.
import { z } from 'zod';
import { objectRefSchema } from '../objects/store.ts';
import { isHdr, isInterlaced, type MediaMetadata, standardRateOf } from './metadata.ts';
import { type FfmpegProgress, runFfmpeg } from './process.ts';
import { formatRational, parseRational, ratio } from './timing.ts';
import { MediaToolError, type MediaTools } from './tools.ts';

export const HARD_CODES = [
  'zero-byte',
  'not-media',
  'truncated',
  'corrupt',
  'no-video-stream',
  'still-image',
  'zero-duration',
  'absurd-dimensions',
  'absurd-frame-rate',
  'unsupported-codec',
] as const;
export const SOFT_CODES = [
  'vfr',
  'rotation',
  'non-square-pixels',
  'interlaced',
  'start-offset',
  'high-frame-rate',
  'pixel-format',
  'color-space',
  'hdr',
  'decode-errors',
  'audio-errors',
] as const;

const reasonSchema = z.object({
  code: z.enum([...HARD_CODES, ...SOFT_CODES]),
  severity: z.enum(['hard', 'soft']),
  message: z.string(),
});
export type QcReason = z.infer<typeof reasonSchema>;
export type QcCode = QcReason['code'];

export const decodeCheckSchema = z.object({
  framesDecoded: z.number().int().nonnegative(),
  videoErrors: z.number().int().nonnegative(),
  audioErrors: z.number().int().nonnegative(),
  truncationErrors: z.number().int().nonnegative(),
  /** The first error lines (and the first of each kind), prefixed with what they were counted as. */
  firstErrors: z.array(z.string()).max(8),
  missingDecoder: z.boolean(),
  /** ffmpeg gave up (exited non-zero): its last words. */
  fatal: z.string().nullable(),
});
export type DecodeCheck = z.infer<typeof decodeCheckSchema>;

/**
 * A derivative the QC gate wrote while it decoded (one decode instead of two). The recipe adopts it only when its
 * own recipe id, ffmpeg and arguments are exactly these: the bytes are then the ones it would make itself.
 */
export const stagedDerivativeSchema = z.object({
  recipe: z.string(),
  ffmpeg: z.string(),
  /** The exact ffmpeg arguments, with `{input}` and `{output}` for the paths. */
  args: z.array(z.string()),
  object: objectRefSchema,
});
export type StagedDerivative = z.infer<typeof stagedDerivativeSchema>;

export const verdictSchema = z.object({
  status: z.enum(['pass', 'normalize', 'reject']),
  reasons: z.array(reasonSchema),
  decode: decodeCheckSchema.nullable(),
  /** Derivatives made during the decode check; none for a rejected asset. */
  staged: z.array(stagedDerivativeSchema),
});
export type QcVerdict = z.infer<typeof verdictSchema>;

const TRUNCATION = /partial file|ended prematurely|moov atom not found|stream ends prematurely|truncat/i;
const MISSING_DECODER = /Decoder \(codec [^)]*\) not found|Unsupported codec|unknown codec/i;
const CONTEXT = /^\[([^\] ]+) @ 0x[0-9a-f]+\]/;
const STREAM_ERROR = /Error while decoding stream #\d+:(\d+)/;
// Complaints of the outputs (null, or a derivative written on the way: encoder, muxer, filters), not of a decoder.
const NOT_DECODING =
  /^\[(null|mp4|libx264|swscaler|Parsed_\S+|graph [^@]*) @|to muxer|Error marking filters|Cannot determine format of input stream/;

/** A decode check that found nothing wrong in `frames` frames. */
export function cleanDecodeCheck(frames: number): DecodeCheck {
  return {
    framesDecoded: frames,
    videoErrors: 0,
    audioErrors: 0,
    truncationErrors: 0,
    firstErrors: [],
    missingDecoder: false,
    fatal: null,
  };
}

/**
 * Decodes the main video stream and every audio stream to nowhere, counting the errors each decoder reports.
 * `alsoWrite` adds output arguments of one more output fed by the same decode (a derivative made on the way);
 * a failure of that output makes `fatal` non-null like any other. Never throws for bad media (that is what it
 * measures); throws only when cancelled.
 */
export async function decodeCheck(
  tools: MediaTools,
  file: string,
  meta: MediaMetadata,
  opts: { signal?: AbortSignal; onProgress?: (p: FfmpegProgress) => void; alsoWrite?: string[] } = {},
): Promise<DecodeCheck> {
  const video = meta.video!;
  const audioIndexes = new Set(meta.audio.map((a) => a.streamIndex));
  const audioCodecs = meta.audio.map((a) => a.codec).filter((c): c is string => !!c);
  const check = cleanDecodeCheck(0);
  const isAudioLine = (line: string) => {
    const stream = STREAM_ERROR.exec(line);
    if (stream) return audioIndexes.has(Number(stream[1]));
    const ctx = CONTEXT.exec(line)?.[1];
    return !!ctx && audioCodecs.some((c) => ctx.startsWith(c) || c.startsWith(ctx));
  };
  const onStderrLine = (line: string) => {
    if (NOT_DECODING.test(line)) return;
    if (MISSING_DECODER.test(line)) check.missingDecoder = true;
    const kind = TRUNCATION.test(line) ? 'truncation' : isAudioLine(line) ? 'audio' : 'video';
    check[`${kind}Errors`]++;
    const firstOfKind = !check.firstErrors.some((e) => e.startsWith(`${kind}: `));
    if (check.firstErrors.length < 5 || firstOfKind) {
      check.firstErrors.push(`${kind}: ${line.replace(/ @ 0x[0-9a-f]+\]/, ']').slice(0, 300)}`);
    }
  };
  const maps = [
    '-map',
    `0:${video.streamIndex}`,
    ...meta.audio.flatMap((a) => ['-map', `0:${a.streamIndex}`]),
  ];
  try {
    const { progress } = await runFfmpeg(
      tools.ffmpeg,
      // The null output comes first: ffmpeg's progress counts the first video output's frames, all of them here.
      [
        '-v',
        'error',
        '-i',
        file,
        ...maps,
        '-fps_mode',
        'passthrough',
        '-f',
        'null',
        '-',
        ...(opts.alsoWrite ?? []),
      ],
      {
        signal: opts.signal,
        stallMs: 120_000,
        onStderrLine,
        onProgress(p) {
          check.framesDecoded = p.frame;
          opts.onProgress?.(p);
        },
      },
    );
    check.framesDecoded = progress.frame;
  } catch (err) {
    if (!(err instanceof MediaToolError)) throw err;
    check.fatal = err.message.slice(0, 300);
    // A decoder that is missing fails ffmpeg before it decodes anything; count it as that, not as damage.
    if (MISSING_DECODER.test(err.stderr)) check.missingDecoder = true;
  }
  return check;
}

const BT709 = new Set(['bt709', 'unknown', 'reserved']);
export const MIN_SIDE = 16;
export const MAX_SIDE = 8192;
export const MAX_ASPECT = 8;

const hard = (code: QcCode, message: string): QcReason => ({ code, severity: 'hard', message });
const soft = (code: QcCode, message: string): QcReason => ({ code, severity: 'soft', message });
const secs = (s: number) => `${Number(s.toFixed(3))} s`;
const fps = (f: number) => `${Number(f.toFixed(3))} fps`;

/** Hard reasons that make the asset unusable, from the snapshot alone (no decode needed to know them). */
function structuralFailures(meta: MediaMetadata): QcReason[] {
  if (meta.sizeBytes === 0) return [hard('zero-byte', 'the file is empty (0 bytes)')];
  if (!meta.readable) {
    const why = meta.error ?? 'unknown error';
    if (!meta.signature)
      return [hard('not-media', `not a media file (no known container signature): ${why}`)];
    return TRUNCATION.test(why)
      ? [
          hard(
            'truncated',
            `the ${meta.signature} file is cut short (${why}): an interrupted copy or upload?`,
          ),
        ]
      : [hard('corrupt', `the ${meta.signature} container is damaged and cannot be read: ${why}`)];
  }
  if (meta.container?.stillImage) {
    return [hard('still-image', `a still image (${meta.container.formatName}), not a video`)];
  }
  const v = meta.video;
  const claimed = meta.container?.durationSec ?? 0;
  if (meta.streamCount === 0 && claimed > 0) {
    return [
      hard('corrupt', `the container claims ${secs(claimed)} of media but lists no stream: a damaged index`),
    ];
  }
  if (!v) {
    const present = meta.streams.map((s) => `${s.type}${s.codec ? ` (${s.codec})` : ''}`).join(', ');
    return [hard('no-video-stream', `no video stream (streams: ${present || 'none'})`)];
  }
  const out: QcReason[] = [];
  if (!v.codec || v.codec === 'none') {
    out.push(hard('unsupported-codec', `the video codec is unknown to ffmpeg (stream ${v.streamIndex})`));
  }
  const aspect = v.displayHeight > 0 ? v.displayWidth / v.displayHeight : 0;
  if (
    Math.min(v.width, v.height) < MIN_SIDE ||
    Math.max(v.width, v.height) > MAX_SIDE ||
    aspect > MAX_ASPECT ||
    aspect < 1 / MAX_ASPECT
  ) {
    out.push(
      hard(
        'absurd-dimensions',
        `${v.width}×${v.height} (display ${Math.round(v.displayWidth)}×${Math.round(v.displayHeight)}) is outside ` +
          `${MIN_SIDE}–${MAX_SIDE} px per side or 1:${MAX_ASPECT}–${MAX_ASPECT}:1`,
      ),
    );
  }
  if (v.frameCount === 0 || (v.durationSec !== null && v.durationSec <= 0 && (v.frameCount ?? 0) <= 1)) {
    out.push(hard('zero-duration', `the video stream has no frames to show (${v.frameCount ?? 0} packets)`));
  }
  const truncation = meta.demuxWarnings.find((w) => TRUNCATION.test(w));
  if (truncation) {
    out.push(hard('truncated', `the file is cut short: ${truncation}`));
  } else if (v.headerFrameCount && v.frameCount && v.frameCount < v.headerFrameCount) {
    out.push(
      hard(
        'truncated',
        `the index lists ${v.headerFrameCount} video frames but only ${v.frameCount} are there`,
      ),
    );
  }
  if (v.frameCount !== 0 && !standardRateOf(v)) {
    out.push(
      hard(
        'absurd-frame-rate',
        `no usable frame rate (r ${v.realFrameRate}, avg ${v.avgFrameRate}, 1–1000 fps)`,
      ),
    );
  }
  return out;
}

function decodeFindings(meta: MediaMetadata, d: DecodeCheck): QcReason[] {
  const out: QcReason[] = [];
  const frames = meta.video?.frameCount ?? d.framesDecoded;
  const firstOf = (kind: string) => {
    const line = d.firstErrors.find((e) => e.startsWith(`${kind}: `));
    return line ? ` (first: ${line.slice(kind.length + 2)})` : '';
  };
  if (d.missingDecoder) {
    return [
      hard('unsupported-codec', `this ffmpeg has no decoder for ${meta.video?.codec ?? 'the video codec'}`),
    ];
  }
  if (d.truncationErrors > 0)
    out.push(hard('truncated', `decoding ran off the end of the data${firstOf('truncation')}`));
  const tolerated = Math.max(2, Math.floor(frames * 0.01));
  if (frames === 0) {
    // Nothing to decode: zero-duration already says so.
  } else if (d.fatal && d.framesDecoded === 0) {
    out.push(hard('corrupt', `no frame could be decoded: ${d.fatal}`));
  } else if (d.videoErrors > tolerated || (frames > 0 && d.framesDecoded < frames * 0.9)) {
    out.push(
      hard(
        'corrupt',
        `${d.videoErrors} video decode errors, ${d.framesDecoded} of ${frames} frames decoded${firstOf('video')}`,
      ),
    );
  } else if (d.videoErrors > 0) {
    out.push(
      soft(
        'decode-errors',
        `${d.videoErrors} video decode errors (≤ 1 % of frames)${firstOf('video')}: concealed`,
      ),
    );
  }
  if (d.audioErrors > 0) {
    out.push(
      soft(
        'audio-errors',
        `${d.audioErrors} audio decode errors${firstOf('audio')}: the gaps become silence`,
      ),
    );
  }
  return out;
}

/** What the recipes will normalize, said once per kind. */
function normalizations(meta: MediaMetadata): QcReason[] {
  const v = meta.video!;
  const out: QcReason[] = [];
  const target = standardRateOf(v);
  const targetText = target ? `${fps(ratio(target.rate))} (${formatRational(target.rate)})` : '?';
  if (v.vfr && v.timing) {
    const lo = v.timing.maxIntervalSec ? 1 / v.timing.maxIntervalSec : 0;
    const hi = v.timing.minIntervalSec ? 1 / v.timing.minIntervalSec : 0;
    out.push(
      soft(
        'vfr',
        `variable frame rate (${v.timing.irregularIntervals} irregular frame intervals, ${fps(lo)}–${fps(hi)}): ` +
          `converted to a constant ${targetText}`,
      ),
    );
  }
  if (target && target.decimation > 1) {
    out.push(soft('high-frame-rate', `above 60 fps: every ${target.decimation}th frame kept, ${targetText}`));
  }
  if (v.rotation !== 0)
    out.push(soft('rotation', `rotated ${v.rotation}° by display metadata: rotation applied`));
  const sar = parseRational(v.sampleAspectRatio);
  if (sar && sar.num !== sar.den) {
    out.push(
      soft('non-square-pixels', `pixel aspect ratio ${sar.num}:${sar.den}: resampled to square pixels`),
    );
  }
  if (isInterlaced(v)) {
    out.push(soft('interlaced', `interlaced (${v.fieldOrder} field order): deinterlaced`));
  }
  if (v.startTimeSec !== null && Math.abs(v.startTimeSec) > 0.0005) {
    out.push(
      soft('start-offset', `first frame at ${secs(v.startTimeSec)}: the timeline starts at that frame`),
    );
  }
  if (v.pixelFormat && v.pixelFormat !== 'yuv420p') {
    out.push(soft('pixel-format', `${v.pixelFormat}: converted to 8-bit yuv420p`));
  }
  if (isHdr(v)) {
    out.push(soft('hdr', `HDR (${v.color.transfer} transfer): tone-mapped to SDR BT.709`));
  } else if (v.color.space && !BT709.has(v.color.space)) {
    out.push(soft('color-space', `${v.color.space} color matrix: converted to BT.709`));
  }
  return out;
}

/** The verdict (pure): hard reasons reject, soft ones are normalized; `decode` is null when it was not run. */
export function qcVerdict(
  meta: MediaMetadata,
  decode: DecodeCheck | null,
  staged: StagedDerivative[] = [],
): QcVerdict {
  const reasons = structuralFailures(meta);
  if (decode) {
    for (const r of decodeFindings(meta, decode)) {
      if (!reasons.some((x) => x.code === r.code)) reasons.push(r);
    }
  }
  if (!reasons.some((r) => r.severity === 'hard')) reasons.push(...normalizations(meta));
  const status = reasons.some((r) => r.severity === 'hard')
    ? 'reject'
    : reasons.length > 0
      ? 'normalize'
      : 'pass';
  return { status, reasons, decode, staged: status === 'reject' ? [] : staged };
}

/** Whether a decode check can tell us anything: there is a video stream to decode. */
export function worthDecoding(meta: MediaMetadata): boolean {
  return meta.readable && meta.video !== null && !meta.container?.stillImage;
}

/** One line naming every hard reason, for the BadInputError of a feature that needs an accepted asset. */
export function rejectionMessage(verdict: QcVerdict): string {
  return verdict.reasons
    .filter((r) => r.severity === 'hard')
    .map((r) => `${r.code}: ${r.message}`)
    .join('; ');
}
