#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, for machines that cannot download it.
// prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY here. It speaks the native engine's CLI
// (`--version`, `cli can-connect-to-database`, `cli create-database`) and its JSON-RPC over
// stdio, and runs every request on the WebAssembly schema engine over @prisma/adapter-pg.
// See docs/prisma-offline.md.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const importPkg = (spec) => import(pathToFileURL(require.resolve(spec)).href);
const pg = (await importPkg('pg')).default;
const parseConnectionString = createRequire(require.resolve('pg'))('pg-connection-string').parse;

// ---------------------------------------------------------------------------------------------
// Arguments, as the prisma CLI passes them to the native binary.
const argv = process.argv.slice(2);
const opts = { datamodels: [], datasource: {}, cli: null, version: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--datamodels') opts.datamodels.push(argv[++i]);
  else if (a === '--datasource') opts.datasource = JSON.parse(argv[++i]);
  else if (a === '--enabled-preview-features' || a === '--extension-types')
    i++; // no wasm equivalent
  else if (a === '--version' || a === '-V') opts.version = true;
  else if (a === 'cli') opts.cli = argv[++i];
}

// ---------------------------------------------------------------------------------------------
// The wasm engine: the .wasm shipped inside the installed prisma CLI is built from exactly the
// engine commit that CLI expects; the glue (wasm-bindgen JS) comes from @prisma/schema-engine-wasm.
// The glue's import names carry hashes, so fall back to the package's own .wasm when they differ.
async function loadWasmEngine() {
  const glue = await importPkg('@prisma/schema-engine-wasm/schema_engine_bg');
  const candidates = [
    path.join(path.dirname(require.resolve('prisma/package.json')), 'build/schema_engine_bg.wasm'),
    path.join(
      path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
      'schema_engine_bg.wasm',
    ),
  ];
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    const mod = new WebAssembly.Module(fs.readFileSync(file));
    if (!WebAssembly.Module.imports(mod).every((imp) => typeof glue[imp.name] === 'function')) continue;
    const instance = new WebAssembly.Instance(mod, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    instance.exports.__wbindgen_start();
    return glue;
  }
  throw new Error('no schema_engine_bg.wasm compatible with @prisma/schema-engine-wasm was found');
}

// ---------------------------------------------------------------------------------------------
// Postgres connections.
function pgConfig(url) {
  if (!url) throw userError('P1012', 'No datasource url: set DATABASE_URL (see prisma.config.ts).');
  if (!/^postgres(ql)?:/.test(url))
    throw userError('P1013', 'The offline schema engine only supports postgresql:// urls.');
  // Discrete fields, never connectionString: pg lets a connectionString override `database`, which
  // silently pointed adapter-pg's shadow database at the main one.
  const { schema, connection_limit, pool_timeout, sslmode, ...cfg } = parseConnectionString(url);
  cfg.port = cfg.port ? Number(cfg.port) : 5432;
  if (schema && schema !== 'public') cfg.options = `-c search_path=${schema}`;
  return { cfg, schema: schema || 'public' };
}
const where = (cfg) =>
  cfg.host?.startsWith('/') ? `unix:${cfg.host}` : `${cfg.host ?? 'localhost'}:${cfg.port}`;
const quoteIdent = (s) => `"${String(s).replaceAll('"', '""')}"`;

// adapter-pg cannot map "char" (18), name (19) and void (2278) columns, which the engine's
// introspection and migration bookkeeping return: present them as text.
const TEXT_LIKE_OIDS = new Set([18, 19, 2278]);
function asText(result) {
  for (const r of Array.isArray(result) ? result : [result])
    for (const f of r?.fields ?? []) if (TEXT_LIKE_OIDS.has(f.dataTypeID)) f.dataTypeID = 25;
  return result;
}
class TextTolerantClient extends pg.Client {
  query(config, values, callback) {
    const cb = typeof values === 'function' ? values : callback;
    if (typeof cb === 'function') {
      const wrapped = (err, res) => cb(err, err ? res : asText(res));
      return typeof values === 'function'
        ? super.query(config, wrapped)
        : super.query(config, values, wrapped);
    }
    const ret = super.query(config, values);
    return typeof ret?.then === 'function' ? ret.then(asText) : ret;
  }
}

