// The small generated title (bench/corpus TEST_CONFIG: every kind of join and derived shot, ~16 s at 640×360)
// with its ground truth, generated once per test file into a temporary folder (a few seconds).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_CONFIG } from '../../bench/corpus/config.ts';
import { type CorpusTitle, generateCorpus } from '../../bench/corpus/corpus.ts';
import type { MediaTools } from '../../lib/media/tools.ts';
import type { TruthBoundary } from '../../lib/shots/evaluate.ts';

export class CorpusTitleFixture {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-corpus-'));
  #title: Promise<CorpusTitle> | undefined;

  constructor(readonly tools: MediaTools) {}

  get(): Promise<CorpusTitle> {
    this.#title ??= generateCorpus(this.tools, TEST_CONFIG, { root: this.root }).then((c) => c.titles[0]!);
    return this.#title;
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export const truthBoundaries = (title: CorpusTitle): TruthBoundary[] =>
  title.truth.transitions.map((t) => ({ type: t.type, boundary: t.boundary, span: t.span }));
