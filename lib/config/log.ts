import fs from 'node:fs';
import path from 'node:path';
import { type Logger, pino } from 'pino';
import type { Config } from './config.ts';

export type { Logger };

/**
 * One logger per process. Services write JSON lines to `<dataDir>/logs/<name>.log`, or to stdout when
 * MEDIAMESH_LOG_TO=stdout (containers: `docker compose logs`, one stream per replica); interactive commands log
 * to stderr so stdout stays for results.
 */
export function createLogger(
  config: Pick<Config, 'dataDir' | 'logLevel' | 'logTo'>,
  name: string,
  toFile = false,
): Logger {
  if (!toFile) return pino({ name, level: config.logLevel }, pino.destination(2));
  if (config.logTo === 'stdout') return pino({ name, level: config.logLevel }, pino.destination(1));
  const dir = path.join(config.dataDir, 'logs');
  fs.mkdirSync(dir, { recursive: true });
  return pino(
    { name, level: config.logLevel },
    pino.destination({ dest: path.join(dir, `${name}.log`), sync: false }),
  );
}