async function connect(PrismaPg, cfg, schema) {
  const pool = new pg.Pool({ ...cfg, Client: TextTolerantClient });
  const adapter = await new PrismaPg(pool, { schema, disposeExternalPool: true }).connect();
  // adapter-pg splits scripts on every ';', which breaks plpgsql bodies; send the script whole
  // (one simple-protocol query, one implicit transaction, as the native engine does).
  adapter.executeScript = async (script) => {
    try {
      await pool.query(script);
    } catch (e) {
      adapter.onError(e);
    }
  };
  return adapter;
}

// Stands in for a database when none is needed (e.g. `migrate diff --from-empty --to-schema` with no
// DATABASE_URL): the engine only asks for the server version when it starts.
function noDatabaseAdapter(ColumnTypeEnum) {
  const refuse = async () => {
    throw userError('P1012', 'This command needs a database: set DATABASE_URL (see prisma.config.ts).');
  };
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    async queryRaw({ sql }) {
      if (!sql.includes('numeric_version')) return refuse();
      const { Boolean: bool, Text, Int32 } = ColumnTypeEnum;
      return {
        columnNames: ['exists', 'version', 'numeric_version'],
        columnTypes: [bool, Text, Int32],
        rows: [[true, 'PostgreSQL 15.0', 150000]],
      };
    },
    executeRaw: refuse,
    executeScript: refuse,
    startTransaction: refuse,
    getConnectionInfo: () => ({ schemaName: 'public', supportsRelationJoins: true }),
    dispose: async () => {},
  };
}

const leftoverShadowDbs = new Set();
async function adapterFactory({ needsDatabase }) {
  const { PrismaPg } = await importPkg('@prisma/adapter-pg');
  const { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } = await importPkg(
    '@prisma/driver-adapter-utils',
  );
  const main = opts.datasource.url && needsDatabase ? pgConfig(opts.datasource.url) : null;
  const explicitShadow = opts.datasource.shadowDatabaseUrl
    ? pgConfig(opts.datasource.shadowDatabaseUrl)
    : null;
  if (
    main &&
    explicitShadow &&
    where(main.cfg) === where(explicitShadow.cfg) &&
    main.cfg.database === explicitShadow.cfg.database
  )
    throw new Error(
      'The shadow database you configured appears to be the same as the main database. Please specify another shadow database.',
    );
  return bindMigrationAwareSqlAdapterFactory({
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    async connect() {
      return main ? connect(PrismaPg, main.cfg, main.schema) : noDatabaseAdapter(ColumnTypeEnum);
    },
    async connectToShadowDb() {
      if (explicitShadow) {
        const shadow = await connect(PrismaPg, explicitShadow.cfg, explicitShadow.schema);
        const s = quoteIdent(explicitShadow.schema);
        await shadow.executeScript(`DROP SCHEMA IF EXISTS ${s} CASCADE; CREATE SCHEMA ${s};`);
        return shadow;
      }
      if (!main)
        throw userError(
          'P1012',
          'A shadow database needs a datasource: set DATABASE_URL (see prisma.config.ts).',
        );
      const admin = await connect(PrismaPg, main.cfg, main.schema);
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      await admin.executeScript(`CREATE DATABASE ${quoteIdent(name)}`);
      leftoverShadowDbs.add({ name, cfg: main.cfg });
      const shadow = await connect(PrismaPg, { ...main.cfg, database: name }, main.schema);
      const dispose = shadow.dispose.bind(shadow);
      // Close the shadow pool before dropping the database (adapter-pg drops first and fails on
      // "being accessed by other users"); FORCE also ends any straggler session.
      shadow.dispose = async () => {
        try {
          await dispose();
        } finally {
          await admin.executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
          for (const d of leftoverShadowDbs) if (d.name === name) leftoverShadowDbs.delete(d);
          await admin.dispose();
        }
      };
      return shadow;
    },
  });
}

