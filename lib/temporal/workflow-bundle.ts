import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from '../config/config.ts';

function sourceHash(dirs: string[]): string {
  const hash = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated') walk(p);
      } else if (entry.name.endsWith('.ts')) {
        hash.update(p).update(fs.readFileSync(p));
      }
    }
  };
  for (const d of dirs) walk(path.join(projectRoot, d));
  hash.update(fs.readFileSync(path.join(projectRoot, 'package-lock.json')));
  return hash.digest('hex').slice(0, 24);
}

/** Bundles the workflow code once per source version and caches it, so worker restarts take ~1 s, not ~5 s. */
export async function workflowBundle(cacheDir: string): Promise<{ codePath: string }> {
  const file = path.join(
    cacheDir,
    `workflows-${sourceHash(['workflows', 'lib/features', 'lib/temporal'])}.js`,
  );
  if (fs.existsSync(file)) return { codePath: file };
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(projectRoot, 'workflows', 'index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bundle.code);
  fs.renameSync(tmp, file);
  return { codePath: file };
}
