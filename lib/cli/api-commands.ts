import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import cliProgress from 'cli-progress';
import type { FeatureValue__Output } from '../api/generated/mediamesh/v1/FeatureValue.ts';
import type { RecomputeResponse__Output } from '../api/generated/mediamesh/v1/RecomputeResponse.ts';
import type { TitleStatus__Output } from '../api/generated/mediamesh/v1/TitleStatus.ts';
import type { TriggerResponse__Output } from '../api/generated/mediamesh/v1/TriggerResponse.ts';
import { connectApi } from '../api/grpc/connect.ts';
import type { Config } from '../config/config.ts';
import { table } from './table.ts';

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

/** A gRPC failure as `CODE: details`, the way a person wants to read it. */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
}

async function api<T>(config: Config, f: (a: ReturnType<typeof connectApi>) => Promise<T>): Promise<T> {
  const client = connectApi(config);
  try {
    return await f(client);
  } catch (err) {
    const e = err as ServiceError;
    if (typeof e.code === 'number' && e.details !== undefined) {
      const { status } = await import('@grpc/grpc-js');
      throw new ApiCallError(`${status[e.code]}: ${e.details}`);
    }
    throw err;
  } finally {
    client.close();
  }
}

export async function triggerCommand(
  config: Config,
  opts: { title: string; file?: string; object?: string; features?: string; json?: boolean },
): Promise<void> {
  const res = await api(config, (a) =>
    a.call<object, TriggerResponse__Output>('Trigger', {
      titleId: opts.title,
      ...(opts.file ? { path: path.resolve(opts.file) } : { objectUri: opts.object ?? '' }),
      features: opts.features ? opts.features.split(',').map((f) => f.trim()) : [],
    }),
  );
  if (opts.json) return print(JSON.stringify(res, null, 2));
  print(
    res.newAsset
      ? `landed ${res.assetHash} for ${opts.title}: ${res.features.join(', ')} (workflow ${res.workflowId})`
      : `already landed ${res.assetHash}: nothing new to compute (workflow ${res.workflowId})`,
  );
}

export async function recomputeCommand(
  config: Config,
  opts: { title: string; feature?: string; cascade?: boolean; reason: string; asset?: string },
): Promise<void> {
  const res = await api(config, (a) =>
    a.call<object, RecomputeResponse__Output>('Recompute', {
      titleId: opts.title,
      feature: opts.feature ?? '',
      cascade: !!opts.cascade,
      reason: opts.reason,
      assetHash: opts.asset ?? '',
    }),
  );
  print(`recompute ${res.requestId} sent to ${res.workflowId}`);
}

export async function valueCommand(
  config: Config,
  feature: string,
  entityKey: string,
  attempt: number,
): Promise<void> {
  const res = await api(config, (a) =>
    a.call<object, FeatureValue__Output>('GetFeatureValue', { feature, entityKey, attempt, paramsJson: '' }),
  );
  print(JSON.stringify({ ...res, value: JSON.parse(res.valueJson), valueJson: undefined }, null, 2));
}

export function renderTitleStatus(s: TitleStatus__Output): string {
  const t = table(['asset', 'feature', 'state', 'value', 'attempt', 'error']);
  for (const a of s.assets) {
    for (const f of a.features) {
      t.push([
        a.assetHash.slice(0, 12),
        f.feature,
        f.state,
        f.value?.valueId ?? '',
        String(f.value?.attempt ?? ''),
        f.lastError.slice(0, 60),
      ]);
    }
  }
  return `${t.toString()}\n${s.titleId}: ${s.done} done, ${s.running} running, ${s.pending} pending, ${s.failed} failed`;
}

export async function titleStatusCommand(
  config: Config,
  opts: { title: string; watch?: boolean; json?: boolean; timeout: number },
): Promise<void> {
  if (!opts.watch) {
    const res = await api(config, (a) =>
      a.call<object, TitleStatus__Output>('GetStatus', { titleId: opts.title }),
    );
    return print(opts.json ? JSON.stringify(res, null, 2) : renderTitleStatus(res));
  }
  await api(config, async (a) => {
    const stream = a.watchStatus(opts.title, opts.timeout * 1000);
    const bar = opts.json
      ? undefined
      : new cliProgress.SingleBar(
          { format: `${opts.title} {bar} {value}/{total} done | {running} running | {failed} failed` },
          cliProgress.Presets.shades_classic,
        );
    let last: TitleStatus__Output | undefined;
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (s: TitleStatus__Output) => {
        last = s;
        const total = s.done + s.running + s.pending + s.failed;
        if (opts.json) print(JSON.stringify(s));
        else if (!bar?.isActive)
          bar?.start(total, s.done + s.failed, { running: s.running, failed: s.failed });
        else {
          bar.setTotal(total);
          bar.update(s.done + s.failed, { running: s.running, failed: s.failed });
        }
        if (total > 0 && s.running + s.pending === 0) stream.cancel();
      });
      stream.on('error', (err: ServiceError) => (err.code === 1 /* CANCELLED */ ? resolve() : reject(err)));
      stream.on('end', () => resolve());
    });
    bar?.stop();
    if (last && !opts.json) print(renderTitleStatus(last));
  });
}
