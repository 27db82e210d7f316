import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

const root = path.dirname(fileURLToPath(import.meta.url));

// Prisma's CLI downloads its native schema engine on first use; where that host is unreachable we
// point it at prisma/offline-engine/schema-engine.mjs (the wasm engine behind the native protocol).
// Left alone when the user chose an engine or a native one is already installed or cached.
// PRISMA_OFFLINE_ENGINE=0 opts out (lets the CLI download the native engine).
function nativeSchemaEnginePresent(): boolean {
  const enginesDir = path.join(root, 'node_modules/@prisma/engines');
  const installed = fs.existsSync(enginesDir)
    ? fs.readdirSync(enginesDir).some((f) => f.startsWith('schema-engine-') && !/\.(gz|sha256)$/.test(f))
    : false;
  if (installed) return true;
  try {
    const versionPkg = path.join(root, 'node_modules/@prisma/engines-version/package.json');
    const hash = JSON.parse(fs.readFileSync(versionPkg, 'utf8')).prisma.enginesVersion;
    const cacheRoot = process.env.XDG_CACHE_HOME
      ? path.join(process.env.XDG_CACHE_HOME, 'prisma')
      : path.join(os.homedir(), '.cache/prisma');
    const dir = path.join(cacheRoot, 'master', hash);
    return fs.readdirSync(dir).some((target) => fs.existsSync(path.join(dir, target, 'schema-engine')));
  } catch {
    return false;
  }
}

if (
  !process.env.PRISMA_SCHEMA_ENGINE_BINARY &&
  !process.env.PRISMA_MIGRATION_ENGINE_BINARY &&
  process.env.PRISMA_OFFLINE_ENGINE !== '0' &&
  !nativeSchemaEnginePresent()
) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = path.join(root, 'prisma/offline-engine/schema-engine.mjs');
}

export default defineConfig({
  schema: path.join(root, 'prisma/schema.prisma'),
  migrations: { path: path.join(root, 'prisma/migrations') },
  datasource: {
    // Not the env() helper: it throws when the variable is unset (e.g. `prisma generate` in setup).
    url: process.env.DATABASE_URL,
    ...(process.env.SHADOW_DATABASE_URL ? { shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL } : {}),
  },
});
