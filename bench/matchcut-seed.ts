// The seed's original match-cutting pipeline on one video (bench/lib/seed-pipeline.ts): PySceneDetect, one clip
// file per shot, a per-clip embedding, all pairs in a nested loop; sequential, step after step. Prints each
// step's wall time and writes bench/results/matchcut-seed.json: the peer the end-to-end benchmark compares the
// mesh with.
//
//   node --import tsx bench/matchcut-seed.ts [video] [--k 100] [--keep-clips] [--truth <file.truth.json>]
//
// Without a video: the end-to-end corpus title (bench/corpus E2E_CONFIG: 10 min of 1080p; generated into
// .mediamesh/corpus on first use, which takes a while). With ground truth (given, or <video minus .mp4>.truth.json
// beside a corpus title) it also scores what the seed found: shots aligned to the truth, and the average
// precision of its ranked pairs against the composition-match labels (lib/matchcut/metrics.ts).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../lib/config/config.ts';
import { alignShots, dedupScores, flavorAveragePrecision, groupsToTruth } from '../lib/matchcut/metrics.ts';
import { findMediaTools } from '../lib/media/tools.ts';
import { E2E_CONFIG } from './corpus/config.ts';
import { generateCorpus } from './corpus/corpus.ts';
import type { GroundTruth } from './corpus/timeline.ts';
import { type Figure, report, round } from './lib/report.ts';
import { runSeedPipeline } from './lib/seed-pipeline.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    k: { type: 'string', default: '100' },
    'keep-clips': { type: 'boolean', default: false },
    truth: { type: 'string' },
  },
});

const tools = findMediaTools({
  media: { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH },
});
if (!tools) throw new Error('ffmpeg/ffprobe not found');

let video = positionals[0] ? path.resolve(positionals[0]) : undefined;
if (!video) {
  process.stdout.write(
    `input: the end-to-end corpus title (${E2E_CONFIG.name}, seed ${E2E_CONFIG.seed}) …\n`,
  );
  const corpus = await generateCorpus(tools, E2E_CONFIG, {
    onTitle: (name, _i, cached) =>
      !cached && process.stdout.write(`  generating ${name} (10 min of 1080p: several minutes)\n`),
  });
  video = corpus.titles[0]!.video;
}
if (!fs.existsSync(video)) throw new Error(`no such video: ${video}`);
const truthFile = values.truth ?? video.replace(/\.mp4$/, '.truth.json');
const truth = fs.existsSync(truthFile)
  ? (JSON.parse(fs.readFileSync(truthFile, 'utf8')) as GroundTruth)
  : undefined;

const probe = JSON.parse(
  execFileSync(tools.ffprobe, [
    ...['-v', 'error', '-select_streams', 'v:0', '-of', 'json'],
    ...['-show_entries', 'stream=codec_name,width,height,r_frame_rate:format=duration', video],
  ]).toString(),
) as {
  streams: { codec_name?: string; width?: number; height?: number; r_frame_rate?: string }[];
  format: { duration?: string };
};
const stream = probe.streams[0];
const duration = Number(probe.format.duration);
const input = {
  file: path.relative(projectRoot, video).startsWith('..') ? video : path.relative(projectRoot, video),
  bytes: fs.statSync(video).size,
  seconds: duration,
  size: stream ? `${stream.width}x${stream.height}` : undefined,
  codec: stream?.codec_name,
  frameRate: stream?.r_frame_rate,
};
process.stdout.write(
  `seed pipeline on ${input.file}: ${input.size} ${input.codec} @ ${input.frameRate}, ${round(duration, 1)} s\n`,
);

const k = Number(values.k);
const result = await runSeedPipeline({
  tools,
  video,
  workDir: path.join(projectRoot, '.mediamesh', 'bench-matchcut-seed'),
  k,
  keepClips: values['keep-clips'],
  onStep: (s) => process.stdout.write(`  ${s.step.padEnd(7)} ${round(s.seconds, 2)} s  ${s.note}\n`),
});

const figures: Figure[] = [];
for (const s of result.steps) {
  figures.push({ metric: `step ${s.step}: wall time`, value: round(s.seconds, 2), unit: 's', note: s.note });
}
figures.push({
  metric: 'total wall time',
  value: round(result.totalSeconds, 2),
  unit: 's',
  note: `${result.scenes.length} shots, ${result.frames} frames, ${round(duration / result.totalSeconds, 2)}× real time`,
});
figures.push({
  metric: 'clip files written',
  value: round(result.clips.bytes / 2 ** 20, 1),
  unit: 'MiB',
  note: `${result.clips.count} clips (${round((100 * result.clips.bytes) / input.bytes, 0)}% of the input's size)`,
});

let scoring: Record<string, unknown> | undefined;
if (truth) {
  const detected = result.scenes.map((s) => [s.start, s.end] as [number, number]);
  const alignment = alignShots(truth.SB, detected);
  const matched = alignment.toTruth.filter((t) => t !== null).length;
  const frame = flavorAveragePrecision(truth, 'frame', result.pairs, { alignment });
  const motion = flavorAveragePrecision(truth, 'motion', result.pairs, { alignment });
  // For reference: the top pairs scoring ≥ 0.99 taken as duplicates (the stand-in embedding of repeats is ≈ 1).
  const dupPairs = result.pairs.filter((p) => p.score >= 0.99).map((p) => [p.shot1, p.shot2]);
  const dedup = dedupScores(truth.duplicateGroups, groupsToTruth(dupPairs, alignment));
  figures.push({
    metric: 'shots aligned to the truth',
    value: matched,
    unit: 'shots',
    note: `of ${result.scenes.length} detected and ${truth.shots.length} true (IoU ≥ 0.5)`,
  });
  figures.push({
    metric: `AP@${k} frame flavor (composition-match)`,
    value: round(frame.ap ?? Number.NaN, 3),
    unit: 'AP',
    note: `${round(frame.found, 0)} of ${frame.positives} positives in the top ${frame.ranked}; a luma stand-in model, not the feature's`,
  });
  figures.push({
    metric: 'duplicate pairs among pairs scoring ≥ 0.99',
    value: round(dedup.f1, 3),
    unit: 'F1',
    note: `P ${round(dedup.precision, 3)} R ${round(dedup.recall, 3)} (${dedup.tp}/${dedup.truePairs} true pairs, ${dedup.fp} false)`,
  });
  scoring = { truthFile: path.basename(truthFile), alignedShots: matched, frame, motion, dedup };
}

report('matchcut-seed', figures, {
  input,
  k,
  steps: result.steps,
  detect: result.detect,
  clips: { count: result.clips.count, bytes: result.clips.bytes },
  shots: result.scenes.length,
  topPairs: result.pairs.slice(0, 10),
  scoring,
  pipeline:
    'sequential: PySceneDetect ContentDetector (defaults) on the original → ffmpeg per shot as split_video_ffmpeg ' +
    '(-ss/-i/-t, x264 veryfast crf 22) → ffmpeg per clip: middle frame at 128×72 rgb24 → 16×9 luma embedding → ' +
    'all pairs by a nested loop in JS, top K',
  timing: 'wall time per step, including each program start-up (Python imports, ffmpeg per clip)',
});
