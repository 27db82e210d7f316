// Match-cutting quality on generated corpora with exact ground truth (bench/corpus): near-duplicate grouping
// (pairwise precision / recall of shot-dedup) and, per flavor, the average precision of every pair of kept shots
// ranked by matchcut-repr:<flavor> against the corpus's composition / motion labels. The features run in-process
// (test/support/media-local.ts) exactly as the workers run them; the mesh itself is measured elsewhere.
// Tuning corpus: 'bench'; 'heldout' (another seed, never looked at while tuning) is the honest figure.
//
//   node --import tsx bench/matchcut-quality.ts [--corpora bench,heldout]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { builtinFeatures } from '../activities/features/index.ts';
import type { ShotDedupValue } from '../activities/features/shot-dedup.ts';
import type { ShotsValue } from '../activities/features/shots.ts';
import { projectRoot } from '../lib/config/config.ts';
import { FeatureRegistry } from '../lib/features/registry.ts';
import {
  alignShots,
  dedupScores,
  type Flavor,
  flavorAveragePrecision,
  groupsToTruth,
} from '../lib/matchcut/metrics.ts';
import { scorePairs } from '../lib/matchcut/pairs.ts';
import { findMediaTools } from '../lib/media/tools.ts';
import { FsObjectStore } from '../lib/objects/store.ts';
import { loadVectorMatrix } from '../lib/vector/matrix-file.ts';
import { runLocally } from '../test/support/media-local.ts';
import { CONFIGS } from './corpus/config.ts';
import { generateCorpus } from './corpus/corpus.ts';
import { type Figure, report, round } from './lib/report.ts';

const { values } = parseArgs({ options: { corpora: { type: 'string', default: 'bench,heldout' } } });
const tools = findMediaTools({
  media: { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH },
});
if (!tools) throw new Error('ffmpeg/ffprobe not found');
const objects = new FsObjectStore(path.join(projectRoot, '.mediamesh', 'bench-objects'));
const registry = new FeatureRegistry(builtinFeatures);
const FLAVORS: Flavor[] = ['frame', 'motion'];
const chain = [...new Set(FLAVORS.flatMap((f) => registry.closure(`matchcut-repr:${f}`)))];

const figures: Figure[] = [];
const detail: Record<string, unknown>[] = [];
for (const name of values.corpora!.split(',')) {
  const config = CONFIGS[name];
  if (!config) throw new Error(`unknown corpus ${name} (${Object.keys(CONFIGS).join(', ')})`);
  process.stdout.write(`corpus ${name} (seed ${config.seed}, ${config.titles} titles) …\n`);
  const corpus = await generateCorpus(tools, config, {
    onTitle: (t, i, cached) =>
      !cached && process.stdout.write(`  generating ${i + 1}/${config.titles} ${t}\n`),
  });
  const dedupCounts = { tp: 0, fp: 0, fn: 0 };
  const ap: Record<Flavor, number[]> = { frame: [], motion: [] };
  const chance: Record<Flavor, number[]> = { frame: [], motion: [] };
  for (const title of corpus.titles) {
    const run = await runLocally(chain, title.video, { objects, tools });
    const shots = run.values.shots!.value as ShotsValue;
    const dedup = run.values['shot-dedup']!.value as ShotDedupValue;
    const alignment = alignShots(title.truth.SB, shots.SB);
    const content = title.truth.shots.filter((s) => !s.blank).map((s) => s.index);
    const d = dedupScores(title.truth.duplicateGroups, groupsToTruth(dedup.groups, alignment), content);
    dedupCounts.tp += d.tp;
    dedupCounts.fp += d.fp;
    dedupCounts.fn += d.fn;
    const row: Record<string, unknown> = {
      title: title.truth.title,
      shots: shots.shots.length,
      truthShots: title.truth.shots.length,
      dedup: { precision: d.precision, recall: d.recall, tp: d.tp, fp: d.fp, fn: d.fn },
    };
    for (const flavor of FLAVORS) {
      const repr = run.values[`matchcut-repr:${flavor}`]!;
      const matrix = await loadVectorMatrix(objects, { uri: repr.objectUri! });
      const all = (matrix.rows * (matrix.rows - 1)) / 2;
      const { pairs } = await scorePairs([{ id: title.truth.title, matrix }], { k: Math.max(1, all) });
      const s = flavorAveragePrecision(title.truth, flavor, pairs, { alignment });
      if (s.ap !== null) {
        ap[flavor].push(s.ap);
        // A random order of the same pairs: its expected AP is the share of positives among them.
        chance[flavor].push(s.found === 0 ? 0 : s.positives / Math.max(s.ranked, 1));
      }
      row[flavor] = { ap: s.ap, positives: s.positives, found: s.found, ranked: s.ranked, rows: matrix.rows };
    }
    detail.push({ corpus: name, ...row });
    process.stdout.write(`  ${JSON.stringify(row)}\n`);
  }
  const p = dedupCounts.tp / Math.max(1, dedupCounts.tp + dedupCounts.fp);
  const r = dedupCounts.tp / Math.max(1, dedupCounts.tp + dedupCounts.fn);
  figures.push(
    {
      metric: `${name}: dedup precision (pairwise)`,
      value: round(p, 3),
      unit: '',
      goal: '≥ 0.95',
      met: p >= 0.95,
    },
    {
      metric: `${name}: dedup recall (pairwise)`,
      value: round(r, 3),
      unit: '',
      note: JSON.stringify(dedupCounts),
    },
  );
  for (const flavor of FLAVORS) {
    const mean = ap[flavor].reduce((a, b) => a + b, 0) / Math.max(1, ap[flavor].length);
    const base = chance[flavor].reduce((a, b) => a + b, 0) / Math.max(1, chance[flavor].length);
    figures.push({
      metric: `${name}: match-pair AP, ${flavor} (mean over titles)`,
      value: round(mean, 3),
      unit: '',
      note: `random order ≈ ${round(base, 3)}; ${ap[flavor].length} titles`,
    });
  }
}
report('matchcut-quality', figures, { titles: detail });
