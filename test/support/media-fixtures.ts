// Media fixtures generated at test time with ffmpeg's lavfi sources: small, fast, and each built to show one
// property (a frame-number barcode, VFR gaps, rotation, pixel aspect, offsets, subtitles) or one kind of damage.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ffmpeg = (args: string[]) => run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);

export const BARCODE = { width: 320, height: 180, fps: 25, bits: 10 } as const;

/**
 * Frame N shows N in binary: 10 vertical stripes, stripe k (from the left) white when bit k of N is set.
 * Readable after any lossy standardization, so a test can tell exactly which source frame it is looking at.
 */
const barcodeSource = (seconds: number, fps: number = BARCODE.fps) =>
  `color=c=black:s=${BARCODE.width}x${BARCODE.height}:r=${fps}:d=${seconds},` +
  `geq=lum='if(bitand(N\\,pow(2\\,floor(X/${BARCODE.width / BARCODE.bits})))\\,235\\,16)':cb=128:cr=128`;

/** Reads the barcode along a line of a gray picture: `along` 'x' for upright stripes, 'y' after a 90° turn. */
export function readBarcode(gray: Uint8Array, width: number, height: number, along: 'x' | 'y' = 'x'): number {
  let n = 0;
  for (let k = 0; k < BARCODE.bits; k++) {
    const x = along === 'x' ? Math.floor(((k + 0.5) * width) / BARCODE.bits) : Math.floor(width / 2);
    const y = along === 'x' ? Math.floor(height / 2) : Math.floor(((k + 0.5) * height) / BARCODE.bits);
    if (gray[y * width + x]! > 128) n |= 1 << k;
  }
  return n;
}

const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'];

type Maker = (out: string, dir: string, get: (name: string) => Promise<string>) => Promise<unknown>;

const SRT = `1
00:00:00,500 --> 00:00:01,250
first <i>cue</i>

2
00:00:02,000 --> 00:00:03,000
second cue
two lines
`;

