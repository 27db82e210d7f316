// The SearchService: the annotation query DSL (lib/search) over gRPC. The query travels as JSON text, so the DSL
// is defined and validated in one place (zod, with precise paths); this module maps its errors to gRPC codes and
// its results to messages. The HTTP route (lib/api/search-http.ts) shares the same core: one set of limits and
// one mapping of errors, two transports.
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import type { Config } from '../../config/config.ts';
import type { Logger } from '../../config/log.ts';
import {
  type Annotation,
  type AnnotationSchema,
  type AnnotationStore,
  type IssueAt,
  SearchQueryError,
  type SearchResult,
} from '../../search/index.ts';
import { bearerAllowed } from '../auth.ts';
import type { Annotation as ProtoAnnotation } from '../generated/mediamesh/v1/Annotation.ts';
import type { AnnotationSchemaInfo } from '../generated/mediamesh/v1/AnnotationSchemaInfo.ts';
import type { SearchResponse } from '../generated/mediamesh/v1/SearchResponse.ts';
import type { SearchServiceHandlers } from '../generated/mediamesh/v1/SearchService.ts';
import { ApiError } from './errors.ts';
import { channelOptions } from './proto.ts';

export const SEARCH_SERVICE = 'mediamesh.v1.SearchService';

export interface SearchServiceDeps {
  store: AnnotationStore;
  config: Config;
  log: Logger;
}

/** Largest request either transport accepts (gRPC: the channel's receive limit; HTTP: the body). */
export const MAX_REQUEST_BYTES = channelOptions['grpc.max_receive_message_length'] as number;
/** Largest result either transport sends (the channel's send limit, less room for framing). */
export const MAX_RESPONSE_BYTES = (channelOptions['grpc.max_send_message_length'] as number) - 64 * 1024;

/** A failed search call: the gRPC code, a message safe to show, and the DSL's issues (path, message) if any. */
export class SearchCallError extends Error {
  override name = 'SearchCallError';
  constructor(
    readonly code: grpc.status,
    message: string,
    readonly issues: IssueAt[] = [],
  ) {
    super(message);
  }
}

const SEARCH_CODES: Record<SearchQueryError['code'], grpc.status> = {
  invalid: grpc.status.INVALID_ARGUMENT,
  limit: grpc.status.RESOURCE_EXHAUSTED,
  timeout: grpc.status.RESOURCE_EXHAUSTED,
  not_found: grpc.status.NOT_FOUND,
};

/** What a client can act on; anything unexpected is INTERNAL and logged (its message is not shown). */
export function toSearchCallError(err: unknown, log: Logger, method: string): SearchCallError {
  if (err instanceof SearchCallError) return err;
  if (err instanceof ApiError) return new SearchCallError(err.code, err.message);
  if (err instanceof SearchQueryError)
    return new SearchCallError(SEARCH_CODES[err.code], err.message, err.issues);
  const e = err as { code?: string; message?: string };
  // Numbers Postgres cannot hold (an id past int8, a frame past int4) are the query's fault, not ours.
  if (e.code === '22003')
    return new SearchCallError(
      grpc.status.INVALID_ARGUMENT,
      `a number in the query is out of range: ${e.message}`,
    );
  log.error({ err, method }, 'search request failed');
  return new SearchCallError(grpc.status.INTERNAL, 'internal error (see the api log)');
}

// ---- the transport-neutral core ------------------------------------------------------------------------------

export interface SearchOutcome {
  result: SearchResult;
  tookMs: number;
}

/** Rough encoded size of a hit: what the result-size limit counts (either transport's encoding is near it). */
function hitBytes(a: Annotation): number {
  return (
    200 +
    a.id.length +
    a.entity.id.length +
    (a.titleId?.length ?? 0) +
    a.producer.length +
    a.type.length +
    JSON.stringify(a.payload ?? null).length +
    (a.spatial?.polygon?.length ?? 0) * 24 +
    (a.vector?.length ?? 0) * 12
  );
}

export function resultBytes(r: SearchResult): number {
  let n = 0;
  for (const h of r.hits) n += hitBytes(h);
  for (const g of r.groups ?? []) {
    n += 32 + JSON.stringify(g.key).length;
    for (const h of g.hits) n += hitBytes(h);
  }
  return n;
}

/** Runs a query given as JSON text; SearchCallError for anything the caller should see. */
export async function runSearch(
  store: AnnotationStore,
  queryJson: string,
  log: Logger,
  method = 'Search',
): Promise<SearchOutcome> {
  const t0 = performance.now();
  try {
    if (Buffer.byteLength(queryJson) > MAX_REQUEST_BYTES)
      throw new SearchCallError(
        grpc.status.RESOURCE_EXHAUSTED,
        `request larger than ${MAX_REQUEST_BYTES} bytes`,
      );
    if (queryJson.trim() === '')
      throw new SearchCallError(
        grpc.status.INVALID_ARGUMENT,
        'empty query: give a JSON object, e.g. {"limit": 10}',
        [{ path: '', message: 'empty query' }],
      );
    const result = await store.search(queryJson);
    const bytes = resultBytes(result);
    if (bytes > MAX_RESPONSE_BYTES)
      throw new SearchCallError(
        grpc.status.RESOURCE_EXHAUSTED,
        `the result would be about ${(bytes / 2 ** 20).toFixed(1)} MB, over the ${(MAX_RESPONSE_BYTES / 2 ** 20).toFixed(1)} MB limit: lower limit (or groupBy.top), or leave out includeVectors`,
        [{ path: 'limit', message: 'result too large' }],
      );
    return { result, tookMs: performance.now() - t0 };
  } catch (err) {
    throw toSearchCallError(err, log, method);
  }
}

