import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { TitleStatus } from '../../workflows/title.ts';
import { projectRoot } from '../config/config.ts';
import { titleWorkflowId } from '../features/refs.ts';
import { FsObjectStore } from '../objects/store.ts';
import { landAsset, productizedFeatures } from '../triggers/land.ts';
import type { Session } from './context.ts';
import { table } from './table.ts';

export const sampleMediaDir = path.join(projectRoot, 'test', 'fixtures', 'media', 'pyscenedetect');

export interface DemoRow {
  title: string;
  file: string;
  assetHash: string;
  feature: string;
  state: string;
  valueId: string;
  attempt: number | null;
  outcome: 'computed' | 'memo hit' | 'failed' | 'pending';
  error: string | null;
}

export function listMedia(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(mp4|mov|mkv|webm|mxf|avi|m4v|ts)$/i.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * The paved path end to end: every clip in `dir` lands as its own title (content hash, object store, trigger
 * event, title workflow), the productized features run as child workflows on the cpu and gpu queues, and we
 * follow the titles' status queries until nothing is pending or running.
 */
export async function runDemo(
  s: Session,
  dir: string,
  features: string[] | undefined,
  showProgress: boolean,
  timeoutMs = 30 * 60_000,
): Promise<DemoRow[]> {
  const objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
  const files = listMedia(dir);
  if (files.length === 0) throw new Error(`no media files in ${dir}`);
  const wanted = features ?? productizedFeatures(s.config, s.registry);
  const landed = await Promise.all(
    files.map(async (file) => {
      const title = path.basename(file).replace(/\.[^.]+$/, '');
      const res = await landAsset(
        { db: s.db, client: s.client, config: s.config, registry: s.registry, objects },
        { titleId: title, source: { file }, features: wanted, origin: 'demo' },
      );
      return { title, file, assetHash: res.assetHash };
    }),
  );
  const bar = showProgress
    ? new cliProgress.SingleBar(
        {
          format: 'features {bar} {value}/{total} | {failed} failed | {eta_formatted} left',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(landed.length * wanted.length, 0, { failed: 0 });
  const deadline = Date.now() + timeoutMs;
  let statuses: TitleStatus[] = [];
  for (;;) {
    statuses = await Promise.all(
      landed.map(({ title }) =>
        s.client.workflow.getHandle(titleWorkflowId(title)).query<TitleStatus>('status'),
      ),
    );
    const settled = (st: TitleStatus, hash: string) =>
      st.assets
        .find((a) => a.assetHash === hash)
        ?.features.filter((f) => wanted.includes(f.feature) && (f.state === 'done' || f.state === 'failed'))
        .length ?? 0;
    const done = statuses.reduce((n, st, i) => n + settled(st, landed[i]!.assetHash), 0);
    const failed = statuses.reduce((n, st) => n + st.failed, 0);
    bar?.update(done, { failed });
    if (done >= landed.length * wanted.length || Date.now() > deadline) break;
    await sleep(300);
  }
  bar?.stop();
  return landed.flatMap(({ title, file, assetHash }, i) => {
    const asset = statuses[i]!.assets.find((a) => a.assetHash === assetHash);
    return wanted.map((feature): DemoRow => {
      const f = asset?.features.find((x) => x.feature === feature);
      const state = f?.state ?? 'pending';
      return {
        title,
        file: path.relative(projectRoot, file),
        assetHash,
        feature,
        state,
        valueId: f?.value?.valueId ?? '',
        attempt: f?.value?.attempt ?? null,
        outcome:
          state === 'failed'
            ? 'failed'
            : state !== 'done'
              ? 'pending'
              : f?.value?.memoHit
                ? 'memo hit'
                : 'computed',
        error: f?.lastError ?? null,
      };
    });
  });
}

export function renderDemo(rows: DemoRow[], ui: string | undefined, namespace: string): string {
  const out = table(['title', 'feature', 'value', 'outcome', 'note']);
  for (const r of rows) out.push([r.title, r.feature, r.valueId, r.outcome, (r.error ?? '').slice(0, 70)]);
  const count = (o: DemoRow['outcome']) => rows.filter((r) => r.outcome === o).length;
  const lines = [
    out.toString(),
    `${rows.length} feature values: ${count('computed')} computed, ${count('memo hit')} memo hits, ` +
      `${count('failed')} failed (each with its reason), ${count('pending')} still pending`,
  ];
  if (ui) {
    const q = (query: string) => `${ui}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`;
    const first = rows[0];
    lines.push(
      '',
      'Watch the runs in the Temporal UI:',
      `  title workflows:     ${q("WorkflowType='titleWorkflow'")}`,
      `  all feature runs:    ${q("WorkflowType='featureWorkflow'")}`,
      ...(first ? [`  one title (${first.title}): ${q(`TitleId='${first.title}'`)}`] : []),
    );
  }
  return lines.join('\n');
}
