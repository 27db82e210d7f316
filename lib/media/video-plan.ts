// The standardized 360p H.264 video: the one ffmpeg command that makes it from a metadata snapshot. Shared by the
// recipe and by the QC gate, whose decode pass writes the same derivative on the way (see media-qc).
import { BadInputError } from '../features/definition.ts';
import { isHdr, isInterlaced, type MediaMetadata, standardRateOf, type VideoInfo } from './metadata.ts';
import { formatRational, type Rational, ratio } from './timing.ts';

export const VIDEO_RECIPE = { name: 'video-360p-h264', version: 1 } as const;
export const VIDEO_RECIPE_ID = `${VIDEO_RECIPE.name}@${VIDEO_RECIPE.version}`;

// Changing anything below that changes the output bytes requires a new version.
export const VIDEO_HEIGHT = 360;
const GOP_SECONDS = 2;
const CRF = 23;
// x264's output depends on its thread count; fixed, so the bytes do not depend on the machine's cores.
const X264_THREADS = 4;

/** swscale's name for the source's color matrix; untagged video is BT.709 from 720 lines up, else BT.601. */
function inputMatrix(v: VideoInfo): string {
  const byName: Record<string, string> = {
    bt709: 'bt709',
    fcc: 'fcc',
    bt470bg: 'bt470',
    smpte170m: 'smpte170m',
    smpte240m: 'smpte240m',
    bt2020nc: 'bt2020',
    bt2020c: 'bt2020',
  };
  return byName[v.color.space ?? ''] ?? (v.height >= 720 ? 'bt709' : 'smpte170m');
}

function inputRange(v: VideoInfo): string {
  if (v.color.range === 'pc') return 'full';
  if (v.color.range === 'tv') return 'limited';
  return v.pixelFormat?.startsWith('yuvj') ? 'full' : 'limited';
}

export interface VideoPlan {
  width: number;
  height: number;
  rate: Rational;
  gop: number;
  filters: string;
  /** The whole command: `-v error -i <input>` and the output arguments. */
  args(input: string, output: string): string[];
  /** The arguments of the derivative's output alone, to add as one more output of another command. */
  outputArgs(output: string): string[];
}

/**
 * The standardized 360p H.264 derivative of a video stream (pure): fixed height 360, width from the display
 * aspect (rotation and pixel aspect applied), square pixels, constant frame rate, yuv420p BT.709 limited range,
 * a keyframe every 2 s (closed GOPs, no scene-cut keyframes), bit-exact muxing without metadata.
 */
export function videoPlan(meta: MediaMetadata): VideoPlan {
  const v = meta.video;
  if (!v) throw new BadInputError('the asset has no video stream');
  const standard = standardRateOf(v);
  if (!standard) throw new BadInputError('the video stream has no usable frame rate');
  const rate = standard.rate;
  const width = Math.max(2, 2 * Math.round((VIDEO_HEIGHT * v.displayWidth) / v.displayHeight / 2));
  const gop = Math.max(1, Math.round(ratio(rate) * GOP_SECONDS));
  const deinterlace = isInterlaced(v) ? ['bwdif=mode=send_frame:deint=interlaced'] : [];
  // Rotation is applied by ffmpeg's autorotate before these filters (it also drops the display matrix).
  const resize = isHdr(v)
    ? [
        `zscale=w=${width}:h=${VIDEO_HEIGHT}:f=bicubic`,
        'zscale=t=linear:npl=100',
        'format=gbrpf32le',
        'zscale=p=bt709',
        'tonemap=tonemap=hable:desat=0',
        'zscale=t=bt709:m=bt709:r=tv',
      ]
    : [
        `scale=w=${width}:h=${VIDEO_HEIGHT}:flags=bicubic:in_color_matrix=${inputMatrix(v)}:in_range=${inputRange(v)}` +
          ':out_color_matrix=bt709:out_range=limited',
      ];
  const filters = [
    ...deinterlace,
    'setpts=PTS-STARTPTS',
    `fps=${formatRational(rate)}`,
    ...resize,
    'setsar=1',
    'format=yuv420p',
  ].join(',');
  const x264 = [
    `keyint=${gop}`,
    `min-keyint=${gop}`,
    'scenecut=0',
    'open-gop=0',
    `threads=${X264_THREADS}`,
  ].join(':');
  const outputArgs = (output: string) => [
    ...['-map', `0:${v.streamIndex}`, '-an', '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1'],
    ...['-vf', filters, '-fps_mode', 'passthrough'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(CRF), '-profile:v', 'high'],
    ...['-x264-params', x264],
    ...['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709', '-color_range', 'tv'],
    ...['-flags', '+bitexact', '-fflags', '+bitexact', '-movflags', '+faststart', '-f', 'mp4', output],
  ];
  return {
    width,
    height: VIDEO_HEIGHT,
    rate,
    gop,
    filters,
    args: (input, output) => ['-v', 'error', '-i', input, ...outputArgs(output)],
    outputArgs,
  };
}
