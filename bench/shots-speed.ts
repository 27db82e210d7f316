// Shot detection speed against PySceneDetect (ContentDetector and AdaptiveDetector, defaults) on the same files in
// the same run, interleaved file by file (order rotated) so the shared machine's load hits every engine alike;
// F1 of each on the same truth. Goal: ≥ 2× PySceneDetect's frames/s at equal or better F1.
//
// Like with like: every engine reads the same standardized derivatives of the benchmark corpus
// (video-360p-h264@1, 640×360 or 480×360 H.264) and every timing includes opening and decoding the file. Ours:
// libav decodes in this process (no deblocking) and scales to 64×36 yuv420p, the file cut into parts decoded side
// by side, one single-threaded decoder per core (lib/media/in-process.ts), the detector runs in Node.
// PySceneDetect: OpenCV decodes to BGR at 360p and downscales itself (auto: to 256 wide; one row also at our
// 64-wide size). Three reference rows place the figures: ours with the whole file in one decoder, one ffmpeg
// process decoding and scaling alone with no detection (what a one-process ffmpeg reader is bound by), and
// PySceneDetect on the corpus's original files (640×360 to 1280×720: what one runs without the mesh, which has made
// the derivative once for every feature).
// PySceneDetect (PyPI `scenedetect` with `opencv-python-headless`) is installed into .mediamesh/venv-scenedetect
// by this script. Knobs: BENCH_SHOTS_ROUNDS (3).
import { execFile, spawn } from 'node:child_process';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { defaultLanes, threadsBesideConsumer } from '../lib/media/segments.ts';
import { findMediaTools } from '../lib/media/tools.ts';
import {
  addCounts,
  type Counts,
  type DetectedBoundary,
  evaluate,
  score,
  type TruthBoundary,
} from '../lib/shots/evaluate.ts';
import { shotParams } from '../lib/shots/params.ts';
import { ANALYSIS_DECODER_ARGS, detectShots } from '../lib/shots/read.ts';
import { BENCH_CONFIG } from './corpus/config.ts';
import { generateCorpus } from './corpus/corpus.ts';
import { type Derivative, readerOf, standardized } from './corpus/derivatives.ts';
import { REAL_CLIPS, realClipPath } from './corpus/real-clips.ts';
import { type Figure, report, round } from './lib/report.ts';
import { ensureScenedetect, SCENEDETECT_PYTHON } from './lib/scenedetect.ts';

const ROUNDS = Number(process.env.BENCH_SHOTS_ROUNDS ?? 3);
const PY = SCENEDETECT_PYTHON;

// A PySceneDetect worker: one JSON request per line on stdin ({file, detector, downscale?}), one JSON answer per
// line; the timing covers opening the video and detection, not Python's start-up.
const WORKER = `
import json, sys, time, logging
logging.disable(logging.WARNING)
from scenedetect import open_video, SceneManager, ContentDetector, AdaptiveDetector
for line in sys.stdin:
    req = json.loads(line)
    t0 = time.perf_counter()
    video = open_video(req['file'], backend='opencv')
    sm = SceneManager()
    sm.add_detector(ContentDetector() if req['detector'] == 'content' else AdaptiveDetector())
    if req.get('downscale'):
        sm.auto_downscale = False
        sm.downscale = req['downscale']
    sm.detect_scenes(video)
    seconds = time.perf_counter() - t0
    cuts = [s[0].frame_num for s in sm.get_scene_list()[1:]]
    print(json.dumps({'frames': video.frame_number, 'seconds': seconds, 'cuts': cuts}), flush=True)
`;

class PySceneDetect {
  readonly #child = spawn(PY, ['-c', WORKER], { stdio: ['pipe', 'pipe', 'inherit'] });
  readonly #lines = readline.createInterface({ input: this.#child.stdout! })[Symbol.asyncIterator]();

  async detect(file: string, detector: 'content' | 'adaptive', downscale?: number) {
    this.#child.stdin!.write(`${JSON.stringify({ file, detector, downscale })}\n`);
    const next = await this.#lines.next();
    if (next.done) throw new Error('the PySceneDetect worker exited');
    return JSON.parse(next.value) as { frames: number; seconds: number; cuts: number[] };
  }

  close(): void {
    this.#child.stdin!.end();
  }
}

interface Input {
  name: string;
  source: string;
  derivative: Derivative;
  truth: TruthBoundary[];
}

interface Run {
  frames: number;
  seconds: number;
  boundaries: DetectedBoundary[];
}

interface Engine {
  name: string;
  note: string;
  /** Reference rows: timed alongside, no goal. */
  reference?: boolean;
  run: (input: Input) => Promise<Run>;
}

