import path from 'node:path';
import { projectRoot } from '../config/config.ts';
import { execFileAsync } from './processes.ts';

/**
 * `prisma migrate deploy` through Prisma's own CLI. prisma.config.ts points it at the offline schema engine
 * when no native engine can be downloaded (see docs/prisma-offline.md).
 */
export async function applyMigrations(databaseUrl: string): Promise<string> {
  const cli = path.join(projectRoot, 'node_modules', 'prisma', 'build', 'index.js');
  try {
    const { stdout } = await execFileAsync(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      maxBuffer: 8 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`prisma migrate deploy failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}
