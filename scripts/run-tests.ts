// Runs the whole suite on node's own test runner against a real, freshly started stack (Postgres, Temporal dev
// server) in .mediamesh/test; each test file starts its own workers. Usage: run-tests.ts [file-substring ...]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/config/config.ts';
import { startEphemeralStack } from '../test/support/ephemeral-stack.ts';

function testFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const filters = process.argv.slice(2);
const files = testFiles(path.join(projectRoot, 'test')).filter(
  (f) => filters.length === 0 || filters.some((x) => f.includes(x)),
);
const started = Date.now();
// Several checkouts' worth of work can share a machine: each names its own stack (MEDIAMESH_TEST_STACK).
const stackName = process.env.MEDIAMESH_TEST_STACK || 'test';
process.stdout.write(`test stack: starting Postgres and Temporal in .mediamesh/${stackName} …\n`);
const stack = await startEphemeralStack(stackName);
process.stdout.write(`test stack: up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
    { stdio: 'inherit', env: stack.env, cwd: projectRoot },
  );
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
await stack.stop();
process.exit(code);