/** Fixtures by file name. Good ones first, then the corrupt-input suite. */
const makers: Record<string, Maker> = {
  // 10 s, 25 fps, B-frames, a 440 Hz tone.
  'barcode.mp4': (out) =>
    ffmpeg(
      ['-f', 'lavfi', '-i', barcodeSource(10), '-f', 'lavfi', '-i', 'sine=f=440:d=10', ...x264].concat([
        '-g',
        '50',
        '-c:a',
        'aac',
        '-shortest',
        out,
      ]),
    ),
  // Two 0.24 s gaps in the timestamps (after frames 49 and 99): 6 frame slots empty at each. Integer
  // arithmetic in the 1/25 time base: float seconds would round some frames onto their neighbour.
  'barcode-vfr.mkv': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', barcodeSource(10), '-vf', "setpts='N+6*gte(N,50)+6*gte(N,100)'"],
      ...['-fps_mode', 'passthrough', ...x264, out],
    ]),
  // A display matrix saying "turn 90° clockwise to show" (ffmpeg 5.1 writes one from a `rotate` tag only when
  // copying; its tag counts counter-clockwise).
  'barcode-rotated.mp4': async (out, dir) => {
    const upright = path.join(dir, 'upright.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', barcodeSource(2), ...x264, upright]);
    await ffmpeg(['-i', upright, '-c', 'copy', '-metadata:s:v:0', 'rotate=270', out]);
  },
  // Pixels twice as wide as tall, and a BT.601 color matrix.
  'barcode-anamorphic.mp4': (out) =>
    ffmpeg([
      '-f',
      'lavfi',
      '-i',
      barcodeSource(2),
      '-vf',
      'setsar=2/1',
      ...x264,
      '-colorspace',
      'bt470bg',
      out,
    ]),
  'barcode-interlaced.mp4': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', barcodeSource(2), '-vf', 'setfield=tff', ...x264],
      ...['-flags', '+ilme+ildct', '-x264-params', 'tff=1', out],
    ]),
  // 120 fps: standardized to 60.
  'barcode-120fps.mp4': (out) => ffmpeg(['-f', 'lavfi', '-i', barcodeSource(1, 120), ...x264, out]),
  // Video from 1.0 s; audio from 0 s, silent until 1.2 s then a tone: on the standardized timeline the tone
  // starts at 0.2 s.
  'late-video.mkv': (out) =>
    ffmpeg([
      ...['-itsoffset', '1', '-f', 'lavfi', '-i', barcodeSource(2)],
      ...['-f', 'lavfi', '-i', "aevalsrc='if(gte(t,1.2),0.5*sin(2*PI*440*t),0)':s=48000:d=3"],
      ...['-map', '0:v', '-map', '1:a', ...x264, '-c:a', 'flac', out],
    ]),
  'subtitled.mkv': async (out, dir) => {
    const srt = path.join(dir, 'cues.srt');
    await fs.promises.writeFile(srt, SRT);
    await ffmpeg(
      ['-f', 'lavfi', '-i', barcodeSource(4), '-i', srt, '-map', '0', '-map', '1', ...x264].concat([
        '-c:s',
        'srt',
        '-metadata:s:s:0',
        'language=eng',
        out,
      ]),
    );
  },
  'hdr.mp4': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=25:d=1', '-c:v', 'libx264', '-preset', 'veryfast'],
      ...['-pix_fmt', 'yuv420p10le', '-color_primaries', 'bt2020', '-color_trc', 'smpte2084'],
      ...['-colorspace', 'bt2020nc', out],
    ]),

  // ---- the corrupt-input suite ----
  'zero-byte.mp4': (out) => fs.promises.writeFile(out, ''),
  'text.mp4': (out) => fs.promises.writeFile(out, 'this is a shopping list, not a video\n'.repeat(200)),
  'random.mov': (out) => fs.promises.writeFile(out, noise(256 * 1024, 3)),
  // The MP4 index (moov) is written last and is missing from the cut.
  'truncated-moov.mp4': async (out, _dir, get) => cut(await get('barcode.mp4'), out, 0.5),
  // The index comes first (faststart) and promises frames the cut lacks.
  'truncated-faststart.mp4': async (out, dir, get) => {
    const full = path.join(dir, 'faststart-full.mp4');
    await ffmpeg(['-i', await get('barcode.mp4'), '-c', 'copy', '-movflags', '+faststart', full]);
    await cut(full, out, 0.6);
  },
  'truncated.mkv': async (out, dir, get) => {
    const full = path.join(dir, 'full.mkv');
    await ffmpeg(['-i', await get('barcode.mp4'), '-c', 'copy', full]);
    await cut(full, out, 0.5);
  },
  // Garbage written over coded pictures; the index (moov, first) stays intact.
  'corrupt-payload.mp4': async (out, _dir, get) => {
    const bytes = await fs.promises.readFile(await get('video-only-faststart.mp4'));
    const mdat = bytes.indexOf('mdat');
    const rng = seeded(7);
    for (let k = 0; k < 60; k++) {
      const at = mdat + 2000 + Math.floor(rng() * (bytes.length - mdat - 2100));
      noise(48, k).copy(bytes, at);
    }
    await fs.promises.writeFile(out, bytes);
  },
  // Garbage over the index (moov) of an otherwise whole file.
  'corrupt-header.mp4': async (out, _dir, get) => {
    const bytes = await fs.promises.readFile(await get('video-only-faststart.mp4'));
    const moov = bytes.indexOf('moov');
    noise(400, 11).copy(bytes, moov + 100);
    await fs.promises.writeFile(out, bytes);
  },
  'video-only-faststart.mp4': async (out, _dir, get) =>
    ffmpeg(['-i', await get('barcode.mp4'), '-map', '0:v', '-c', 'copy', '-movflags', '+faststart', out]),
  'audio-only.m4a': (out) => ffmpeg(['-f', 'lavfi', '-i', 'sine=d=2', '-c:a', 'aac', out]),
  // An MP3 with cover art: ffprobe lists a "video" stream that is one attached picture.
  'cover-art.mp3': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'sine=d=2', '-f', 'lavfi', '-i', 'color=c=red:s=64x64:d=1'],
      ...['-map', '0', '-map', '1', '-frames:v', '1', '-c:a', 'libmp3lame', '-c:v', 'mjpeg'],
      ...['-disposition:v', 'attached_pic', out],
    ]),
  'still.png': (out) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=320x180', '-frames:v', '1', out]),
  // A video track with its codec set up but not one frame in it.
  'zero-duration.mp4': async (out, _dir, get) =>
    ffmpeg(
      ['-i', await get('barcode.mp4'), '-map', '0:v', '-c', 'copy', '-frames:v', '0'].concat([
        '-movflags',
        'frag_keyframe+empty_moov',
        out,
      ]),
    ),
  // One picture every two seconds: no frame rate a video recipe can keep.
  'slideshow-0.5fps.mp4': (out) => ffmpeg(['-f', 'lavfi', '-i', barcodeSource(6, 0.5), ...x264, out]),
  'tiny-8x8.mp4': (out) =>
    ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'color=c=gray:s=8x8:r=25:d=1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      out,
    ]),
  'sliver-2000x16.mp4': (out) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=s=2000x16:r=25:d=1', ...x264, out]),
  // A Matroska codec ID no decoder knows (same length as the real one, patched in place).
  'unknown-codec.mkv': async (out, dir, get) => {
    const full = path.join(dir, 'known.mkv');
    await ffmpeg(['-i', await get('barcode.mp4'), '-map', '0:v', '-c', 'copy', full]);
    const bytes = await fs.promises.readFile(full);
    const id = Buffer.from('V_MPEG4/ISO/AVC');
    const at = bytes.indexOf(id);
    if (at < 0) throw new Error('codec id not found in the Matroska header');
    Buffer.from('V_XYZW/ISO/QQQ9').copy(bytes, at);
    await fs.promises.writeFile(out, bytes);
  },
};

