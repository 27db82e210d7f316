import * as grpc from '@grpc/grpc-js';
import type { Config } from '../../config/config.ts';
import type { Annotation, EntityType, SearchResult } from '../../search/index.ts';
import type { Annotation__Output } from '../generated/mediamesh/v1/Annotation.ts';
import type { ListSchemasResponse__Output } from '../generated/mediamesh/v1/ListSchemasResponse.ts';
import type { SearchResponse__Output } from '../generated/mediamesh/v1/SearchResponse.ts';
import type { SearchServiceClient } from '../generated/mediamesh/v1/SearchService.ts';
import { apiEndpoint } from './connect.ts';
import { channelOptions, loadSearchPackage } from './proto.ts';
import { unaryCall } from './unary.ts';

/** A proto annotation back in the library's shape (payload parsed, empty strings → null), as HTTP returns it. */
export function fromProtoAnnotation(a: Annotation__Output): Annotation {
  return {
    id: a.id,
    runId: a.runId,
    type: a.type,
    schemaVersion: a.schemaVersion,
    entity: { type: (a.entity?.type ?? '') as EntityType, id: a.entity?.id ?? '' },
    titleId: a.titleId || null,
    producer: a.producer,
    valueId: a.valueId || null,
    temporal: {
      start: a.temporal?.start ?? 0,
      end: a.temporal?.end ?? 0,
      startSec: a.temporal?.startSec ?? 0,
      endSec: a.temporal?.endSec ?? 0,
    },
    spatial: a.spatial
      ? {
          x: a.spatial.x,
          y: a.spatial.y,
          w: a.spatial.w,
          h: a.spatial.h,
          ...(a.spatial.polygon.length
            ? { polygon: a.spatial.polygon.map((p) => [p.x, p.y] as [number, number]) }
            : {}),
        }
      : null,
    payload: JSON.parse(a.payloadJson),
    ...(a.vector.length ? { vector: a.vector } : {}),
    ...(a.score === undefined ? {} : { score: a.score }),
  };
}

/** A SearchResponse as the library's SearchResult (plus the server's time), the shape HTTP returns. */
export function fromSearchResponse(r: SearchResponse__Output): SearchResult & { tookMs: number } {
  return {
    hits: r.hits.map(fromProtoAnnotation),
    ...(r.grouped
      ? {
          groups: r.groups.map((g) => ({
            key: JSON.parse(g.keyJson) as string | number | boolean | null,
            count: Number(g.count),
            hits: g.hits.map(fromProtoAnnotation),
          })),
        }
      : {}),
    nextCursor: r.nextCursor || null,
    tookMs: r.tookMs,
  };
}

type Method = 'Search' | 'GetAnnotation' | 'ListSchemas';

/** A SearchService client that sends `authorization: Bearer <token>` with every call. */
export class SearchApi {
  readonly raw: SearchServiceClient;

  constructor(
    address: string,
    private readonly token: string | undefined,
  ) {
    const { proto } = loadSearchPackage();
    this.raw = new proto.mediamesh.v1.SearchService(
      address,
      grpc.credentials.createInsecure(),
      channelOptions,
    );
  }

  #call<Req, Res>(method: Method, request: Req, timeoutMs: number): Promise<Res> {
    return unaryCall(this.raw, method, request, this.token, timeoutMs);
  }

  /** Runs a query: JSON text is sent as is (the server validates it), anything else is serialized first. */
  search(query: unknown, timeoutMs = 30_000): Promise<SearchResponse__Output> {
    const queryJson = typeof query === 'string' ? query : JSON.stringify(query);
    return this.#call('Search', { queryJson }, timeoutMs);
  }

  getAnnotation(id: string, includeVector = false, timeoutMs = 30_000): Promise<Annotation__Output> {
    return this.#call('GetAnnotation', { id, includeVector }, timeoutMs);
  }

  listSchemas(timeoutMs = 30_000): Promise<ListSchemasResponse__Output> {
    return this.#call('ListSchemas', {}, timeoutMs);
  }

  close(): void {
    this.raw.close();
  }
}

/** The SearchService of the configured api (see `apiEndpoint`). */
export function connectSearchApi(config: Config): SearchApi {
  const { address, token } = apiEndpoint(config);
  return new SearchApi(address, token);
}
