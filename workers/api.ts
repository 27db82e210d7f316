import { createHttpApi } from '../lib/api/http.ts';
import { type Config, loadConfig } from '../lib/config/config.ts';
import { createLogger } from '../lib/config/log.ts';
import { loadRegistry } from '../lib/features/load.ts';

/** The api process: serves until SIGINT/SIGTERM, then closes its listeners. */
export async function runApi(config: Config = loadConfig()): Promise<void> {
  const log = createLogger(config, 'api', true);
  if (config.api.tokens.length === 0)
    log.warn('MEDIAMESH_API_TOKENS is empty: every authenticated route answers 401');
  const server = createHttpApi(config, await loadRegistry(config), log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.api.port, config.api.host, () => resolve());
  });
  log.info({ host: config.api.host, port: config.api.port }, 'api listening');
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
