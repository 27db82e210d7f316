// The ffmpeg command behind an editor preview: the end of shot A cut to the start of shot B, each side read from
// its asset's standardized derivatives (video-360p-h264, and audio-16k-mono when it has been computed), encoded as
// one H.264 (+ AAC) MP4 with the moov atom first so the browser can start playing at once.
import { formatRational, type Rational } from '../../media/timing.ts';

export interface TransitionSide {
  /** The video derivative. */
  file: string;
  /** First frame and how many frames. */
  start: number;
  count: number;
  fps: number;
  /** Its audio derivative (sample 0 at frame 0): undefined when not computed, and the side is silent. */
  audio?: { file: string; sampleRate: number } | undefined;
}

/** What both sides are brought to: shot A's picture size and frame rate. */
export interface TransitionTarget {
  width: number;
  height: number;
  frameRate: Rational;
}

const secs = (x: number) => x.toFixed(9);

/**
 * ffmpeg's arguments for the transition `a` → `b` written to `out`. With no audio derivative on either side the
 * MP4 has no sound track; with one, the other side is silence of its length.
 */
export function transitionArgs(
  a: TransitionSide,
  b: TransitionSide,
  target: TransitionTarget,
  out: string,
): string[] {
  const { width, height, frameRate } = target;
  // Both sides on shot A's geometry and rate: B is fitted inside (letterboxed), square pixels.
  const norm =
    `scale=${width}:${height}:force_original_aspect_ratio=decrease,` +
    `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${formatRational(frameRate)},format=yuv420p`;
  // The reader's frame-accurate seek: half a frame before the first frame wanted, then count frames.
  const videoSeek = (s: TransitionSide) => (s.start > 0 ? ['-ss', secs((s.start - 0.5) / s.fps)] : []);
  const inputs = [...videoSeek(a), '-i', a.file, ...videoSeek(b), '-i', b.file];
  const graph = [
    `[0:v]trim=end_frame=${a.count},setpts=PTS-STARTPTS,${norm}[va]`,
    `[1:v]trim=end_frame=${b.count},setpts=PTS-STARTPTS,${norm}[vb]`,
  ];
  const withSound = a.audio !== undefined || b.audio !== undefined;
  if (withSound) {
    const rate = Math.max(a.audio?.sampleRate ?? 0, b.audio?.sampleRate ?? 0);
    const format = `aformat=sample_fmts=fltp:sample_rates=${rate}:channel_layouts=mono`;
    let next = 2;
    for (const [s, label] of [
      [a, 'aa'],
      [b, 'ab'],
    ] as const) {
      // A PCM WAV seeks to the sample; the side's sound lasts exactly as long as its frames (padded if it ends).
      const seconds = secs(s.count / s.fps);
      if (s.audio) {
        inputs.push(...(s.start > 0 ? ['-ss', secs(s.start / s.fps)] : []), '-i', s.audio.file);
        graph.push(
          `[${next++}:a]atrim=duration=${seconds},asetpts=PTS-STARTPTS,apad=whole_dur=${seconds},${format}[${label}]`,
        );
      } else {
        graph.push(`anullsrc=r=${rate}:cl=mono,atrim=duration=${seconds},${format}[${label}]`);
      }
    }
    graph.push('[va][aa][vb][ab]concat=n=2:v=1:a=1[v][a]');
  } else {
    graph.push('[va][vb]concat=n=2:v=1:a=0[v]');
  }
  return [
    ...['-hide_banner', '-nostdin', '-v', 'error'],
    ...inputs,
    ...['-filter_complex', graph.join(';')],
    ...['-map', '[v]', ...(withSound ? ['-map', '[a]'] : ['-an']), '-sn', '-dn'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-threads', '2'],
    ...(withSound ? ['-c:a', 'aac', '-b:a', '64k'] : []),
    ...['-movflags', '+faststart', '-map_metadata', '-1', '-fflags', '+bitexact', '-f', 'mp4', '-y', out],
  ];
}
