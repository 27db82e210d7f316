import crypto from 'node:crypto';
import os from 'node:os';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import type { Config } from '../lib/config/config.ts';
import type { ValueRef } from '../lib/features/refs.ts';
import { featureWorkflowId } from '../lib/features/refs.ts';
import type { FeatureRegistry } from '../lib/features/registry.ts';
import { MATCHCUT_QUERY_VERSION, matchCutCacheKey, parseQuerySubject } from '../lib/matchcut/cache-key.ts';
import { PairInputError } from '../lib/matchcut/filters.ts';
import { type MatchCutResult, matchCutQuery, matchCutQuerySchema } from '../lib/matchcut/query.ts';
import {
  MATCHCUT_QUERY_FEATURE,
  type MatchCutInputs,
  type MatchCutPlan,
  type MatchCutRequest,
} from '../lib/matchcut/request.ts';
import { type AssetSpan, assetShot, loadTitleMatrix } from '../lib/matchcut/title-matrix.ts';
import { parseRational, ratio } from '../lib/media/timing.ts';
import type { ObjectStore } from '../lib/objects/store.ts';
import type { Db } from '../lib/store/db.ts';
import { findCurrentValue, insertValue } from '../lib/store/values.ts';
import type { MatchcutReprValue } from './features/matchcut-repr.ts';
import { badInput } from './resolve.ts';

function emptyReprReason(v: MatchcutReprValue): string {
  return v.skipped > 0
    ? `no ${v.flavor} representation: none of its ${v.skipped} kept shots has anything to match on`
    : `no ${v.flavor} representation: no picture shots (every shot is blank)`;
}

const range = z.tuple([z.number(), z.number()]);
const side = {
  title: z.string(),
  asset: z.string(),
  /** The shot's index in that asset's `shots` value. */
  shot: z.number().int().nonnegative(),
  frames: range,
  /** [start, end) in seconds of the derivative. */
  seconds: range,
};

export const matchCutAnswerSchema = z.object({
  titles: z.array(z.string()),
  flavor: z.string(),
  k: z.number().int(),
  method: z.enum(['exact', 'ann-ivf', 'ann-index']),
  shots: z.number().int(),
  feature: z.string(),
  version: z.number().int(),
  cacheKey: z.string(),
  ms: z.number(),
  pairs: z.array(
    z.object({
      score: z.number(),
      a: z.object(side),
      b: z.object(side),
    }),
  ),
  skipped: z.array(z.object({ titleId: z.string(), asset: z.string(), reason: z.string() })),
});

export type MatchCutAnswer = z.infer<typeof matchCutAnswerSchema>;

