// The seed's original match-cutting pipeline, as the peer of the end-to-end benchmark: the steps run one after
// another on the original file, each one a separate program over files, as in the seed case study:
//  a. shot detection: PySceneDetect ContentDetector (defaults: OpenCV decode, auto downscale) on the original;
//  b. one clip file per shot, exactly as PySceneDetect's split_video_ffmpeg makes them (ffmpeg per shot, input
//     seek, re-encode: `-ss <start s> -i <video> -t <duration s> -map 0:v:0 -map 0:a? -map 0:s? -c:v libx264
//     -preset veryfast -crf 22 -c:a aac -sn`);
//  c. per clip: ffmpeg decodes the clip up to its middle frame, scaled to 128×72 rgb24, and a per-shot
//     embedding is computed from it (the luma pooled to 16×9, mean-centred, L2-normalized: a stand-in for the
//     model; the point is the plumbing cost);
//  d. every pair of shots scored by a plain nested loop in JS, sorted, top K.
// Sequential throughout, like the seed: no step starts before the previous one ends and nothing runs in
// parallel beyond what each program does on its own (ffmpeg's and OpenCV's own threads).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MediaTools } from '../../lib/media/tools.ts';
import { ensureScenedetect, SCENEDETECT_PYTHON } from './scenedetect.ts';

const exec = promisify(execFile);

/** What the seed's split_video_ffmpeg passes to ffmpeg after `-t <duration>` (PySceneDetect 0.7.2 defaults). */
export const SPLIT_FFMPEG_ARGS =
  '-map 0:v:0 -map 0:a? -map 0:s? -c:v libx264 -preset veryfast -crf 22 -c:a aac'.split(' ');

export const EMBED_WIDTH = 128;
export const EMBED_HEIGHT = 72;
/** The embedding: luma averaged over 8×8 blocks of the 128×72 frame. */
export const EMBED_GRID = { width: 16, height: 9 } as const;
export const EMBED_DIM = EMBED_GRID.width * EMBED_GRID.height;

// Detection as the seed ran it: open the video with OpenCV, ContentDetector with its defaults. The scene
// list's times are printed as split_video_ffmpeg formats them (str() of FrameTimecode.seconds).
const DETECT = `
import json, sys, time, logging
logging.disable(logging.WARNING)
t0 = time.perf_counter()
from scenedetect import open_video, SceneManager, ContentDetector
t1 = time.perf_counter()
video = open_video(sys.argv[1], backend='opencv')
sm = SceneManager()
sm.add_detector(ContentDetector())
sm.detect_scenes(video)
scenes = sm.get_scene_list(start_in_scene=True)
t2 = time.perf_counter()
print(json.dumps({
    'fps': float(video.frame_rate),
    'frames': video.frame_number,
    'importSeconds': t1 - t0,
    'detectSeconds': t2 - t1,
    'scenes': [
        {'start': s.frame_num, 'end': e.frame_num, 'ss': str(s.seconds), 't': str((e - s).seconds)}
        for s, e in scenes
    ],
}))
`;

export interface SeedScene {
  /** Frames [start, end) of the original. */
  start: number;
  end: number;
  /** -ss and -t as split_video_ffmpeg passes them. */
  ss: string;
  t: string;
}

export interface SeedStep {
  step: 'detect' | 'split' | 'embed' | 'pairs';
  seconds: number;
  note: string;
}

export interface SeedPair {
  shot1: number;
  shot2: number;
  score: number;
}

export interface SeedPipelineResult {
  video: string;
  fps: number;
  frames: number;
  scenes: SeedScene[];
  steps: SeedStep[];
  totalSeconds: number;
  /** Inside the detection step: Python's imports, and opening + detection. */
  detect: { importSeconds: number; detectSeconds: number; scenedetect: string };
  clips: { count: number; bytes: number; dir: string; kept: boolean };
  embeddings: Float32Array[];
  pairs: SeedPair[];
  k: number;
}

export interface SeedPipelineOptions {
  tools: MediaTools;
  video: string;
  /** Where the clips go (created; removed at the end unless keepClips). */
  workDir: string;
  k?: number;
  keepClips?: boolean;
  onStep?: (step: SeedStep) => void;
}

/** Runs ffmpeg; its stdout as bytes. */
async function ffmpeg(tools: MediaTools, args: string[]): Promise<Buffer> {
  try {
    const { stdout } = await exec(tools.ffmpeg, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: Buffer | string; message: string };
    throw new Error(
      `ffmpeg failed: ${String(e.stderr || e.message)
        .trim()
        .split('\n')
        .slice(-3)
        .join(' | ')}`,
    );
  }
}

/** The per-shot embedding of one 128×72 rgb24 frame: 16×9 block means of the luma, mean-centred, L2-normalized. */
export function embedFrame(rgb: Uint8Array, width = EMBED_WIDTH, height = EMBED_HEIGHT): Float32Array {
  if (rgb.length !== width * height * 3)
    throw new Error(`a ${width}×${height} rgb24 frame has ${width * height * 3} bytes, got ${rgb.length}`);
  const { width: gw, height: gh } = EMBED_GRID;
  const bw = width / gw;
  const bh = height / gh;
  const v = new Float32Array(gw * gh);
  for (let y = 0; y < height; y++) {
    const gy = Math.min(gh - 1, Math.floor(y / bh));
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      const luma = 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
      v[gy * gw + Math.min(gw - 1, Math.floor(x / bw))]! += luma;
    }
  }
  let mean = 0;
  for (const x of v) mean += x;
  mean /= v.length;
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    v[i]! -= mean;
    norm += v[i]! * v[i]!;
  }
  norm = Math.sqrt(norm);
  // A flat frame (black between fades) has no direction: the zero vector, which scores 0 with everything.
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  else v.fill(0);
  return v;
}

