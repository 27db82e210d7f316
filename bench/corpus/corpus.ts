// Generates a corpus (titles + ground truth) from a config, deterministically from its seed, into a folder named
// after the config's hash; a title already there (video and truth) is not generated again.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/config/config.ts';
import type { MediaTools } from '../../lib/media/tools.ts';
import type { CorpusConfig } from './config.ts';
import { findPhotos } from './photos.ts';
import { planTitle } from './plan.ts';
import { renderTitle } from './render.ts';
import { buildTimeline, type GroundTruth } from './timeline.ts';

/** Bump when a change to the generator changes what a seed produces. */
export const GENERATOR_VERSION = 1;

export const CORPUS_ROOT = path.join(projectRoot, '.mediamesh', 'corpus');

export interface CorpusTitle {
  video: string;
  truthFile: string;
  truth: GroundTruth;
}

export interface Corpus {
  dir: string;
  config: CorpusConfig;
  titles: CorpusTitle[];
}

export function corpusDir(config: CorpusConfig, root = CORPUS_ROOT): string {
  const hash = crypto
    .createHash('sha256')
    .update(JSON.stringify({ GENERATOR_VERSION, config }))
    .digest('hex')
    .slice(0, 10);
  return path.join(root, `${config.name}-s${config.seed}-${hash}`);
}

export async function generateCorpus(
  tools: MediaTools,
  config: CorpusConfig,
  opts: { root?: string; onTitle?: (name: string, index: number, cached: boolean) => void } = {},
): Promise<Corpus> {
  const root = opts.root ?? CORPUS_ROOT;
  const dir = corpusDir(config, root);
  fs.mkdirSync(dir, { recursive: true });
  const photos = findPhotos();
  const titles: CorpusTitle[] = [];
  for (let i = 0; i < config.titles; i++) {
    const plan = planTitle(
      config,
      i,
      photos.map((p) => p.file),
    );
    const video = path.join(dir, `${plan.name}.mp4`);
    const truthFile = path.join(dir, `${plan.name}.truth.json`);
    const { pieces, truth } = buildTimeline(plan, path.basename(video));
    const cached = fs.existsSync(video) && fs.existsSync(truthFile);
    opts.onTitle?.(plan.name, i, cached);
    if (!cached) {
      const work = path.join(dir, 'work', plan.name);
      await renderTitle(tools, plan, pieces, truth.frames, video, {
        cache: path.join(root, 'canvas'),
        work,
      });
      fs.writeFileSync(truthFile, `${JSON.stringify(withPhotoNames(truth), null, 1)}\n`);
      fs.rmSync(work, { recursive: true, force: true });
    }
    titles.push({ video, truthFile, truth: JSON.parse(fs.readFileSync(truthFile, 'utf8')) as GroundTruth });
  }
  fs.rmSync(path.join(dir, 'work'), { recursive: true, force: true });
  fs.writeFileSync(
    path.join(dir, 'corpus.json'),
    `${JSON.stringify({ generator: GENERATOR_VERSION, config, titles: titles.map((t) => path.basename(t.video)) }, null, 2)}\n`,
  );
  return { dir, config, titles };
}

/** The truth names photos by file name, not by where this machine keeps them. */
function withPhotoNames(truth: GroundTruth): GroundTruth {
  return {
    ...truth,
    shots: truth.shots.map((s) =>
      s.content ? { ...s, content: { ...s.content, photo: path.basename(s.content.photo) } } : s,
    ),
  };
}
