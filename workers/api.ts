import { editorRoutes } from '../lib/api/editor/routes.ts';
import { startGrpcServer } from '../lib/api/grpc/server.ts';
import { createHttpApi } from '../lib/api/http.ts';
import { searchRoutes } from '../lib/api/search-http.ts';
import { type Config, loadConfig } from '../lib/config/config.ts';
import { createLogger } from '../lib/config/log.ts';
import { AnnotationStore } from '../lib/search/index.ts';
import { resolveDatabaseUrl } from '../lib/stack/endpoints.ts';
import { openLandingDeps, untilSignalled } from './services.ts';

/** The api process: gRPC TriggerService and SearchService (+ health, reflection) and HTTP, until SIGINT/SIGTERM. */
export async function runApi(config: Config = loadConfig()): Promise<void> {
  const log = createLogger(config, 'api', true);
  if (config.api.tokens.length === 0)
    log.warn('MEDIAMESH_API_TOKENS is empty: every authenticated call is refused');
  const deps = await openLandingDeps(config, log);
  const annotations = AnnotationStore.connect(resolveDatabaseUrl(config));
  const http = createHttpApi(config, deps.registry, log, [
    ...searchRoutes(annotations, log),
    ...editorRoutes(deps),
  ]);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.api.port, config.api.host, () => resolve());
  });
  const grpc = await startGrpcServer({ ...deps, annotations }, config.api.host, config.api.grpcPort);
  log.info({ host: config.api.host, http: config.api.port, grpc: grpc.port }, 'api listening');
  await untilSignalled();
  grpc.health.setStatus('', 'NOT_SERVING');
  await Promise.all([
    new Promise<void>((resolve) => grpc.server.tryShutdown(() => resolve())),
    new Promise<void>((resolve) => http.close(() => resolve())),
  ]);
  await Promise.all([deps.close(), annotations.close()]);
  log.info('api stopped');
}
