import http from 'node:http';
import { collectStatus } from '../cli/status.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../config/log.ts';
import { describeFeature, type FeatureRegistry } from '../features/registry.ts';
import { bearerAllowed } from './auth.ts';

export function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** One HTTP route of the api process. Modules add theirs (search, the editor page …) to `createHttpApi`. */
export interface HttpRoute {
  method: 'GET' | 'POST';
  /** Exact path, or a pattern (its groups are passed on as `params`). */
  path: string | RegExp;
  /** Whether the route needs a bearer token (every /v1/ route does; a page and its assets may not). */
  auth: boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, params: string[]): Promise<void>;
}

function builtinRoutes(config: Config, registry: FeatureRegistry): HttpRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/status',
      auth: true,
      handle: async (_req, res) => send(res, 200, await collectStatus(config)),
    },
    {
      method: 'GET',
      path: '/v1/features',
      auth: true,
      handle: async (_req, res) => send(res, 200, registry.list().map(describeFeature)),
    },
  ];
}

/**
 * The api process's HTTP side: `/healthz` (open, for load balancers), `/v1/status` and `/v1/features`
 * (bearer token), plus the routes other modules bring.
 */
export function createHttpApi(
  config: Config,
  registry: FeatureRegistry,
  log: Logger,
  extra: HttpRoute[] = [],
): http.Server {
  const routes = [...builtinRoutes(config, registry), ...extra];
  return http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://api');
      if (url.pathname === '/healthz') {
        return req.method === 'GET'
          ? send(res, 200, { ok: true })
          : send(res, 405, { error: `method ${req.method} not allowed` });
      }
      let pathMatched = false;
      for (const route of routes) {
        const m =
          typeof route.path === 'string'
            ? route.path === url.pathname
              ? []
              : null
            : url.pathname.match(route.path)?.slice(1);
        if (!m) continue;
        pathMatched = true;
        if (route.method !== req.method) continue;
        if (route.auth && !bearerAllowed(req.headers.authorization, config.api.tokens)) {
          res.setHeader('www-authenticate', 'Bearer');
          return send(res, 401, { error: 'missing or invalid bearer token' });
        }
        return await route.handle(req, res, url, m);
      }
      if (pathMatched)
        return send(res, 405, { error: `method ${req.method} not allowed on ${url.pathname}` });
      return send(res, 404, { error: `no route ${url.pathname}` });
    } catch (err) {
      log.error({ err }, 'request failed');
      if (!res.headersSent) return send(res, 500, { error: 'internal error' });
      res.destroy();
    }
  });
}
