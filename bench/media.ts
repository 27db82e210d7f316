// Media access benchmarks on real ffmpeg (no stack needed):
//  1. standardization wall time (the video-360p-h264 feature's compute) against the same ffmpeg command run raw,
//     same file, same run, alternating (goal: overhead ≤ 10 %);
//  2. reader throughput, 320×180 planar RGB frames into JS, against `ffmpeg -f null` decode of the same
//     derivative (goal ≥ 90 %), each reader run next to a decode run (in turn first and second): the ratio is the
//     median of these pairs, so the host's drift between runs (10–30 % here) cancels; rgb24 after them. The reader
//     decodes the derivative in-process (lib/media/in-process.ts, single-threaded libav decoders, one per core and
//     a spare); references: the same reader through ffmpeg processes (MEDIAMESH_DECODER=ffmpeg: segments, one
//     single-threaded ffmpeg per core) and one ffmpeg's own decode + scale to those frames, writing nowhere;
//  3. sha256 hashing throughput of a large file (goal ≥ 400 MB/s), and a streaming put into the object store;
//  4. peak RSS of a process reading every frame of a 60-minute 1080p input (goal ≤ 300 MB).
// Inputs are generated once into .mediamesh/bench-media/ (fast settings) and reused.
// Knobs: BENCH_MEDIA_MINUTES (60), BENCH_STD_RUNS (5), BENCH_READER_PAIRS (9), BENCH_READER_RUNS (5, the references).
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mediaMetadata from '../activities/features/media-metadata.ts';
import mediaQc from '../activities/features/media-qc.ts';
import videoRecipe from '../activities/features/video-360p-h264.ts';
import { projectRoot } from '../lib/config/config.ts';
import { loadLibav } from '../lib/media/libav.ts';
import type { MediaMetadata } from '../lib/media/metadata.ts';
import type { QcVerdict } from '../lib/media/qc.ts';
import { VideoReader } from '../lib/media/reader.ts';
import { defaultLanes, inProcessLanes } from '../lib/media/segments.ts';
import { findMediaTools, toolVersion } from '../lib/media/tools.ts';
import { videoPlan } from '../lib/media/video-plan.ts';
import { FsObjectStore, sha256File } from '../lib/objects/store.ts';
import { runLocally } from '../test/support/media-local.ts';
import { peakRssKiB } from './lib/peak-rss.ts';
import { type Figure, median, report, round } from './lib/report.ts';

const run = promisify(execFile);
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const tools = findMediaTools({
  media: { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH },
});
if (!tools) throw new Error('ffmpeg/ffprobe not found');
const dir = path.join(projectRoot, '.mediamesh', 'bench-media');

