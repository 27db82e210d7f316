import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSession, type Session } from '../../lib/cli/context.ts';
import { type Config, loadConfig } from '../../lib/config/config.ts';
import { createLogger } from '../../lib/config/log.ts';
import { isAlive, spawnService, stopProcess } from '../../lib/stack/processes.ts';
import { type ProcessKind, WORKER_KINDS, waitForPollers } from '../../lib/stack/stack.ts';

export const testFeaturesModule = fileURLToPath(new URL('./features.ts', import.meta.url));
const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

type Kind = ProcessKind;

export function randomEntityKey(): string {
  return crypto.randomBytes(32).toString('hex');
}

/**
 * Workers for one test file: their own task queues (a unique prefix) on the shared test stack, the test
 * features loaded, and a counter directory recording every compute execution.
 */
export class TestWorkers {
  readonly config: Config;
  readonly counterDir: string;
  readonly pids: Partial<Record<Kind, number>> = {};
  readonly #env: NodeJS.ProcessEnv;

  constructor(name: string, env: NodeJS.ProcessEnv = {}) {
    const prefix = `t-${name}-${crypto.randomBytes(3).toString('hex')}`;
    const base = loadConfig();
    this.counterDir = path.join(base.dataDir, 'counters', prefix);
    this.#env = {
      ...process.env,
      MEDIAMESH_QUEUE_PREFIX: prefix,
      MEDIAMESH_FEATURE_MODULES: testFeaturesModule,
      MEDIAMESH_TEST_COUNTER_DIR: this.counterDir,
      MEDIAMESH_LOG_LEVEL: 'info',
      // Each test file's queues are short-lived: no sweep schedule left behind on the shared server.
      MEDIAMESH_OUTBOX_SWEEP_SECONDS: '0',
      ...env,
    };
    this.config = loadConfig(this.#env);
  }

  start(kind: Kind, env: NodeJS.ProcessEnv = {}): number {
    const args = (WORKER_KINDS as readonly string[]).includes(kind) ? ['worker', kind] : [kind];
    const prefix = this.config.queues.cpu.replace(/-cpu$/, '');
    const pid = spawnService(process.execPath, [path.join(projectRoot, 'bin/mediamesh.mjs'), ...args], {
      logFile: path.join(this.config.dataDir, 'logs', `${prefix}-${kind}.out`),
      env: { ...this.#env, ...env },
      cwd: projectRoot,
    });
    this.pids[kind] = pid;
    return pid;
  }

  async startAll(kinds: readonly (typeof WORKER_KINDS)[number][] = WORKER_KINDS): Promise<void> {
    for (const k of kinds) this.start(k);
    await waitForPollers(this.config, Object.fromEntries(kinds.map((k) => [k, this.pids[k]!])));
  }

  /** The env the workers run with, for other processes of this test (api, watcher, CLI). */
  get env(): NodeJS.ProcessEnv {
    return this.#env;
  }

  async stop(kind: Kind, graceMs = 10_000): Promise<void> {
    await stopProcess(this.pids[kind], graceMs);
    delete this.pids[kind];
  }

  kill(kind: Kind): void {
    const pid = this.pids[kind];
    if (pid && isAlive(pid)) process.kill(-pid, 'SIGKILL');
    delete this.pids[kind];
  }

  async stopAll(): Promise<void> {
    await Promise.all((Object.keys(this.pids) as Kind[]).map((k) => this.stop(k)));
  }

  session(): Promise<Session> {
    return openSession(this.config, createLogger({ ...this.config, logLevel: 'warn' }, 'test'));
  }

  /** Lines recorded by a test feature: `<event> <entityKey> <pid> <try>`. */
  executions(feature: string, entityKey?: string, event = 'compute'): string[][] {
    const file = path.join(this.counterDir, `${feature}.log`);
    if (!fs.existsSync(file)) return [];
    return fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      .filter(([e, k]) => e === event && (!entityKey || k === entityKey));
  }
}