const annotationId = z
  .string()
  .regex(/^[1-9]\d{0,18}$/, 'expected an annotation id (a decimal integer string)');
const INT8_MAX = 2n ** 63n - 1n;

/** One visible annotation by id; NOT_FOUND when no current run has it. */
export async function getAnnotation(
  store: AnnotationStore,
  id: string,
  includeVector: boolean,
  log: Logger,
): Promise<Annotation> {
  try {
    const parsed = annotationId.safeParse(id);
    if (!parsed.success || BigInt(id) > INT8_MAX)
      throw new SearchCallError(
        grpc.status.INVALID_ARGUMENT,
        'id: expected an annotation id (a decimal integer string)',
        [{ path: 'id', message: 'expected an annotation id (a decimal integer string)' }],
      );
    const r = await store.search({ where: { id }, limit: 1, includeVectors: includeVector });
    const hit = r.hits[0];
    if (!hit) throw new SearchCallError(grpc.status.NOT_FOUND, `annotation ${id} not found`);
    return hit;
  } catch (err) {
    throw toSearchCallError(err, log, 'GetAnnotation');
  }
}

export interface SchemaDescription {
  name: string;
  version: number;
  description: string;
  spatial: 'required' | 'optional' | 'none';
  payloadSchema: unknown;
}

const described = new WeakMap<AnnotationStore, { count: number; schemas: SchemaDescription[] }>();

/** The store's schemas with their payload JSON Schema (computed once per set of registered schemas). */
export function describeSchemas(store: AnnotationStore): SchemaDescription[] {
  const list = store.registry.list();
  const cached = described.get(store);
  if (cached && cached.count === list.length) return cached.schemas;
  const schemas = list.map((s: AnnotationSchema) => ({
    name: s.name,
    version: s.version,
    description: s.description,
    spatial: s.spatial ?? 'optional',
    payloadSchema: z.toJSONSchema(s.payload, { unrepresentable: 'any' }),
  }));
  described.set(store, { count: list.length, schemas });
  return schemas;
}

// ---- gRPC ----------------------------------------------------------------------------------------------------

export function toProtoAnnotation(a: Annotation): ProtoAnnotation {
  return {
    id: a.id,
    runId: a.runId,
    type: a.type,
    schemaVersion: a.schemaVersion,
    entity: { type: a.entity.type, id: a.entity.id },
    titleId: a.titleId ?? '',
    producer: a.producer,
    valueId: a.valueId ?? '',
    temporal: {
      start: a.temporal.start,
      end: a.temporal.end,
      startSec: a.temporal.startSec,
      endSec: a.temporal.endSec,
    },
    spatial: a.spatial
      ? {
          x: a.spatial.x,
          y: a.spatial.y,
          w: a.spatial.w,
          h: a.spatial.h,
          polygon: (a.spatial.polygon ?? []).map(([x, y]) => ({ x, y })),
        }
      : null,
    payloadJson: JSON.stringify(a.payload ?? null),
    vector: a.vector ?? [],
    ...(a.score === undefined ? {} : { score: a.score }),
  };
}

export function toSearchResponse({ result, tookMs }: SearchOutcome): SearchResponse {
  return {
    hits: result.hits.map(toProtoAnnotation),
    groups: (result.groups ?? []).map((g) => ({
      keyJson: JSON.stringify(g.key),
      count: String(g.count),
      hits: g.hits.map(toProtoAnnotation),
    })),
    grouped: result.groups !== undefined,
    nextCursor: result.nextCursor ?? '',
    tookMs,
  };
}

export function createSearchService(deps: SearchServiceDeps): SearchServiceHandlers {
  const { store, config, log } = deps;

  const authorize = (metadata: grpc.Metadata) => {
    const header = metadata.get('authorization')[0];
    if (!bearerAllowed(typeof header === 'string' ? header : undefined, config.api.tokens))
      throw new SearchCallError(
        grpc.status.UNAUTHENTICATED,
        'missing or invalid bearer token (metadata authorization: Bearer <token>)',
      );
  };

  const unary =
    <Req, Res>(method: string, fn: (req: Req) => Promise<Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      (async () => {
        authorize(call.metadata);
        return fn(call.request);
      })().then(
        (res) => callback(null, res),
        (err) => {
          const e = toSearchCallError(err, log, method);
          callback({ code: e.code, details: e.message });
        },
      );
    };

  return {
    Search: unary('Search', async (req) => toSearchResponse(await runSearch(store, req.queryJson, log))),

    GetAnnotation: unary('GetAnnotation', async (req) =>
      toProtoAnnotation(await getAnnotation(store, req.id, req.includeVector, log)),
    ),

    ListSchemas: unary(
      'ListSchemas',
      async (): Promise<{ schemas: AnnotationSchemaInfo[] }> => ({
        schemas: describeSchemas(store).map((s) => ({
          name: s.name,
          version: s.version,
          description: s.description,
          spatial: s.spatial,
          payloadSchemaJson: JSON.stringify(s.payloadSchema),
        })),
      }),
    ),
  };
}
