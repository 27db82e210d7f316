import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { execFileAsync, freePort } from './processes.ts';

export interface PostgresCluster {
  dataDir: string;
  socketDir: string;
  logFile: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Debian's server binaries live in /usr/lib/postgresql/<major>/bin; take the newest unless told otherwise. */
export function findPostgresBinDir(configured?: string): string | undefined {
  const candidates = configured ? [configured] : [];
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const majors = fs
      .readdirSync(root)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((m) => path.join(root, m, 'bin')));
  }
  return candidates.find(
    (dir) => fs.existsSync(path.join(dir, 'pg_ctl')) && fs.existsSync(path.join(dir, 'initdb')),
  );
}

// PostgreSQL refuses to run as root; when we are root we run it as the `postgres` OS user that Debian creates.
const asRoot = process.getuid?.() === 0;

async function runPg(binDir: string, tool: string, args: string[]): Promise<string> {
  const bin = path.join(binDir, tool);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    const { stdout } = await execFileAsync(cmd, argv, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${tool} ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

function chownToPostgres(dir: string): void {
  if (!asRoot) return;
  const { uid, gid } = postgresUser();
  fs.chownSync(dir, uid, gid);
}

function postgresUser(): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) {
    throw new Error(
      "running as root, and there is no `postgres` OS user to run PostgreSQL as: install Debian's postgresql package (it creates the user) or run mediamesh as a normal user",
    );
  }
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export function clusterPaths(baseDir: string) {
  return {
    dataDir: path.join(baseDir, 'data'),
    socketDir: path.join(baseDir, 'run'),
    logFile: path.join(baseDir, 'postgres.log'),
  };
}

/** Creates the cluster on first use (scram auth, loopback only) and returns its coordinates. Idempotent. */
export async function initCluster(
  binDir: string,
  baseDir: string,
  prev: { port: number; user: string; password: string; database: string } | undefined,
  preferredPort: number,
): Promise<PostgresCluster> {
  const paths = clusterPaths(baseDir);
  fs.mkdirSync(baseDir, { recursive: true });
  fs.mkdirSync(paths.socketDir, { recursive: true });
  chownToPostgres(baseDir);
  chownToPostgres(paths.socketDir);
  const user = prev?.user ?? 'mediamesh';
  const database = prev?.database ?? 'mediamesh';
  let password = prev?.password;
  if (!fs.existsSync(path.join(paths.dataDir, 'PG_VERSION'))) {
    password = crypto.randomBytes(18).toString('base64url');
    const pwFile = path.join(baseDir, '.initdb-pw');
    fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    chownToPostgres(pwFile);
    try {
      await runPg(binDir, 'initdb', [
        '-D',
        paths.dataDir,
        '-U',
        user,
        '--pwfile',
        pwFile,
        '--auth-local=scram-sha-256',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--no-locale',
      ]);
    } finally {
      fs.rmSync(pwFile, { force: true });
    }
  }
  if (!password)
    throw new Error(`cluster at ${paths.dataDir} exists but its password is unknown (stack.json lost?)`);
  const port = prev?.port ?? (await freePort(preferredPort));
  return { ...paths, port, user, password, database };
}

export async function isClusterRunning(binDir: string, dataDir: string): Promise<boolean> {
  try {
    await runPg(binDir, 'pg_ctl', ['-D', dataDir, 'status']);
    return true;
  } catch {
    return false;
  }
}

export async function startCluster(binDir: string, c: PostgresCluster): Promise<void> {
  if (await isClusterRunning(binDir, c.dataDir)) return;
  fs.closeSync(fs.openSync(c.logFile, 'a'));
  chownToPostgres(c.logFile);
  const opts = `-p ${c.port} -k ${c.socketDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on`;
  await runPg(binDir, 'pg_ctl', ['-D', c.dataDir, '-l', c.logFile, '-o', opts, '-w', '-t', '60', 'start']);
  await ensureDatabase(c);
}

export async function stopCluster(binDir: string, dataDir: string): Promise<boolean> {
  if (!(await isClusterRunning(binDir, dataDir))) return false;
  await runPg(binDir, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  return true;
}

export function clusterUrl(
  c: Pick<PostgresCluster, 'port' | 'user' | 'password' | 'database'>,
  database = c.database,
) {
  return `postgresql://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@127.0.0.1:${c.port}/${database}`;
}

export async function ensureDatabase(c: PostgresCluster, database = c.database): Promise<void> {
  const client = new pg.Client({ connectionString: clusterUrl(c, 'postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}
