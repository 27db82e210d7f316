import http from 'node:http';
import { collectStatus } from '../cli/status.ts';
import type { Config } from '../config/config.ts';
import type { Logger } from '../config/log.ts';
import { describeFeature, type FeatureRegistry } from '../features/registry.ts';
import { bearerAllowed } from './auth.ts';

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The api process's HTTP side: `/healthz` (open, for load balancers), `/v1/status` and `/v1/features`
 * (bearer token). The gRPC services join this process as they are built.
 */
export function createHttpApi(config: Config, registry: FeatureRegistry, log: Logger): http.Server {
  return http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://api');
      if (req.method !== 'GET') return send(res, 405, { error: `method ${req.method} not allowed` });
      if (url.pathname === '/healthz') return send(res, 200, { ok: true });
      if (!url.pathname.startsWith('/v1/')) return send(res, 404, { error: `no route ${url.pathname}` });
      if (!bearerAllowed(req.headers.authorization, config.api.tokens)) {
        res.setHeader('www-authenticate', 'Bearer');
        return send(res, 401, { error: 'missing or invalid bearer token' });
      }
      if (url.pathname === '/v1/status') return send(res, 200, await collectStatus(config));
      if (url.pathname === '/v1/features') {
        return send(res, 200, registry.list().map(describeFeature));
      }
      return send(res, 404, { error: `no route ${url.pathname}` });
    } catch (err) {
      log.error({ err }, 'request failed');
      return send(res, 500, { error: 'internal error' });
    }
  });
}