const tools = findMediaTools({
  media: { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH },
});
if (!tools) throw new Error('ffmpeg/ffprobe not found');
const versions = ensureScenedetect();
const params = shotParams.parse({});

process.stdout.write('inputs: the benchmark corpus and the real clips, standardized …\n');
const corpus = await generateCorpus(tools, BENCH_CONFIG);
const timed: Input[] = [];
for (const t of corpus.titles) {
  timed.push({
    name: t.truth.title,
    source: t.video,
    derivative: await standardized(tools, t.video),
    truth: t.truth.transitions.map((x) => ({ type: x.type, boundary: x.boundary, span: x.span })),
  });
}
const clips: Input[] = [];
for (const c of REAL_CLIPS) {
  const source = realClipPath(c);
  clips.push({ name: c.file, source, derivative: await standardized(tools, source), truth: c.truth });
}

const py = new PySceneDetect();
const pyEngine =
  (detector: 'content' | 'adaptive', opts: { downscale?: number; original?: boolean } = {}) =>
  async (input: Input) => {
    const r = await py.detect(opts.original ? input.source : input.derivative.file, detector, opts.downscale);
    return { ...r, boundaries: r.cuts.map((frame) => ({ type: 'hard' as const, frame })) };
  };
const decodeOnly = async (input: Input): Promise<Run> => {
  const t0 = performance.now();
  await promisify(execFile)(tools.ffmpeg, [
    ...['-v', 'error', '-threads', String(threadsBesideConsumer()), ...ANALYSIS_DECODER_ARGS],
    ...['-i', input.derivative.file],
    ...[
      '-vf',
      `scale=${params.width}:${params.height}:flags=area,format=yuv420p`,
      '-f',
      'rawvideo',
      '-y',
      '/dev/null',
    ],
  ]);
  return { frames: input.derivative.frames, seconds: (performance.now() - t0) / 1000, boundaries: [] };
};
const OURS = 'mediamesh shots';
const ours =
  (lanes?: number) =>
  async (input: Input): Promise<Run> => {
    const t0 = performance.now();
    const det = await detectShots(readerOf(tools, input.derivative), params, { lanes });
    const seconds = (performance.now() - t0) / 1000;
    return {
      frames: det.frames,
      seconds,
      boundaries: det.boundaries.map((b) => ({ type: b.type, frame: b.frame })),
    };
  };
const engines: Engine[] = [
  {
    name: OURS,
    note: `libav decode (in-process) + scale to 64×36 yuv420p, ${defaultLanes()} parts side by side, detector in Node`,
    run: ours(),
  },
  {
    name: 'PySceneDetect ContentDetector',
    note: 'OpenCV decode, auto downscale to 256 wide',
    run: pyEngine('content'),
  },
  {
    name: 'PySceneDetect AdaptiveDetector',
    note: 'OpenCV decode, auto downscale to 256 wide',
    run: pyEngine('adaptive'),
  },
  {
    name: 'PySceneDetect ContentDetector @64',
    note: 'OpenCV decode, downscale 10 (64 wide, our analysis size)',
    run: pyEngine('content', { downscale: 10 }),
  },
  {
    name: 'mediamesh shots, one decoder',
    note: 'the same with the whole file in one in-process decoder',
    reference: true,
    run: ours(1),
  },
  {
    name: 'ffmpeg decode + scale alone, one process',
    note: 'the same decode with no detection, one ffmpeg: the bound for any one-process reader of these files',
    reference: true,
    run: decodeOnly,
  },
  {
    name: 'PySceneDetect ContentDetector on the originals',
    note: 'the corpus files before standardization (640×360 to 1280×720), auto downscale',
    reference: true,
    run: pyEngine('content', { original: true }),
  },
];