/** Expected QC outcome of each fixture: the status, and the reason codes (hard ones for rejects). */
export const EXPECTED_VERDICTS: Record<string, { status: 'pass' | 'normalize' | 'reject'; codes: string[] }> =
  {
    'barcode.mp4': { status: 'pass', codes: [] },
    'barcode-vfr.mkv': { status: 'normalize', codes: ['vfr'] },
    'barcode-rotated.mp4': { status: 'normalize', codes: ['rotation'] },
    'barcode-anamorphic.mp4': { status: 'normalize', codes: ['non-square-pixels', 'color-space'] },
    'barcode-interlaced.mp4': { status: 'normalize', codes: ['interlaced'] },
    'barcode-120fps.mp4': { status: 'normalize', codes: ['high-frame-rate'] },
    'late-video.mkv': { status: 'normalize', codes: ['start-offset'] },
    'hdr.mp4': { status: 'normalize', codes: ['pixel-format', 'hdr'] },
    'zero-byte.mp4': { status: 'reject', codes: ['zero-byte'] },
    'text.mp4': { status: 'reject', codes: ['not-media'] },
    'random.mov': { status: 'reject', codes: ['not-media'] },
    'truncated-moov.mp4': { status: 'reject', codes: ['truncated'] },
    'truncated-faststart.mp4': { status: 'reject', codes: ['truncated'] },
    'truncated.mkv': { status: 'reject', codes: ['truncated'] },
    'corrupt-payload.mp4': { status: 'reject', codes: ['corrupt'] },
    'corrupt-header.mp4': { status: 'reject', codes: ['corrupt'] },
    'audio-only.m4a': { status: 'reject', codes: ['no-video-stream'] },
    'cover-art.mp3': { status: 'reject', codes: ['no-video-stream'] },
    'still.png': { status: 'reject', codes: ['still-image'] },
    'zero-duration.mp4': { status: 'reject', codes: ['zero-duration'] },
    'slideshow-0.5fps.mp4': { status: 'reject', codes: ['absurd-frame-rate'] },
    'tiny-8x8.mp4': { status: 'reject', codes: ['absurd-dimensions'] },
    'sliver-2000x16.mp4': { status: 'reject', codes: ['absurd-dimensions'] },
    'unknown-codec.mkv': { status: 'reject', codes: ['unsupported-codec'] },
  };

async function cut(src: string, out: string, fraction: number): Promise<void> {
  const bytes = await fs.promises.readFile(src);
  await fs.promises.writeFile(out, bytes.subarray(0, Math.floor(bytes.length * fraction)));
}

/** Deterministic bytes (the same fixture every run). */
function noise(length: number, seed: number): Buffer {
  const rng = seeded(seed);
  return Buffer.from(Array.from({ length }, () => Math.floor(rng() * 256)));
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Fixtures made on first use in a temp directory of their own; `remove()` deletes it. */
export class MediaFixtures {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mediamesh-fixtures-'));
  readonly #made = new Map<string, Promise<string>>();

  get = (name: string): Promise<string> => {
    let p = this.#made.get(name);
    if (!p) {
      const maker = makers[name];
      if (!maker) throw new Error(`no fixture named ${name}`);
      const out = path.join(this.dir, name);
      p = maker(out, this.dir, this.get).then(() => out);
      this.#made.set(name, p);
    }
    return p;
  };

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export const realClipsDir = path.resolve(import.meta.dirname, '../fixtures/media/pyscenedetect');
export const realClip = (name: string) => path.join(realClipsDir, name);