/** Every pair (i < j) by a nested loop, sorted by score (ties: by shot indices), the first k. */
export function allPairsTopK(vectors: readonly Float32Array[], k: number): SeedPair[] {
  const pairs: SeedPair[] = [];
  for (let i = 0; i < vectors.length; i++) {
    const a = vectors[i]!;
    for (let j = i + 1; j < vectors.length; j++) {
      const b = vectors[j]!;
      let dot = 0;
      for (let d = 0; d < a.length; d++) dot += a[d]! * b[d]!;
      pairs.push({ shot1: i, shot2: j, score: dot });
    }
  }
  pairs.sort((x, y) => y.score - x.score || x.shot1 - y.shot1 || x.shot2 - y.shot2);
  return pairs.slice(0, k);
}

export async function runSeedPipeline(opts: SeedPipelineOptions): Promise<SeedPipelineResult> {
  const { tools, video } = opts;
  const k = opts.k ?? 100;
  const scenedetect = ensureScenedetect();
  const steps: SeedStep[] = [];
  const step = (s: SeedStep) => {
    steps.push(s);
    opts.onStep?.(s);
  };
  const clipDir = path.join(opts.workDir, 'clips');
  fs.rmSync(clipDir, { recursive: true, force: true });
  fs.mkdirSync(clipDir, { recursive: true });
  const started = performance.now();

  // a. Shot detection (wall time includes starting Python and importing scenedetect/OpenCV, as a script would).
  let t0 = performance.now();
  const { stdout } = await exec(SCENEDETECT_PYTHON, ['-c', DETECT, video], { maxBuffer: 64 * 1024 * 1024 });
  const detected = JSON.parse(stdout) as {
    fps: number;
    frames: number;
    importSeconds: number;
    detectSeconds: number;
    scenes: SeedScene[];
  };
  const scenes = detected.scenes;
  step({
    step: 'detect',
    seconds: (performance.now() - t0) / 1000,
    note: `PySceneDetect ContentDetector on the original: ${scenes.length} shots in ${detected.frames} frames`,
  });

  // b. One clip per shot, one ffmpeg after another.
  t0 = performance.now();
  const width = String(Math.max(3, Math.floor(Math.log10(Math.max(1, scenes.length))) + 1));
  const stem = path.parse(video).name;
  const clips: string[] = [];
  for (const [i, s] of scenes.entries()) {
    const clip = path.join(clipDir, `${stem}-Scene-${String(i + 1).padStart(Number(width), '0')}.mp4`);
    await ffmpeg(tools, [
      ...['-v', 'quiet', '-nostdin', '-y', '-ss', s.ss, '-i', video, '-t', s.t],
      ...SPLIT_FFMPEG_ARGS,
      ...['-sn', clip],
    ]);
    clips.push(clip);
  }
  const bytes = clips.reduce((n, c) => n + fs.statSync(c).size, 0);
  step({
    step: 'split',
    seconds: (performance.now() - t0) / 1000,
    note: `${clips.length} clips re-encoded (x264 veryfast crf 22), ${(bytes / 2 ** 20).toFixed(1)} MiB`,
  });

  // c. Per clip: decode to its middle frame at 128×72 and embed it.
  t0 = performance.now();
  const embeddings: Float32Array[] = [];
  for (const [i, s] of scenes.entries()) {
    const mid = Math.floor((s.end - s.start) / 2) / detected.fps;
    const frame = await ffmpeg(tools, [
      ...['-v', 'error', '-nostdin', '-ss', mid.toFixed(6), '-i', clips[i]!, '-frames:v', '1'],
      ...['-vf', `scale=${EMBED_WIDTH}:${EMBED_HEIGHT}`, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
    ]);
    embeddings.push(embedFrame(frame));
  }
  step({
    step: 'embed',
    seconds: (performance.now() - t0) / 1000,
    note: `one ffmpeg per clip: middle frame at ${EMBED_WIDTH}×${EMBED_HEIGHT} rgb24, ${EMBED_DIM}-d luma embedding`,
  });

  // d. All pairs, nested loop, top K.
  t0 = performance.now();
  const pairs = allPairsTopK(embeddings, k);
  const n = embeddings.length;
  step({
    step: 'pairs',
    seconds: (performance.now() - t0) / 1000,
    note: `${(n * (n - 1)) / 2} pairs by a nested loop in JS, sorted, top ${k}`,
  });

  const totalSeconds = (performance.now() - started) / 1000;
  if (!opts.keepClips) fs.rmSync(clipDir, { recursive: true, force: true });
  return {
    video,
    fps: detected.fps,
    frames: detected.frames,
    scenes,
    steps,
    totalSeconds,
    detect: { importSeconds: detected.importSeconds, detectSeconds: detected.detectSeconds, scenedetect },
    clips: { count: clips.length, bytes, dir: clipDir, kept: Boolean(opts.keepClips) },
    embeddings,
    pairs,
    k,
  };
}
