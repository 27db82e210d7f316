// Generates a corpus with ground truth: `node --import tsx bench/corpus/cli.ts [--config test|bench] [--seed n]
// [--titles n] [--out dir]`. Prints one line per title; the truth sits beside each video as <title>.truth.json.
import { parseArgs } from 'node:util';
import { findMediaTools } from '../../lib/media/tools.ts';
import { CONFIGS } from './config.ts';
import { CORPUS_ROOT, generateCorpus } from './corpus.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'test' },
    seed: { type: 'string' },
    titles: { type: 'string' },
    out: { type: 'string', default: CORPUS_ROOT },
  },
});
const base = CONFIGS[values.config!];
if (!base) {
  process.stderr.write(`unknown config "${values.config}" (one of ${Object.keys(CONFIGS).join(', ')})\n`);
  process.exit(2);
}
const config = {
  ...base,
  ...(values.seed ? { seed: Number(values.seed) } : {}),
  ...(values.titles ? { titles: Number(values.titles) } : {}),
};
const tools = findMediaTools({
  media: { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH },
});
if (!tools) throw new Error('ffmpeg/ffprobe not found');
const t0 = performance.now();
const corpus = await generateCorpus(tools, config, {
  root: values.out!,
  onTitle: (name, i, cached) =>
    process.stdout.write(`${cached ? 'cached    ' : 'generating'} ${i + 1}/${config.titles} ${name}\n`),
});
for (const { video, truth } of corpus.titles) {
  const kinds = new Map<string, number>();
  for (const t of truth.transitions) kinds.set(t.kind, (kinds.get(t.kind) ?? 0) + 1);
  process.stdout.write(
    `${video}: ${truth.width}x${truth.height} @ ${truth.rate}, ${truth.frames} frames, ${truth.shots.length} shots, ` +
      `${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}; ${truth.duplicateGroups.length} duplicate groups, ` +
      `${truth.pairs.length} labelled pairs, ${truth.flashes.length} flashes\n`,
  );
}
process.stdout.write(`${corpus.dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