// ---- child mode: read every frame of a file and report the reading process's peak RSS ----
if (process.argv[2] === '--read-all') {
  const [file, width, height, end] = process.argv.slice(3);
  const reader = await VideoReader.open(tools, file!);
  const t0 = performance.now();
  let frames = 0;
  let checksum = 0;
  const opts = { width: Number(width), height: Number(height), end: end ? Number(end) : undefined };
  for await (const f of reader.frames(opts)) {
    frames++;
    checksum = (checksum + f.data[frames % f.data.length]!) | 0;
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ frames, seconds, maxRssKiB: peakRssKiB(), checksum })}\n`);
  process.exit(0);
}

const ffmpeg = (args: string[]) =>
  run(tools.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);

/** Generates `name` with `make` unless a previous run left it. */
async function cached(name: string, make: (out: string) => Promise<unknown>): Promise<string> {
  const file = path.join(dir, name);
  if (fs.existsSync(file)) return file;
  const tmp = `${file}.partial${path.extname(name)}`;
  process.stdout.write(`generating ${name} …\n`);
  await make(tmp);
  fs.renameSync(tmp, file);
  return file;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [(performance.now() - t0) / 1000, out];
}

fs.mkdirSync(dir, { recursive: true });
// The machine is shared: the load says how much the figures below had to share it.
const loadAtStart = os.loadavg();
const minutes = env('BENCH_MEDIA_MINUTES', 60);
const figures: Figure[] = [];

// A 20 s 1080p24 segment, looped by stream copy into longer inputs (no re-encoding).
const segment = await cached('seg-1080p24-20s.mp4', (out) =>
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=s=1920x1080:r=24:d=20', '-c:v', 'libx264', '-preset', 'veryfast'],
    ...['-tune', 'fastdecode', '-crf', '32', '-g', '48', '-pix_fmt', 'yuv420p', out],
  ]),
);
const loop = (times: number) => (out: string) =>
  ffmpeg(['-stream_loop', String(times - 1), '-i', segment, '-c', 'copy', '-f', 'mp4', out]);
const oneMinute = await cached('input-1080p24-60s.mp4', loop(3));
const longInput = await cached(`input-1080p24-${minutes}min.mp4`, loop(minutes * 3));

// 1. Standardization overhead.
const objects = new FsObjectStore(path.join(dir, 'objects'));
const prepared = await runLocally([mediaMetadata, mediaQc], oneMinute, { objects, tools });
const meta = prepared.values['media-metadata']!.value as MediaMetadata;
const rawOut = path.join(dir, 'raw-out.mp4');
const rawArgs = ['-hide_banner', '-nostdin', '-nostats', '-y', ...videoPlan(meta).args(oneMinute, rawOut)];
// The recipe's own transcode: the QC value without the derivative its decode pass staged.
const verdict = prepared.values['media-qc']!.value as QcVerdict;
const unstaged = {
  ...prepared.values,
  'media-qc': { ...prepared.values['media-qc']!, value: { ...verdict, staged: [] } },
};
const rawTimes: number[] = [];
const ourTimes: number[] = [];
const gateTimes: number[] = [];
let derivative = '';
for (let i = 0; i < env('BENCH_STD_RUNS', 5); i++) {
  const [raw] = await timed(() => run(tools.ffmpeg, rawArgs));
  rawTimes.push(raw);
  const [ours, result] = await timed(() =>
    runLocally([videoRecipe], oneMinute, { objects, tools }, unstaged),
  );
  ourTimes.push(ours);
  const [gated] = await timed(() =>
    runLocally(
      [mediaQc, videoRecipe],
      oneMinute,
      { objects, tools },
      { 'media-metadata': prepared.values['media-metadata']! },
    ),
  );
  gateTimes.push(gated);
  derivative = await objects.localPath(
    (result.values['video-360p-h264']!.value as { object: { uri: string } }).object,
  );
}
const sameBytes = (await sha256File(rawOut)).sha256 === (await sha256File(derivative)).sha256;
fs.rmSync(rawOut, { force: true });
// On a shared machine the best of several interleaved runs is the least-disturbed one: the goal is judged on
// it; medians are shown beside it.
const best = (xs: number[]) => Math.min(...xs);
const overhead = best(ourTimes) / best(rawTimes) - 1;
figures.push(
  {
    metric: 'standardize 60 s 1080p → 360p: raw ffmpeg, best / median',
    value: round(best(rawTimes), 2),
    unit: 's',
    note: `median ${round(median(rawTimes), 2)} s of ${rawTimes.length}`,
  },
  {
    metric: 'standardize 60 s 1080p → 360p: video-360p-h264 compute, best / median',
    value: round(best(ourTimes), 2),
    unit: 's',
    note: `median ${round(median(ourTimes), 2)} s; progress parsing, scratch file, hash + move into the store, frame count`,
  },
  {
    metric: 'standardization overhead vs raw ffmpeg (best of each)',
    value: round(overhead * 100),
    unit: '%',
    goal: '≤ 10',
    met: overhead <= 0.1,
    note: `medians: ${round((median(ourTimes) / median(rawTimes) - 1) * 100)} %`,
  },
  {
    metric: 'QC gate (full decode check) + video-360p-h264 vs the raw transcode alone (best of each)',
    value: round((best(gateTimes) / best(rawTimes) - 1) * 100),
    unit: '%',
    note: `best ${round(best(gateTimes), 2)} s, median ${round(median(gateTimes), 2)} s: the gate's decode pass writes the derivative, the recipe adopts it`,
  },
  {
    metric: 'raw and recipe outputs are the same bytes',
    value: sameBytes ? 1 : 0,
    unit: 'bool',
    goal: '1',
    met: sameBytes,
  },
);