/** fps per engine per round; detections of the first round (every engine is deterministic). */
const fps = new Map<string, number[]>(engines.map((e) => [e.name, []]));
const found = new Map<string, Map<string, DetectedBoundary[]>>(engines.map((e) => [e.name, new Map()]));
for (let r = 0; r < ROUNDS; r++) {
  const totals = new Map(engines.map((e) => [e.name, { frames: 0, seconds: 0 }]));
  for (const [i, input] of timed.entries()) {
    // Rotate the order every file and round: no engine always runs first (cold caches) or last.
    const order = engines.map((_, k) => engines[(k + i + r) % engines.length]!);
    for (const e of order) {
      const run = await e.run(input);
      if (run.frames !== input.derivative.frames) {
        throw new Error(
          `${e.name} read ${run.frames} frames of ${input.name}, which has ${input.derivative.frames}`,
        );
      }
      const t = totals.get(e.name)!;
      t.frames += run.frames;
      t.seconds += run.seconds;
      if (r === 0) found.get(e.name)!.set(input.name, run.boundaries);
    }
  }
  for (const e of engines) {
    const t = totals.get(e.name)!;
    fps.get(e.name)!.push(t.frames / t.seconds);
  }
  process.stdout.write(
    `round ${r + 1}/${ROUNDS}: ${engines.map((e) => `${e.name} ${round(fps.get(e.name)![r]!, 0)}`).join(', ')} fps\n`,
  );
}
// F1 on the real clips for the engines that read the derivatives (their truth is in derivative frames; a
// variable-frame-rate original numbers its frames differently).
const detectors = engines.filter((e) => !e.reference);
for (const input of clips) {
  for (const e of detectors) found.get(e.name)!.set(input.name, (await e.run(input)).boundaries);
}
const originals = engines.find((e) => e.name.endsWith('on the originals'))!.name;
py.close();

function f1Of(engine: string, inputs: Input[]) {
  let hard: Counts = { tp: 0, fp: 0, fn: 0 };
  let gradual: Counts = { tp: 0, fp: 0, fn: 0 };
  for (const input of inputs) {
    const e = evaluate(input.truth, found.get(engine)!.get(input.name)!);
    hard = addCounts(hard, e.hard);
    gradual = addCounts(gradual, e.gradual);
  }
  return { hard: score(hard), gradual: score(gradual), all: score(addCounts(hard, gradual)) };
}

// The middle of an odd number of rounds; the mean of the middle two of an even number.
const mid = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const speed = (name: string) => mid(fps.get(name)!);
const oursFps = speed(OURS);
type F1 = ReturnType<typeof f1Of>;
const f1 = new Map<string, { corpus: F1; clips?: F1 }>(
  detectors.map((e) => [e.name, { corpus: f1Of(e.name, timed), clips: f1Of(e.name, clips) }]),
);
f1.set(originals, { corpus: f1Of(originals, timed) });
const oursF1 = f1.get(OURS)!;
const figures: Figure[] = [];
for (const e of engines) {
  figures.push({ metric: `${e.name}: frames/s`, value: round(speed(e.name), 0), unit: 'fps', note: e.note });
}
for (const e of engines.filter((x) => x.name !== OURS)) {
  const ratio = oursFps / speed(e.name);
  const theirs = f1.get(e.name);
  const atLeast = theirs
    ? oursF1.corpus.all.f1 >= theirs.corpus.all.f1 && oursF1.clips!.all.f1 >= (theirs.clips?.all.f1 ?? 0)
    : true;
  const fig: Figure = {
    metric: e.reference ? `ours / ${e.name}` : `speed-up over ${e.name}`,
    value: round(ratio, 2),
    unit: '×',
    note: theirs
      ? `F1 (every transition) corpus ${round(oursF1.corpus.all.f1, 3)} vs ${round(theirs.corpus.all.f1, 3)}` +
        (theirs.clips
          ? `, real clips ${round(oursF1.clips!.all.f1, 3)} vs ${round(theirs.clips.all.f1, 3)}`
          : '')
      : 'against the one-process decode',
  };
  if (!e.reference && !e.name.endsWith('@64')) {
    fig.goal = '≥ 2× at equal or better F1';
    fig.met = ratio >= 2 && atLeast;
  }
  figures.push(fig);
}
for (const [name, f] of f1) {
  for (const set of ['corpus', 'clips'] as const) {
    const s = f[set];
    if (!s) continue;
    figures.push({
      metric: `${name}: F1 hard (${set === 'corpus' ? 'corpus' : 'real clips'})`,
      value: round(s.hard.f1, 3),
      unit: 'F1',
      note: `gradual ${round(s.gradual.f1, 3)}, every transition ${round(s.all.f1, 3)}`,
    });
  }
}

report('shots-speed', figures, {
  rounds: ROUNDS,
  scenedetect: versions,
  decoderArgs: ANALYSIS_DECODER_ARGS,
  lanes: defaultLanes(),
  inputs: timed.map((i) => ({
    name: i.name,
    frames: i.derivative.frames,
    size: `${i.derivative.width}x${i.derivative.height}`,
    frameRate: i.derivative.frameRate,
  })),
  timing:
    'wall time per file including opening and decoding it; fps = frames / seconds summed over the corpus, the middle round; engines interleaved and rotated file by file',
  engines: Object.fromEntries(
    engines.map((e) => [e.name, { note: e.note, fps: fps.get(e.name), f1: f1.get(e.name) ?? null }]),
  ),
});
