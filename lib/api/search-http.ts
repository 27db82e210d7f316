// Search as JSON over HTTP (for the editor page and anything without gRPC): the SearchService's core with the same
// limits and the same errors, each gRPC code mapped to an HTTP status. Bearer token like every /v1/ route.
//   POST /v1/search                    body: the DSL query (JSON) → {hits, groups?, nextCursor, tookMs}
//   GET  /v1/annotations/<id>          ?includeVector=true → the annotation
//   GET  /v1/annotation-schemas        → [{name, version, description, spatial, payloadSchema}]
import type http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../config/log.ts';
import type { AnnotationStore } from '../search/index.ts';
import {
  describeSchemas,
  getAnnotation,
  MAX_REQUEST_BYTES,
  runSearch,
  SearchCallError,
  toSearchCallError,
} from './grpc/search-service.ts';
import { type HttpRoute, send } from './http.ts';

/** Bodies past this are not even drained: the connection is closed. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

const HTTP_STATUS: Partial<Record<grpc.status, number>> = {
  [grpc.status.INVALID_ARGUMENT]: 400,
  [grpc.status.UNAUTHENTICATED]: 401,
  [grpc.status.NOT_FOUND]: 404,
  // Over a query limit (result size, predicates, vector candidates, the statement timeout).
  [grpc.status.RESOURCE_EXHAUSTED]: 422,
};

/** The error body: the gRPC code's name, the message the gRPC status would carry, and the DSL's issues. */
function sendError(res: http.ServerResponse, e: SearchCallError, httpStatus?: number): void {
  send(res, httpStatus ?? HTTP_STATUS[e.code] ?? 500, {
    code: grpc.status[e.code],
    error: e.message,
    ...(e.issues.length ? { issues: e.issues } : {}),
  });
}

class BodyTooLarge extends Error {}

/** The body as text, up to `max` bytes; past that, drains it (to answer cleanly) and throws BodyTooLarge. */
function readBody(req: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > DRAIN_LIMIT) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      if (size > DRAIN_LIMIT) req.destroy();
      if (!over) chunks.push(chunk);
    });
    req.on('end', () =>
      over ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
    req.on('close', () => {
      if (over) reject(new BodyTooLarge());
    });
  });
}

export function searchRoutes(store: AnnotationStore, log: Logger): HttpRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/search',
      auth: true,
      handle: async (req, res) => {
        let body: string;
        try {
          body = await readBody(req, MAX_REQUEST_BYTES);
        } catch (err) {
          if (!(err instanceof BodyTooLarge)) throw err;
          if (!req.complete) res.setHeader('connection', 'close');
          return sendError(
            res,
            new SearchCallError(
              grpc.status.RESOURCE_EXHAUSTED,
              `request larger than ${MAX_REQUEST_BYTES} bytes`,
            ),
            413,
          );
        }
        try {
          const { result, tookMs } = await runSearch(store, body, log, 'POST /v1/search');
          send(res, 200, { ...result, tookMs });
        } catch (err) {
          sendError(res, toSearchCallError(err, log, 'POST /v1/search'));
        }
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/annotations\/([^/]+)$/,
      auth: true,
      handle: async (_req, res, url, [id]) => {
        try {
          const include = url.searchParams.get('includeVector') === 'true';
          send(res, 200, await getAnnotation(store, id ?? '', include, log));
        } catch (err) {
          sendError(res, toSearchCallError(err, log, 'GET /v1/annotations'));
        }
      },
    },
    {
      method: 'GET',
      path: '/v1/annotation-schemas',
      auth: true,
      handle: async (_req, res) => send(res, 200, describeSchemas(store)),
    },
  ];
}