// 2. Reader throughput on a 10-minute 360p derivative (the derivative above, looped by stream copy).
const derivative10 = await cached('derivative-360p-10min.mp4', (out) =>
  ffmpeg(['-stream_loop', '9', '-i', derivative, '-c', 'copy', '-f', 'mp4', out]),
);
const probed = await VideoReader.open(tools, derivative10);
// The loop keeps the recipe's GOP (1,440 frames = 30 GOPs a loop), so chunks and segments start on its keyframes.
const derivativeOf = { ...probed.source, gop: videoPlan(meta).gop, standardized: true };
if (!tools.libav) throw new Error(`the in-process decoder is not available: ${loadLibav().why}`);
const reader = new VideoReader(tools, derivativeOf);
const processTools = findMediaTools({ media: { ...tools, decoder: 'ffmpeg' } })!;
const processReader = new VideoReader(processTools, derivativeOf);
const fps = (sec: number) => reader.frameCount / sec;
const readAll =
  (pixelFormat: 'rgbp' | 'rgb24', using = reader) =>
  async () => {
    let n = 0;
    for await (const _ of using.frames({ width: 320, height: 180, pixelFormat })) n++;
    if (n !== using.frameCount) throw new Error(`read ${n} of ${using.frameCount} frames`);
  };
const decode = (vf?: string) => () =>
  run(tools.ffmpeg, ['-v', 'error', '-i', derivative10, ...(vf ? ['-vf', vf] : []), '-f', 'null', '-']);
// Interleaved runs, medians: the machine is shared, so no one measurement is trusted alone.
const runs = {
  decode: [] as number[],
  planar: [] as number[],
  packed: [] as number[],
  scaled: [] as number[],
  processes: [] as number[],
};
const readerRuns = env('BENCH_READER_RUNS', 5);
// Nine pairs: single pairs range 78–99 % on this host; the median of five still moved ±5 points from run to run.
const readerPairs = env('BENCH_READER_PAIRS', 9);
// The goal's pairs first, alone: a reference run just before one of them (ffmpeg processes writing gigabytes of
// segment files) slowed whichever came next. Which of a pair goes first alternates.
for (let i = 0; i < readerPairs; i++) {
  const pair = [
    async () => runs.decode.push(fps((await timed(decode()))[0])),
    async () => runs.planar.push(fps((await timed(readAll('rgbp')))[0])),
  ];
  for (const step of i % 2 === 0 ? pair : pair.reverse()) await step();
}
for (let i = 0; i < readerRuns; i++) {
  runs.packed.push(fps((await timed(readAll('rgb24')))[0]));
  runs.scaled.push(fps((await timed(decode('scale=320:180:flags=area,format=gbrp')))[0]));
  runs.processes.push(fps((await timed(readAll('rgbp', processReader)))[0]));
}
const pairRatios = runs.planar.map((r, i) => r / runs.decode[i]!);
const ratio = median(pairRatios);
const pct = (x: number) => `${round(x * 100)} %`;
const fpsFigure = (metric: string, xs: number[], note?: string): Figure => ({
  metric: `${metric}, best`,
  value: round(Math.max(...xs)),
  unit: 'fps',
  note: [`median ${round(median(xs))}`, note].filter(Boolean).join('; '),
});
figures.push(
  fpsFigure('decode 360p derivative, ffmpeg -f null', runs.decode),
  fpsFigure('same + scale to 320×180 planar RGB, ffmpeg -f null', runs.scaled),
  fpsFigure(
    'reader: 320×180 planar RGB (rgbp, CHW) frames into JS',
    runs.planar,
    `${reader.frameCount} frames per run, decoded in-process by ${inProcessLanes()} single-threaded libav decoders (${tools.libav.versions})`,
  ),
  fpsFigure(
    'reference: the same reader through ffmpeg processes (MEDIAMESH_DECODER=ffmpeg)',
    runs.processes,
    `segments decoded by ${defaultLanes()} single-threaded ffmpeg processes`,
  ),
  fpsFigure(
    'reader: 320×180 interleaved RGB (rgb24, HWC) frames into JS',
    runs.packed,
    "swscale's packed-RGB output path is the slow part",
  ),
  {
    metric: 'reader (rgbp) throughput / the same decode + scale, ffmpeg -f null (best)',
    value: round((Math.max(...runs.planar) / Math.max(...runs.scaled)) * 100),
    unit: '%',
    note: 'over 100 %: single-threaded decoders side by side beat one process with frame threads',
  },
  {
    metric: 'reader (rgbp) throughput / ffmpeg -f null decode, the same pair of runs (median)',
    value: round(ratio * 100),
    unit: '%',
    goal: '≥ 90',
    met: ratio >= 0.9,
    note: [
      `pairs: ${pairRatios.map(pct).join(', ')}`,
      `best / best: ${pct(Math.max(...runs.planar) / Math.max(...runs.decode))}`,
      `median / median: ${pct(median(runs.planar) / median(runs.decode))}`,
    ].join('; '),
  },
);

