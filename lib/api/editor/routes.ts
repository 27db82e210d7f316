// The editor page and its JSON/media API, served by the api process (HttpRoute modules for createHttpApi):
//   GET  /editor, /editor/{editor.js,editor.css,favicon.svg}   the page (no token)
//   GET  /v1/editor/titles                                      titles with assets, and the served flavors
//   POST /v1/editor/matchcut                                    run or join a match-cut query; long-polls the answer
//   GET  /v1/editor/matchcut/<id>/progress                      the query workflow's `progress`
//   GET  /v1/editor/frame?asset=&frame=&width=                  one derivative frame as a JPEG
//   GET  /v1/editor/preview?a=<hash>:<s>-<e>&b=<hash>:<s>-<e>   the cut from shot A to shot B as an MP4
//   GET  /v1/editor/status?titles=a,b                           feature-run status from the title workflows
// Every /v1/editor/ route needs the bearer token. Assets are named by content hash only: no path reaches a file.
import fs from 'node:fs';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import type { MatchCutAnswer } from '../../../activities/matchcut.ts';
import type { TitleStatus } from '../../../workflows/title.ts';
import { BadInputError } from '../../features/definition.ts';
import { titleWorkflowId } from '../../features/refs.ts';
import { readMatchCutAnswer, startMatchCut } from '../../matchcut/client.ts';
import type { MatchCutProgress } from '../../matchcut/request.ts';
import { titleIdSchema } from '../../triggers/title-rule.ts';
import type { TriggerServiceDeps } from '../grpc/trigger-service.ts';
import { type HttpRoute, send } from '../http.ts';
import { badRequest, HttpError, handled, notFound, parseWith, queryObject, readJson } from './http-util.ts';
import { EditorMedia, type Span } from './media.ts';

/** The editor needs what the TriggerService does: the store, Temporal, config, features, objects, a logger. */
export type EditorDeps = TriggerServiceDeps;

