// End to end: a 10-minute 1080p title from landing to its top-K match-cut pairs through the real mesh (Postgres,
// the Temporal dev server, orchestrator / cpu / gpu worker processes: ingest, metadata, QC, the 360p derivative,
// shots, embeddings, dedup, representation, pairs), against the seed's original pipeline on the same file in
// the same run (bench/lib/seed-pipeline.ts: PySceneDetect, one clip file per shot, per-clip embedding, nested
// loop over all pairs, one step after another). Goals: ≤ 5 min, and ≥ 3× faster than the seed.
//
//   node --import tsx bench/matchcut-e2e.ts [video] [--k 100]
//
// Without a video: the end-to-end corpus title (bench/corpus E2E_CONFIG), brought to 1920×1080 when generated
// smaller (a one-off upscale, cached beside it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { MatchcutPairsValue } from '../activities/features/matchcut-pairs.ts';
import { findMediaTools, type MediaTools } from '../lib/media/tools.ts';
import { FsObjectStore } from '../lib/objects/store.ts';
import { waitFor } from '../lib/stack/processes.ts';
import { landAsset } from '../lib/triggers/land.ts';
import { startEphemeralStack } from '../test/support/ephemeral-stack.ts';
import { TestWorkers } from '../test/support/harness.ts';
import { E2E_CONFIG } from './corpus/config.ts';
import { generateCorpus } from './corpus/corpus.ts';
import { type Figure, report, round } from './lib/report.ts';
import { runSeedPipeline } from './lib/seed-pipeline.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { k: { type: 'string', default: '100' } },
});
const k = Number(values.k);
const tools = findMediaTools({
  media: { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH },
});
if (!tools) throw new Error('ffmpeg/ffprobe not found');

function probe(file: string) {
  const out = JSON.parse(
    execFileSync(tools!.ffprobe, [
      ...['-v', 'error', '-select_streams', 'v:0', '-of', 'json'],
      ...['-show_entries', 'stream=width,height,r_frame_rate:format=duration', file],
    ]).toString(),
  ) as { streams: { width: number; height: number; r_frame_rate: string }[]; format: { duration: string } };
  return { ...out.streams[0]!, seconds: Number(out.format.duration) };
}

/** The corpus title at 1080p: generated (cached), upscaled once if the generator made it smaller. */
async function corpusInput(t: MediaTools): Promise<string> {
  process.stdout.write(
    `input: the end-to-end corpus title (${E2E_CONFIG.name}, seed ${E2E_CONFIG.seed}) …\n`,
  );
  const corpus = await generateCorpus(t, E2E_CONFIG, {
    onTitle: (name, _i, cached) =>
      !cached && process.stdout.write(`  generating ${name} (several minutes)\n`),
  });
  const video = corpus.titles[0]!.video;
  if (probe(video).height >= 1080) return video;
  const hd = video.replace(/\.mp4$/, '-1080p.mp4');
  if (!fs.existsSync(hd)) {
    process.stdout.write('  upscaling to 1920×1080 (once) …\n');
    execFileSync(t.ffmpeg, [
      ...['-v', 'error', '-y', '-i', video, '-vf', 'scale=1920:1080:flags=lanczos', '-c:v', 'libx264'],
      ...['-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-an', `${hd}.part.mp4`],
    ]);
    fs.renameSync(`${hd}.part.mp4`, hd);
  }
  return hd;
}

const video = positionals[0] ? path.resolve(positionals[0]) : await corpusInput(tools);
const input = probe(video);
process.stdout.write(
  `input ${video}: ${input.width}×${input.height} @ ${input.r_frame_rate}, ${round(input.seconds, 1)} s\n`,
);

// 1. The mesh, from landing to the value of matchcut-pairs:frame.
const stack = await startEphemeralStack('bench-e2e');
const workers = new TestWorkers('benche2e', { ...stack.env, MEDIAMESH_LOG_LEVEL: 'warn' });
const figures: Figure[] = [];
let mesh: { seconds: number; pairs: number; shots: number; steps: Record<string, number> };
try {
  await workers.startAll();
  const s = await workers.session();
  try {
    const objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
    process.stdout.write('mesh: landing the title …\n');
    const t0 = Date.now();
    const landed = await landAsset(
      { db: s.db, client: s.client, config: s.config, registry: s.registry, objects },
      { titleId: 'e2e', source: { file: video }, features: ['matchcut-pairs:frame'], origin: 'cli' },
    );
    const value = await waitFor(
      'matchcut-pairs:frame',
      async () =>
        (await s.db.featureValue.findFirst({
          where: { featureName: 'matchcut-pairs:frame', entityKey: landed.assetHash },
        })) ?? undefined,
      { timeoutMs: 60 * 60_000, intervalMs: 200 },
    );
    const seconds = (value.createdAt.getTime() - t0) / 1000;
    const rows = await s.db.featureValue.findMany({ where: { entityKey: landed.assetHash } });
    const steps = Object.fromEntries(rows.map((r) => [r.featureName, round(r.computeMs / 1000, 2)]));
    const pairs = value.value as MatchcutPairsValue;
    mesh = { seconds, pairs: pairs.pairs.length, shots: pairs.shots, steps };
    process.stdout.write(`mesh: ${round(seconds, 1)} s; compute per feature (s): ${JSON.stringify(steps)}\n`);
  } finally {
    await s.close();
  }
} finally {
  await workers.stopAll();
  await stack.stop();
}

// 2. The seed's pipeline on the same file, after the mesh is down (never both at once on 2 cores).
process.stdout.write('seed pipeline …\n');
const seed = await runSeedPipeline({
  tools,
  video,
  workDir: fs.mkdtempSync(path.join(os.tmpdir(), 'mm-seed-')),
  k,
  onStep: (st) => process.stdout.write(`  ${st.step}: ${round(st.seconds, 1)} s\n`),
});
const ratio = seed.totalSeconds / mesh.seconds;
figures.push(
  {
    metric: `mesh: landing → top-${k} pairs (${input.width}×${input.height}, ${round(input.seconds / 60, 1)} min)`,
    value: round(mesh.seconds, 1),
    unit: 's',
    goal: '≤ 300',
    met: mesh.seconds <= 300,
  },
  {
    metric: 'seed pipeline: detect → clips → embed → all pairs',
    value: round(seed.totalSeconds, 1),
    unit: 's',
  },
  {
    metric: 'speed-up over the seed pipeline',
    value: round(ratio, 2),
    unit: '×',
    goal: '≥ 3',
    met: ratio >= 3,
  },
  { metric: 'mesh: shots scored (kept)', value: mesh.shots, unit: 'shots' },
  { metric: 'seed: shots found / clip files written', value: seed.clips.count, unit: 'files' },
);
report('matchcut-e2e', figures, {
  input: { file: video, ...input },
  mesh,
  seed: { steps: seed.steps, totalSeconds: seed.totalSeconds, clips: seed.clips, detect: seed.detect },
  cores: os.availableParallelism(),
});