export function makeMatchCutActivities(deps: {
  db: Db;
  registry: FeatureRegistry;
  config: Config;
  objects?: ObjectStore;
}) {
  return {
    /** Validates the query and lists the assets whose representation it needs. Local activity. */
    async planMatchCut(request: MatchCutRequest): Promise<MatchCutPlan> {
      let q: ReturnType<typeof parseQuerySubject<typeof matchCutQuerySchema>>;
      try {
        q = parseQuerySubject(matchCutQuerySchema, request);
      } catch (err) {
        if (err instanceof PairInputError) throw badInput(err.message);
        throw err;
      }
      const name = `matchcut-repr:${q.flavor}`;
      const feature = deps.registry.get(name);
      if (!feature) {
        const flavors = deps.registry
          .list()
          .filter((f) => f.name.startsWith('matchcut-repr:'))
          .map((f) => f.name.slice('matchcut-repr:'.length));
        throw badInput(`unknown match-cut flavor "${q.flavor}" (served: ${flavors.join(', ') || 'none'})`);
      }
      const members = await deps.db.titleAsset.findMany({
        where: { titleId: { in: q.titles } },
        include: { asset: { select: { createdAt: true } } },
      });
      const missing = q.titles.filter((t) => !members.some((m) => m.titleId === t));
      if (missing.length > 0) throw badInput(`no asset has landed for title(s): ${missing.join(', ')}`);
      // An asset landed in several of the titles is matched once, in the first of them (titles are sorted).
      const rank = new Map(q.titles.map((t, i) => [t, i]));
      const byAsset = new Map<string, { titleId: string; createdAt: Date; also: string[] }>();
      for (const m of [...members].sort((a, b) => rank.get(a.titleId)! - rank.get(b.titleId)!)) {
        const first = byAsset.get(m.assetHash);
        if (first) first.also.push(m.titleId);
        else byAsset.set(m.assetHash, { titleId: m.titleId, createdAt: m.asset.createdAt, also: [] });
      }
      const assets = [...byAsset.entries()].sort(
        ([ha, a], [hb, b]) =>
          a.createdAt.getTime() - b.createdAt.getTime() || (ha < hb ? -1 : ha > hb ? 1 : 0),
      );
      return {
        titles: q.titles,
        feature: name,
        version: feature.version,
        cpuQueue: deps.config.queues.cpu,
        assets: assets.map(([hash, a]) => ({
          titleId: a.titleId,
          asset: hash,
          workflowId: featureWorkflowId(name, feature.version, hash),
        })),
        shared: assets.flatMap(([hash, a]) =>
          a.also.map((titleId) => ({
            titleId,
            asset: hash,
            reason: `also in title ${a.titleId}: matched there, once`,
          })),
        ),
      };
    },

    /** The answer over the representations: memoized as a value keyed by the query and its inputs. */
    async answerMatchCut(input: MatchCutInputs): Promise<ValueRef> {
      const { request, plan } = input;
      const q = parseQuerySubject(matchCutQuerySchema, request);
      const objects = deps.objects!;
      const rows = await deps.db.featureValue.findMany({
        where: { id: { in: input.reprs.map((r) => BigInt(r.valueId)) } },
      });
      const byId = new Map(rows.map((r) => [r.id.toString(), r]));
      // An asset whose representation is empty (blank shots only; only static ones for motion) has nothing to
      // match: it is listed beside the assets that have no representation at all.
      const reprValue = (valueId: string) => byId.get(valueId)!.value as MatchcutReprValue;
      const scored = input.reprs.filter((r) => reprValue(r.valueId).rows > 0);
      const skipped = [
        ...input.skipped,
        ...(plan.shared ?? []),
        ...input.reprs
          .filter((r) => reprValue(r.valueId).rows === 0)
          .map((r) => ({
            titleId: r.titleId,
            asset: r.asset,
            reason: emptyReprReason(reprValue(r.valueId)),
          })),
      ].sort((a, b) => (a.titleId < b.titleId ? -1 : a.titleId > b.titleId ? 1 : 0));
      const reprsOf = (title: string) =>
        scored
          .filter((r) => r.titleId === title)
          .map((r) => {
            const row = byId.get(r.valueId)!;
            return {
              asset: r.asset,
              valueId: r.valueId,
              objectUri: row.objectUri!,
              frameRate: (row.value as { frameRate: string }).frameRate,
            };
          });
      const titles = q.titles.filter((t) => scored.some((r) => r.titleId === t));
      if (titles.length === 0) {
        const reasons = skipped.map((s) => `${s.titleId}/${s.asset.slice(0, 12)}: ${s.reason}`);
        throw badInput(`none of the titles has shots to match on ${plan.feature}: ${reasons.join('; ')}`);
      }
      const inputsHash = crypto
        .createHash('sha256')
        .update(
          JSON.stringify({ mode: q.mode, reprs: input.reprs.map((r) => `${r.titleId}/${r.valueId}`).sort() }),
        )
        .digest('hex');
      const cacheKey = matchCutCacheKey({
        titles: q.titles,
        flavor: q.flavor,
        k: q.k,
        filters: q.filters,
        featureVersions: { [plan.feature]: plan.version },
      });
      const key = {
        feature: MATCHCUT_QUERY_FEATURE,
        version: MATCHCUT_QUERY_VERSION,
        entityKey: cacheKey,
        paramsHash: inputsHash,
      };
      const memo = await findCurrentValue(deps.db, key);
      if (memo) return memo;

      const ctx = Context.current();
      const started = new Date();
      const spans = new Map<string, AssetSpan[]>();
      let result: MatchCutResult;
      try {
        result = await matchCutQuery(
          { ...q, titles },
          {
            async loadTitleMatrix(titleId) {
              const { matrix, spans: s } = await loadTitleMatrix(objects, reprsOf(titleId));
              spans.set(titleId, s);
              return { matrix, feature: plan.feature, version: plan.version, assets: s };
            },
            exactMaxShots: deps.config.matchcut.exactMaxShots,
            threads: Math.min(deps.config.matchcut.scoringThreads, os.availableParallelism()),
            onProgress: (p) => ctx.heartbeat(p),
            signal: ctx.cancellationSignal,
          },
        );
      } catch (err) {
        if (err instanceof PairInputError) throw badInput(err.message);
        throw err;
      }
      const sideOf = (title: string, shot: number, frames: [number, number]) => {
        const { span, shot: local } = assetShot(spans.get(title)!, shot);
        const fps = ratio(parseRational(span.frameRate)!);
        return {
          title,
          asset: span.asset,
          shot: local,
          frames,
          seconds: [frames[0] / fps, frames[1] / fps] as [number, number],
        };
      };
      const answer: MatchCutAnswer = {
        titles: q.titles,
        flavor: q.flavor,
        k: q.k,
        method: result.method,
        shots: result.shots,
        feature: result.feature,
        version: result.version,
        cacheKey,
        ms: result.ms,
        pairs: result.pairs.map((p) => ({
          score: p.score,
          a: sideOf(p.title1, p.shot1, p.frames1),
          b: sideOf(p.title2, p.shot2, p.frames2),
        })),
        skipped,
      };
      const execution = ctx.info.workflowExecution!;
      const { ref } = await insertValue(deps.db, {
        ...key,
        attempt: 0,
        titleId: undefined,
        value: matchCutAnswerSchema.parse(answer),
        object: undefined,
        codeHash: `matchcut-query@${MATCHCUT_QUERY_VERSION}`,
        workflowId: execution.workflowId,
        runId: execution.runId,
        worker: `${os.hostname()}/${process.pid}`,
        startedAt: started,
        finishedAt: new Date(),
        inputs: input.reprs.map((r) => ({ valueId: r.valueId }) as ValueRef),
        sinks: [],
      });
      return ref;
    },
  };
}