const REPR_PREFIX = 'matchcut-repr:';
const MAX_TITLES = 50;
export const MAX_K = 200;
/** Longest a POST /v1/editor/matchcut waits for the answer before answering 202 (the page asks again). */
export const MAX_WAIT_SECONDS = 30;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 content hash (64 lowercase hex digits)');
const wholeNumber = (what: string) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be ${what} (a whole number ≥ 0)`)
    .transform(Number);

const titleList = z
  .array(titleIdSchema)
  .min(1, 'choose at least one title')
  .max(MAX_TITLES, `at most ${MAX_TITLES} titles`)
  .superRefine((titles, ctx) => {
    const seen = new Set<string>();
    for (const t of titles) {
      if (seen.has(t)) ctx.addIssue({ code: 'custom', message: `title ${t} is given twice` });
      seen.add(t);
    }
  });

const matchCutBody = z
  .object({
    titles: titleList,
    flavor: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a flavor name such as frame or motion'),
    k: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_K, `must be at most ${MAX_K}`),
    wait: z.number().min(0).max(MAX_WAIT_SECONDS, `must be at most ${MAX_WAIT_SECONDS} s`).default(20),
  })
  .strict();

const progressId = z
  .string()
  .transform((s) => {
    try {
      return decodeURIComponent(s).replace(/^matchcut\//, '');
    } catch {
      return s;
    }
  })
  .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'must be a match-cut workflow id (matchcut/<sha256>)'));

const frameQuery = z
  .object({
    asset: sha256,
    frame: wholeNumber('a frame index'),
    width: wholeNumber('a width in pixels')
      .pipe(z.number().min(16, 'must be at least 16').max(1280, 'must be at most 1280'))
      .default(320),
  })
  .strict();

const span = z
  .string()
  .regex(
    /^[0-9a-f]{64}:\d{1,9}-\d{1,9}$/,
    "must be <sha256>:<start>-<end> (the shot's derivative frames, end exclusive)",
  )
  .transform((s): Span => {
    const [asset, range] = s.split(':') as [string, string];
    const [start, end] = range.split('-').map(Number) as [number, number];
    return { asset, start, end };
  })
  .refine((s) => s.end > s.start, { message: 'the end frame must be greater than the start frame' });

const previewQuery = z.object({ a: span, b: span }).strict();

const statusQuery = z
  .object({
    titles: z
      .string()
      .transform((s) => s.split(',').filter(Boolean))
      .pipe(titleList),
  })
  .strict();

interface FeatureSummary {
  feature: string;
  done: number;
  running: number;
  pending: number;
  failed: number;
  total: number;
  lastError: string | null;
}

export interface EditorTitleStatus {
  titleId: string;
  found: boolean;
  assets: number;
  features: FeatureSummary[];
  totals: { done: number; running: number; pending: number; failed: number };
}

/** Per feature of a title: how many of its assets are in each state. */
export function summarizeTitle(status: TitleStatus): EditorTitleStatus {
  const byFeature = new Map<string, FeatureSummary>();
  const entry = (feature: string) => {
    let e = byFeature.get(feature);
    if (!e) {
      e = { feature, done: 0, running: 0, pending: 0, failed: 0, total: 0, lastError: null };
      byFeature.set(feature, e);
    }
    return e;
  };
  for (const f of status.features) entry(f);
  for (const a of status.assets) {
    for (const f of a.features) {
      const e = entry(f.feature);
      e[f.state]++;
      e.total++;
      if (f.lastError) e.lastError = f.lastError;
    }
  }
  return {
    titleId: status.titleId,
    found: true,
    assets: status.assets.length,
    features: [...byFeature.values()],
    totals: { done: status.done, running: status.running, pending: status.pending, failed: status.failed },
  };
}

function failureText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
  }
  // The innermost message says what is wrong; the outer ones only that a workflow or activity failed.
  return parts.at(-1) ?? 'the match-cut query failed';
}

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'editor.js': { file: 'editor.js', type: 'text/javascript; charset=utf-8' },
  'editor.css': { file: 'editor.css', type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self' blob:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

async function servePage(res: http.ServerResponse, name: string): Promise<void> {
  const entry = PAGE_FILES[name];
  if (!entry) return send(res, 404, { error: `no editor file ${name}` });
  const body = await fs.promises.readFile(`${PAGE_DIR}${entry.file}`);
  res.writeHead(200, { ...PAGE_HEADERS, 'content-type': entry.type, 'content-length': body.length });
  res.end(body);
}

/** Sends a stored file, honouring one `Range: bytes=a-b` (video elements seek with it). */
async function sendFile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  file: string,
  headers: Record<string, string>,
): Promise<void> {
  const size = (await fs.promises.stat(file)).size;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range && (range[1] || range[2])) {
    if (range[1]) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), size - 1);
    } else start = Math.max(0, size - Number(range[2]));
    if (start > end || start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      return void res.end();
    }
    status = 206;
  }
  res.writeHead(status, {
    ...headers,
    'accept-ranges': 'bytes',
    'content-length': end - start + 1,
    ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file, { start, end })
      .on('error', reject)
      .pipe(res)
      .on('finish', resolve)
      .on('close', resolve)
      .on('error', reject);
  });
}

export function editorRoutes(deps: EditorDeps): HttpRoute[] {
  const { db, client, config, registry, objects } = deps;
  const media = new EditorMedia(deps);
  const flavors = () =>
    registry
      .list()
      .filter((f) => f.name.startsWith(REPR_PREFIX))
      .map((f) => f.name.slice(REPR_PREFIX.length))
      .sort();

  const progressOf = async (workflowId: string) => {
    const handle = client.workflow.getHandle(workflowId);
    try {
      const d = await handle.describe();
      const progress = await handle.query<MatchCutProgress>('progress').catch(() => null);
      return { workflowId, status: d.status.name, progress };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw notFound(`no match-cut query ${workflowId}`);
      throw err;
    }
  };

  /**
   * Runs `f` (its Temporal calls) until it settles, `ms` pass or the HTTP client goes away; undefined when cut
   * short.
   */
  const longPoll = async <T>(res: http.ServerResponse, ms: number, f: () => Promise<T>) => {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), ms);
    const gone = () => stop.abort();
    res.once('close', gone);
    try {
      return await client.withAbortSignal(stop.signal, f);
    } catch (err) {
      if (stop.signal.aborted && !(err instanceof WorkflowFailedError)) return undefined;
      throw err;
    } finally {
      clearTimeout(timer);
      res.off('close', gone);
    }
  };

  const runMatchCut = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const body = parseWith(matchCutBody, await readJson(req));
    const served = flavors();
    if (!served.includes(body.flavor)) {
      throw badRequest(`flavor: unknown match-cut flavor "${body.flavor}" (served: ${served.join(', ')})`);
    }
    const known = await db.title.findMany({
      where: { id: { in: body.titles }, members: { some: {} } },
      select: { id: true },
    });
    const missing = body.titles.filter((t) => !known.some((k) => k.id === t));
    if (missing.length) throw notFound(`titles: no asset has landed for ${missing.join(', ')}`);
    let handle: Awaited<ReturnType<typeof startMatchCut>>;
    try {
      handle = await startMatchCut(client, config, { titles: body.titles, flavor: body.flavor, k: body.k });
    } catch (err) {
      if (err instanceof BadInputError) throw badRequest(err.message);
      throw err;
    }
    const id = handle.workflowId.replace(/^matchcut\//, '');
    let answer: { ref: Awaited<ReturnType<typeof handle.result>>; answer: MatchCutAnswer } | undefined;
    const read = async () => {
      const ref = await handle.result();
      return { ref, answer: await readMatchCutAnswer(db, ref) };
    };
    try {
      if (body.wait === 0) {
        // Start (or join) and answer at once: the answer when the run has already finished, else its id.
        if ((await handle.describe()).status.name === 'COMPLETED') answer = await read();
      } else {
        answer = await longPoll(res, body.wait * 1000, read);
      }
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new HttpError(422, failureText(err));
      throw err;
    }
    if (res.destroyed) return;
    if (answer) {
      return send(res, 200, {
        state: 'done',
        workflowId: handle.workflowId,
        id,
        valueId: answer.ref.valueId,
        memoHit: answer.ref.memoHit,
        answer: answer.answer,
      });
    }
    const progress = await handle.query<MatchCutProgress>('progress').catch(() => null);
    send(res, 202, { state: 'running', workflowId: handle.workflowId, id, progress });
  };

  const titleStatus = async (titleId: string): Promise<EditorTitleStatus> => {
    try {
      return summarizeTitle(
        await client.workflow.getHandle(titleWorkflowId(titleId)).query<TitleStatus>('status'),
      );
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      return {
        titleId,
        found: false,
        assets: 0,
        features: [],
        totals: { done: 0, running: 0, pending: 0, failed: 0 },
      };
    }
  };

  return [
    { method: 'GET', path: /^\/editor\/?$/, auth: false, handle: (_req, res) => servePage(res, '') },
    {
      method: 'GET',
      path: /^\/editor\/([a-z]{1,32}\.(?:js|css|svg))$/,
      auth: false,
      handle: (_req, res, _url, [name]) => servePage(res, name!),
    },
    {
      method: 'GET',
      path: '/v1/editor/titles',
      auth: true,
      handle: (_req, res, url) =>
        handled(res, async () => {
          parseWith(z.object({}).strict(), queryObject(url));
          const titles = await db.title.findMany({
            where: { members: { some: {} } },
            select: { id: true, name: true, _count: { select: { members: true } } },
            orderBy: { id: 'asc' },
            take: 1000,
          });
          send(res, 200, {
            titles: titles.map((t) => ({ id: t.id, name: t.name, assets: t._count.members })),
            flavors: flavors(),
            maxK: MAX_K,
          });
        }),
    },
    {
      method: 'POST',
      path: '/v1/editor/matchcut',
      auth: true,
      handle: (req, res) => handled(res, () => runMatchCut(req, res)),
    },
    {
      method: 'GET',
      path: /^\/v1\/editor\/matchcut\/(.{1,200})\/progress$/,
      auth: true,
      handle: (_req, res, _url, [raw]) =>
        handled(res, async () => {
          const id = parseWith(z.object({ id: progressId }), { id: raw }).id;
          send(res, 200, await progressOf(`matchcut/${id}`));
        }),
    },
    {
      method: 'GET',
      path: '/v1/editor/frame',
      auth: true,
      handle: (_req, res, url) =>
        handled(res, async () => {
          const q = parseWith(frameQuery, queryObject(url));
          const jpeg = await media.frameJpeg(q.asset, q.frame, q.width);
          res.writeHead(200, {
            'content-type': 'image/jpeg',
            'content-length': jpeg.length,
            'cache-control': 'private, max-age=86400',
            'x-content-type-options': 'nosniff',
          });
          res.end(jpeg);
        }),
    },
    {
      method: 'GET',
      path: '/v1/editor/preview',
      auth: true,
      handle: (req, res, url) =>
        handled(res, async () => {
          const q = parseWith(previewQuery, queryObject(url));
          const { ref, seconds, sound } = await media.preview(q.a, q.b);
          await sendFile(req, res, await objects.localPath(ref), {
            'content-type': 'video/mp4',
            'cache-control': 'private, max-age=86400',
            etag: `"${ref.sha256}"`,
            'x-preview-seconds': seconds.toFixed(3),
            'x-preview-sound': sound ? 'yes' : 'no',
            'x-content-type-options': 'nosniff',
          });
        }),
    },
    {
      method: 'GET',
      path: '/v1/editor/status',
      auth: true,
      handle: (_req, res, url) =>
        handled(res, async () => {
          const q = parseWith(statusQuery, queryObject(url));
          send(res, 200, { titles: await Promise.all(q.titles.map(titleStatus)) });
        }),
    },
  ];
}
