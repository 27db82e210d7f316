import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { projectRoot } from '../config/config.ts';
import { startFeature } from '../features/client.ts';
import type { ValueRef } from '../features/refs.ts';
import { ingestFile } from '../media/ingest.ts';
import { FsObjectStore } from '../objects/store.ts';
import { recordTrigger } from '../store/triggers.ts';
import type { Session } from './context.ts';
import { table } from './table.ts';

export const sampleMediaDir = path.join(projectRoot, 'test', 'fixtures', 'media', 'pyscenedetect');

export interface DemoRow {
  title: string;
  file: string;
  entityKey: string;
  feature: string;
  valueId: string;
  outcome: 'computed' | 'memo hit';
  ms: number;
}

export function listMedia(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(mp4|mov|mkv|webm|mxf|avi)$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Ingests every clip in `dir` and runs the whole feature mesh on each, concurrently, through Temporal. */
export async function runDemo(
  s: Session,
  dir: string,
  features: string[],
  showProgress: boolean,
): Promise<DemoRow[]> {
  const objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
  const files = listMedia(dir);
  if (files.length === 0) throw new Error(`no media files in ${dir}`);
  const bar = showProgress
    ? new cliProgress.SingleBar(
        { format: 'features {bar} {value}/{total} | {eta_formatted} left | {last}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(files.length * features.length, 0, { last: '' });
  const rows = await Promise.all(
    files.map(async (file) => {
      const title = path.basename(file).replace(/\.[^.]+$/, '');
      const asset = await ingestFile(s.db, objects, file, title);
      await recordTrigger(s.db, {
        source: 'demo',
        titleId: title,
        entityKey: asset.hash,
        features,
        detail: { file },
      });
      return Promise.all(
        features.map(async (feature): Promise<DemoRow> => {
          const started = performance.now();
          const handle = await startFeature(s.client, s.config, s.registry, {
            feature,
            entityKey: asset.hash,
            titleId: title,
          });
          const ref: ValueRef = await handle.result();
          bar?.increment({ last: `${title} ${feature}` });
          return {
            title,
            file: path.relative(projectRoot, file),
            entityKey: asset.hash,
            feature,
            valueId: ref.valueId,
            outcome: ref.memoHit ? 'memo hit' : 'computed',
            ms: Math.round(performance.now() - started),
          };
        }),
      );
    }),
  );
  bar?.stop();
  return rows.flat();
}

export function renderDemo(rows: DemoRow[], ui: string | undefined, namespace: string): string {
  const out = table(['title', 'feature', 'value', 'outcome', 'ms']);
  for (const r of rows) out.push([r.title, r.feature, r.valueId, r.outcome, String(r.ms)]);
  const computed = rows.filter((r) => r.outcome === 'computed').length;
  const lines = [
    out.toString(),
    `${rows.length} feature values: ${computed} computed, ${rows.length - computed} memo hits`,
  ];
  if (ui) {
    const q = (query: string) => `${ui}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`;
    const first = rows[0];
    lines.push(
      '',
      'Watch the runs in the Temporal UI:',
      `  all feature runs:    ${q("WorkflowType='featureWorkflow'")}`,
      ...(first ? [`  one title (${first.title}): ${q(`TitleId='${first.title}'`)}`] : []),
      `  one feature:         ${q("Feature='asset-summary'")}`,
    );
  }
  return lines.join('\n');
}
