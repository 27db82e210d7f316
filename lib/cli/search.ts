// `mediamesh search '<json>'`: the annotation query DSL through the gRPC SearchService, as a table or JSON.
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from 'commander';
import { connectSearchApi, fromSearchResponse } from '../api/grpc/search-client.ts';
import type { Config } from '../config/config.ts';
import type { Annotation, SearchResult } from '../search/index.ts';
import { ApiCallError } from './api-commands.ts';
import { table } from './table.ts';

export interface SearchCommandOptions {
  file?: string;
  cursor?: string;
  json?: boolean;
}

/** The query text: the argument, or the file (`-` for stdin); with --cursor, the query continued from it. */
export function searchQueryText(query: string | undefined, opts: SearchCommandOptions): string {
  if (query !== undefined && opts.file !== undefined)
    throw new InvalidArgumentError('give the query as an argument or with --file, not both');
  let text: string;
  if (opts.file !== undefined) {
    try {
      text = fs.readFileSync(opts.file === '-' ? 0 : opts.file, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(`cannot read ${opts.file}: ${(err as Error).message}`);
    }
  } else if (query !== undefined) {
    text = query;
  } else {
    throw new InvalidArgumentError(
      `give a query, e.g. mediamesh search '{"where": {"type": "shot"}, "limit": 10}'`,
    );
  }
  if (opts.cursor === undefined) return text;
  // The server validates the query; here it only needs to be an object to take the cursor.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text; // sent as is: the server's error names the problem
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return text;
  return JSON.stringify({ ...parsed, cursor: opts.cursor });
}

const num = (n: number, digits = 3) => String(Number(n.toFixed(digits)));

function hitRow(a: Annotation, withScore: boolean): string[] {
  const s = a.spatial;
  const payload = JSON.stringify(a.payload);
  return [
    a.id,
    `${a.type}@${a.schemaVersion}`,
    `${a.entity.type}:${a.entity.id.length > 24 ? `${a.entity.id.slice(0, 12)}…${a.entity.id.slice(-8)}` : a.entity.id}`,
    a.titleId ?? '',
    `${a.temporal.start}–${a.temporal.end}`,
    `${num(a.temporal.startSec, 2)}–${num(a.temporal.endSec, 2)}`,
    s ? `${num(s.x)},${num(s.y)} ${num(s.w)}×${num(s.h)}` : '',
    ...(withScore ? [a.score === undefined ? '' : num(a.score, 4)] : []),
    payload.length > 60 ? `${payload.slice(0, 59)}…` : payload,
  ];
}

function hitsTable(hits: Annotation[], withScore: boolean): string {
  const t = table([
    'id',
    'type',
    'entity',
    'title',
    'frames',
    'seconds',
    'region',
    ...(withScore ? ['score'] : []),
    'payload',
  ]);
  for (const h of hits) t.push(hitRow(h, withScore));
  return t.toString();
}

export function renderSearch(r: SearchResult & { tookMs: number }): string {
  const lines: string[] = [];
  const all = [...r.hits, ...(r.groups ?? []).flatMap((g) => g.hits)];
  const withScore = all.some((h) => h.score !== undefined);
  if (r.groups) {
    const t = table(['group', 'count', 'top hits']);
    for (const g of r.groups)
      t.push([JSON.stringify(g.key), String(g.count), g.hits.map((h) => h.id).join(', ')]);
    lines.push(t.toString());
    if (all.length) lines.push(hitsTable(all, withScore));
    lines.push(`${r.groups.length} group${r.groups.length === 1 ? '' : 's'} in ${num(r.tookMs, 1)} ms`);
  } else {
    if (r.hits.length) lines.push(hitsTable(r.hits, withScore));
    lines.push(`${r.hits.length} hit${r.hits.length === 1 ? '' : 's'} in ${num(r.tookMs, 1)} ms`);
  }
  if (r.nextCursor) lines.push(`more: --cursor ${r.nextCursor}`);
  return lines.join('\n');
}

export async function searchCommand(
  config: Config,
  query: string | undefined,
  opts: SearchCommandOptions,
): Promise<void> {
  const text = searchQueryText(query, opts);
  const client = connectSearchApi(config);
  try {
    const result = fromSearchResponse(await client.search(text));
    process.stdout.write(`${opts.json ? JSON.stringify(result, null, 2) : renderSearch(result)}\n`);
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (typeof e.code === 'number' && e.details !== undefined)
      throw new ApiCallError(`${grpc.status[e.code]}: ${e.details}`);
    throw err;
  } finally {
    client.close();
  }
}