// 3. Hashing: a large file from the page cache (read once first), then a streaming put into the store.
const hashFile = longInput;
await sha256File(hashFile);
const [hashSec, hashed] = await timed(() => sha256File(hashFile));
const mb = hashed.sizeBytes / 1e6;
const putStore = new FsObjectStore(path.join(dir, 'put-bench'));
const [putSec] = await timed(() => putStore.putFile(hashFile));
fs.rmSync(path.join(dir, 'put-bench'), { recursive: true, force: true });
figures.push(
  {
    metric: 'sha256 of a file (streaming, 1 MiB reads)',
    value: round(mb / hashSec),
    unit: 'MB/s',
    goal: '≥ 400',
    met: mb / hashSec >= 400,
    note: `${round(mb)} MB, page cache warm`,
  },
  { metric: 'put into the object store (hash while copying)', value: round(mb / putSec), unit: 'MB/s' },
);

// 4. Peak RSS of a process reading every frame of the long 1080p input, and of one reading full-size frames.
async function readInChild(
  args: string[],
): Promise<{ frames: number; seconds: number; maxRssKiB: number; ffmpegPeakKiB: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'bench/media.ts'), '--read-all', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let ffmpegPeakKiB = 0;
  const sampler = setInterval(() => {
    for (const pid of childPids(child.pid!)) {
      const rss = /VmRSS:\s+(\d+)/.exec(readProc(`/proc/${pid}/status`))?.[1];
      if (rss && readProc(`/proc/${pid}/comm`).trim() === 'ffmpeg')
        ffmpegPeakKiB = Math.max(ffmpegPeakKiB, Number(rss));
    }
  }, 500);
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`reader child failed (${code})`);
  return { ...JSON.parse(out), ffmpegPeakKiB };
}

const full = await readInChild([longInput, '320', '180']);
const big = await readInChild([longInput, '1920', '1080', String(24 * 60)]);
figures.push(
  {
    metric: `read every frame of ${minutes} min 1080p at 320×180: peak RSS of the reader`,
    value: round(full.maxRssKiB / 1024),
    unit: 'MB',
    goal: '≤ 300',
    met: full.maxRssKiB / 1024 <= 300,
    note: `${full.frames} frames in ${round(full.seconds)} s (${round(full.frames / full.seconds)} fps); ffmpeg peak ${round(full.ffmpegPeakKiB / 1024)} MB`,
  },
  {
    metric: 'read 1 min of 1080p at full size (6.2 MB rgb24 frames): peak RSS of the reader',
    value: round(big.maxRssKiB / 1024),
    unit: 'MB',
    goal: '≤ 300',
    met: big.maxRssKiB / 1024 <= 300,
    note: `${big.frames} frames in ${round(big.seconds)} s; ffmpeg peak ${round(big.ffmpegPeakKiB / 1024)} MB`,
  },
);

report('media', figures, {
  ffmpeg: await toolVersion(tools.ffmpeg),
  loadAverage1m: { start: round(loadAtStart[0]!, 2), end: round(os.loadavg()[0]!, 2) },
  inputs: {
    standardization: '60 s 1920×1080 24 fps H.264 (testsrc2, CRF 32), to video-360p-h264@1',
    reader: '10 min 640×360 derivative of it',
    rss: `${minutes} min 1920×1080 24 fps H.264 (${round(fs.statSync(longInput).size / 1e6)} MB)`,
  },
});

function readProc(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The process and its descendants (the reader and its ffmpeg). */
function childPids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const ppid = Number(/^\d+ \(.*\) \S (\d+)/.exec(readProc(`/proc/${d}/stat`))?.[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(root);
  return out;
}
