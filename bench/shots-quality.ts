// Shot boundary quality: F1 for hard cuts and for gradual transitions separately, on the standardized derivatives
// (video-360p-h264@1) the shots feature reads, for three sets:
//  1. the benchmark corpus (bench/corpus BENCH_CONFIG, seed 2024) — the detector was tuned on it;
//  2. the held-out corpus (HELDOUT_CONFIG, seed 99) — never looked at while tuning;
//  3. the real PySceneDetect clips whose truth is clear (bench/corpus/real-clips.ts).
// Matching (lib/shots/evaluate.ts): a cut matches a detected boundary within ±1 frame; a gradual transition one
// inside its span (or on its boundary frame) ±2 frames; one to one, closest first. Goals: hard F1 ≥ 0.95, gradual
// F1 ≥ 0.85. Corpora are generated once into .mediamesh/corpus/ (minutes) and reused.
import path from 'node:path';
import { findMediaTools } from '../lib/media/tools.ts';
import {
  addCounts,
  type Counts,
  evaluate,
  score,
  TOLERANCE,
  type TruthBoundary,
} from '../lib/shots/evaluate.ts';
import { shotParams } from '../lib/shots/params.ts';
import { detectShots } from '../lib/shots/read.ts';
import { BENCH_CONFIG, type CorpusConfig, HELDOUT_CONFIG } from './corpus/config.ts';
import { generateCorpus } from './corpus/corpus.ts';
import { readerOf, standardized } from './corpus/derivatives.ts';
import { REAL_CLIPS, realClipPath } from './corpus/real-clips.ts';
import { type Figure, report, round } from './lib/report.ts';

const tools = findMediaTools({
  media: { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH },
});
if (!tools) throw new Error('ffmpeg/ffprobe not found');
const params = shotParams.parse({});

interface Item {
  name: string;
  source: string;
  truth: TruthBoundary[];
  /** Frames the truth counts (checked against the derivative). */
  frames?: number;
}

interface SetResult {
  set: string;
  hard: Counts;
  gradual: Counts;
  matchedTypeAgreement: number;
  items: Record<string, unknown>[];
}

async function corpusItems(config: CorpusConfig): Promise<Item[]> {
  process.stdout.write(`corpus ${config.name} (seed ${config.seed}, ${config.titles} titles) …\n`);
  const corpus = await generateCorpus(tools!, config, {
    onTitle: (name, i, cached) =>
      !cached && process.stdout.write(`  generating ${i + 1}/${config.titles} ${name}\n`),
  });
  return corpus.titles.map((t) => ({
    name: t.truth.title,
    source: t.video,
    frames: t.truth.frames,
    truth: t.truth.transitions.map((x) => ({ type: x.type, boundary: x.boundary, span: x.span })),
  }));
}

async function measure(set: string, items: Item[]): Promise<SetResult> {
  let hard: Counts = { tp: 0, fp: 0, fn: 0 };
  let gradual: Counts = { tp: 0, fp: 0, fn: 0 };
  let agree = 0;
  let matched = 0;
  const out: Record<string, unknown>[] = [];
  for (const item of items) {
    const d = await standardized(tools!, item.source);
    if (item.frames !== undefined && d.frames !== item.frames) {
      throw new Error(`${item.name}: the derivative has ${d.frames} frames, the truth ${item.frames}`);
    }
    const det = await detectShots(readerOf(tools!, d), params);
    const e = evaluate(
      item.truth,
      det.boundaries.map((b) => ({ type: b.type, frame: b.frame })),
    );
    hard = addCounts(hard, e.hard);
    gradual = addCounts(gradual, e.gradual);
    agree += e.typeAgreement * e.matches.length;
    matched += e.matches.length;
    out.push({
      name: item.name,
      frames: d.frames,
      frameRate: d.frameRate,
      hard: e.hard,
      gradual: e.gradual,
      missed: e.missed,
      spurious: e.spurious.map((s) => det.boundaries.find((b) => b.frame === s.frame)),
    });
    process.stdout.write(
      `  ${item.name.padEnd(26)} hard ${e.hard.tp}/${e.hard.tp + e.hard.fn} (+${e.hard.fp})  ` +
        `gradual ${e.gradual.tp}/${e.gradual.tp + e.gradual.fn} (+${e.gradual.fp})\n`,
    );
  }
  return { set, hard, gradual, matchedTypeAgreement: matched ? agree / matched : 1, items: out };
}

const sets: SetResult[] = [];
sets.push(await measure('corpus', await corpusItems(BENCH_CONFIG)));
sets.push(await measure('held-out corpus', await corpusItems(HELDOUT_CONFIG)));
process.stdout.write('real clips …\n');
sets.push(
  await measure(
    'real clips',
    REAL_CLIPS.map((c) => ({ name: c.file, source: realClipPath(c), truth: c.truth })),
  ),
);

const figures: Figure[] = [];
for (const r of sets) {
  const h = score(r.hard);
  const g = score(r.gradual);
  const n = (c: Counts) => `${c.tp + c.fn} true, ${c.tp} found, ${c.fp} false`;
  figures.push({
    metric: `${r.set}: hard-cut F1`,
    value: round(h.f1, 3),
    unit: '',
    goal: '≥ 0.95',
    met: h.f1 >= 0.95,
    note: `P ${round(h.precision, 3)} R ${round(h.recall, 3)}; ${n(r.hard)}`,
  });
  if (r.gradual.tp + r.gradual.fn + r.gradual.fp > 0) {
    figures.push({
      metric: `${r.set}: gradual F1`,
      value: round(g.f1, 3),
      unit: '',
      goal: '≥ 0.85',
      met: g.f1 >= 0.85,
      note: `P ${round(g.precision, 3)} R ${round(g.recall, 3)}; ${n(r.gradual)}`,
    });
  }
  figures.push({
    metric: `${r.set}: matched with the right type`,
    value: round(r.matchedTypeAgreement, 3),
    unit: 'share',
  });
}

report('shots-quality', figures, {
  tolerance: TOLERANCE,
  params,
  matching:
    'one to one, closest first; a cut within ±1 frame of the truth, a gradual transition inside its span or on its boundary ±2; a match counts for the true type, an unmatched detection is a false positive of its own type',
  corpora: { bench: BENCH_CONFIG, heldout: HELDOUT_CONFIG },
  sets: sets.map((s) => ({ ...s, hard: score(s.hard), gradual: score(s.gradual) })),
  realClipsDir: path.relative(process.cwd(), path.dirname(realClipPath(REAL_CLIPS[0]!))),
});