async function dropLeftoverShadowDbs() {
  for (const { name, cfg } of leftoverShadowDbs) {
    const client = new pg.Client({ ...cfg, database: 'postgres' });
    await client
      .connect()
      .then(() => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`))
      .catch(() => {});
    await client.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Errors, in the shapes the CLI understands.
function userError(code, message) {
  return Object.assign(new Error(message), { code });
}
function pgConnectError(e, cfg) {
  if (e.code === '3D000')
    return userError(
      'P1003',
      `Database \`${cfg.database}\` does not exist on the database server at \`${where(cfg)}\`.`,
    );
  if (e.code === '28P01' || e.code === '28000')
    return userError(
      'P1000',
      `Authentication failed against database server at \`${where(cfg)}\`, the provided database credentials for \`${cfg.user}\` are not valid.`,
    );
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOENT'].includes(e.code))
    return userError(
      'P1001',
      `Can't reach database server at \`${where(cfg)}\`\n\nPlease make sure your database server is running at \`${where(cfg)}\`.`,
    );
  return userError(e.code ?? 'P1000', e.message);
}
function logLine(level, message, extra = {}) {
  return JSON.stringify({
    timestamp: new Date().toISOString(),
    level,
    fields: { message, ...extra },
    target: 'schema_engine::logger',
  });
}

// ---------------------------------------------------------------------------------------------
// `schema-engine --version` and `schema-engine --datasource ... cli <command>`.
async function withMaintenanceClient(cfg, fn) {
  for (const database of [cfg.database, 'postgres', 'template1']) {
    const client = new pg.Client({ ...cfg, database });
    try {
      await client.connect();
    } catch (e) {
      if (e.code === '3D000' && database !== 'template1') continue;
      throw pgConnectError(e, cfg);
    }
    try {
      return await fn(client, database);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

async function createDatabase(url) {
  const { cfg } = pgConfig(url);
  await withMaintenanceClient(cfg, async (client, db) => {
    if (db !== cfg.database) await client.query(`CREATE DATABASE ${quoteIdent(cfg.database)}`);
  });
  return cfg.database;
}

async function runCli(command) {
  const { cfg } = pgConfig(opts.datasource.url);
  if (command === 'can-connect-to-database') {
    const client = new pg.Client(cfg);
    await client.connect().catch((e) => {
      throw pgConnectError(e, cfg);
    });
    await client.end();
    return 'Connection successful';
  }
  if (command === 'create-database')
    return `Database '${await createDatabase(opts.datasource.url)}' was successfully created.`;
  throw userError('P1000', `The offline schema engine does not implement \`cli ${command}\`.`);
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC over stdio: one JSON object per line each way. The engine can send `print` requests
// (the CLI writes their content to its stdout and answers).
const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
function rpcError(e, registry) {
  // Errors thrown in our JS (adapter, pg) reach the engine as "External error id#N".
  const id = /External error id#(\d+)/.exec(e.message)?.[1];
  const cause = id === undefined ? undefined : registry?.consumeError(Number(id))?.error;
  const err = cause ?? e;
  const isPanic = e instanceof WebAssembly.RuntimeError;
  return {
    code: 4466,
    message: 'An error happened. Check the data field for details.',
    data: isPanic
      ? { is_panic: true, message: e.message, backtrace: e.stack, error: { message: e.message } }
      : { is_panic: false, message: err.message, error_code: err.code, meta: err.meta ?? {} },
  };
}

// Diffs between schema files and/or an empty schema need no database (native engine: lazy connect).
const DB_FREE_TARGETS = new Set(['empty', 'schemaDatamodel']);
const needsDatabase = ({ method, params }) =>
  !(method === 'diff' && DB_FREE_TARGETS.has(params?.from?.tag) && DB_FREE_TARGETS.has(params?.to?.tag));

async function serveRpc() {
  const wasm = await loadWasmEngine();
  const datamodels = opts.datamodels.length
    ? opts.datamodels.map((p) => [p, fs.readFileSync(p, 'utf8')])
    : undefined;
  let engine;
  let factory;
  let printId = 0;
  const pendingPrints = new Map();
  const print = (content) =>
    new Promise((resolve) => {
      const id = `print-${++printId}`;
      pendingPrints.set(id, resolve);
      send({ jsonrpc: '2.0', id, method: 'print', params: { content: content.replace(/\n$/, '') } });
    });

  // After applyMigrations has applied something (as in plain `migrate dev`), the wasm engine loses
  // its shadow database factory and evaluateDataLoss fails; a shadow-db diagnostic (read-only on
  // the main database) restores it.
  async function callEngine(method, params) {
    try {
      return await engine[method](params);
    } catch (e) {
      if (!/must be provided through an external factory/.test(e.message) || !params?.migrationsList) throw e;
      const filters = params.filters ?? { externalTables: [], externalEnums: [] };
      await engine.diagnoseMigrationHistory({
        migrationsList: params.migrationsList,
        optInToShadowDatabase: true,
        filters,
      });
      return await engine[method](params);
    }
  }

  async function handle(request) {
    const { id, method, params } = request;
    try {
      if (method === 'createDatabase') {
        send({
          jsonrpc: '2.0',
          id,
          result: { databaseName: await createDatabase(params?.datasource?.url ?? opts.datasource.url) },
        });
        return;
      }
      if (!engine) {
        factory = await adapterFactory({ needsDatabase: needsDatabase(request) });
        engine = await wasm.SchemaEngine.new(
          { datamodels },
          (log) => process.stderr.write(`${log}\n`),
          factory,
        );
      }
      let result;
      if (method === 'getDatabaseVersion') result = await engine.version(params ?? null);
      else if (method === 'diff') {
        const { stdout, ...rest } = await engine.diff(params);
        if (stdout) await print(stdout);
        result = { ...rest, stdout: null };
      } else if (typeof engine[method] === 'function') result = (await callEngine(method, params)) ?? {};
      else throw userError('P1000', `The offline schema engine does not implement \`${method}\`.`);
      send({ jsonrpc: '2.0', id, result });
    } catch (e) {
      send({ jsonrpc: '2.0', id, error: rpcError(e, factory?.errorRegistry) });
      if (e instanceof WebAssembly.RuntimeError) await shutdown(101);
    }
  }

  let queue = Promise.resolve();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const msg = JSON.parse(line);
    if (msg.method) queue = queue.then(() => handle(msg));
    else pendingPrints.get(msg.id)?.(msg.result);
  });
  lines.on('close', () => queue.then(() => shutdown(0)));

  async function shutdown(code) {
    try {
      engine?.free();
    } catch {}
    await dropLeftoverShadowDbs();
    process.exit(code);
  }
}

// ---------------------------------------------------------------------------------------------
try {
  if (opts.version) {
    process.stdout.write(`schema-engine-cli ${(await loadWasmEngine()).version()}\n`);
  } else if (opts.cli) {
    // The CLI drops the first stderr line of `cli` commands and looks for an ERROR line after it.
    process.stderr.write(`${logLine('INFO', 'Starting schema engine CLI (offline, wasm)')}\n`);
    process.stdout.write(`${await runCli(opts.cli)}\n`);
  } else {
    await serveRpc();
  }
} catch (e) {
  process.stderr.write(logLine('ERROR', e.message, e.code ? { error_code: e.code } : {}));
  process.exit(1);
}
