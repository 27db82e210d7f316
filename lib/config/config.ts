import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const port = z.coerce.number().int().min(1).max(65535);

const csvList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
  );

const envSchema = z.object({
  MEDIAMESH_DATA_DIR: optionalString,
  DATABASE_URL: optionalString.refine((u) => u === undefined || /^postgres(ql)?:\/\//.test(u), {
    message: 'must be a postgres:// or postgresql:// URL',
  }),
  TEMPORAL_ADDRESS: optionalString.refine((a) => a === undefined || /^[^\s:/]+:\d+$/.test(a), {
    message: 'must be host:port, e.g. temporal.internal:7233',
  }),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TLS_CERT: optionalString,
  TEMPORAL_TLS_KEY: optionalString,
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_BIN: optionalString,
  POSTGRES_BIN_DIR: optionalString,
  FFMPEG_PATH: optionalString,
  FFPROBE_PATH: optionalString,
  MEDIAMESH_DECODER: z.enum(['in-process', 'ffmpeg']).default('in-process'),
  MEDIAMESH_TEMPORAL_PORT: port.default(7233),
  MEDIAMESH_TEMPORAL_UI_PORT: port.default(8233),
  MEDIAMESH_POSTGRES_PORT: port.default(54329),
  MEDIAMESH_QUEUE_PREFIX: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes only')
    .default('mediamesh'),
  MEDIAMESH_FEATURE_MODULES: csvList,
  MEDIAMESH_CPU_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .default(Math.max(2, os.availableParallelism())),
  MEDIAMESH_GPU_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  MEDIAMESH_API_PORT: port.default(8080),
  MEDIAMESH_GRPC_PORT: port.default(50051),
  MEDIAMESH_API_ADDRESS: optionalString.refine((a) => a === undefined || /^[^\s:/]+:\d+$/.test(a), {
    message: 'must be host:port of the gRPC API',
  }),
  MEDIAMESH_API_TOKEN: optionalString,
  MEDIAMESH_MEDIA_ROOTS: csvList,
  MEDIAMESH_INBOX_DIRS: csvList,
  MEDIAMESH_WATCH_STABILITY_MS: z.coerce.number().int().min(50).max(600_000).default(500),
  MEDIAMESH_TITLE_MAX_HISTORY: z.coerce.number().int().min(50).max(40_000).default(5000),
  MEDIAMESH_OUTBOX_SWEEP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  MEDIAMESH_TITLE_RULE: z.enum(['folder', 'stem']).default('folder'),
  MEDIAMESH_PRODUCTIZED_FEATURES: csvList,
  MEDIAMESH_API_HOST: z.string().trim().min(1).default('127.0.0.1'),
  MEDIAMESH_API_TOKENS: csvList.refine((tokens) => tokens.every((t) => t.length >= 16), {
    message: 'every token must be at least 16 characters',
  }),
  MEDIAMESH_LOG_TO: z.enum(['file', 'stdout']).default('file'),
  MEDIAMESH_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  MEDIAMESH_VECTOR_INDEX: z.enum(['embedded', 'qdrant']).optional(),
  MEDIAMESH_VECTOR_DIR: optionalString,
  QDRANT_URL: optionalString.refine((u) => u === undefined || /^https?:\/\/[^\s]+$/.test(u), {
    message: 'must be an http:// or https:// URL, e.g. http://qdrant:6333',
  }),
  QDRANT_API_KEY: optionalString,
  MEDIAMESH_SCORING_THREADS: z.coerce.number().int().min(1).max(256).default(os.availableParallelism()),
  MEDIAMESH_MATCHCUT_EXACT_MAX_SHOTS: z.coerce.number().int().min(2).max(1_000_000).default(25_000),
  MEDIAMESH_EXECUTION_PROVIDERS: csvList.refine(
    (eps) => eps.every((ep) => /^[a-z][a-z0-9-]*$/.test(ep)),
    'a comma-separated list of onnxruntime execution providers, e.g. cuda,cpu',
  ),
  MEDIAMESH_MODELS_DIR: optionalString,
});

export interface TaskQueues {
  orchestrator: string;
  cpu: string;
  gpu: string;
}

export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  temporal: {
    address: string | undefined;
    namespace: string;
    tlsCert: string | undefined;
    tlsKey: string | undefined;
    apiKey: string | undefined;
    binary: string | undefined;
    port: number;
    uiPort: number;
  };
  postgres: { binDir: string | undefined; port: number };
  queues: TaskQueues;
  featureModules: string[];
  media: {
    ffmpeg: string | undefined;
    ffprobe: string | undefined;
    /** Frames decoded in-process through libav (when its addon is built), or by ffmpeg processes. */
    decoder?: 'in-process' | 'ffmpeg' | undefined;
  };
  concurrency: { cpu: number; gpu: number };
  api: {
    host: string;
    port: number;
    grpcPort: number;
    tokens: string[];
    /** Where clients (the CLI) reach the gRPC API, and with which token. */
    address: string | undefined;
    clientToken: string | undefined;
  };
  /** Directories Trigger may read from (the inboxes are always included). */
  mediaRoots: string[];
  inboxDirs: string[];
  titleRule: 'folder' | 'stem';
  /** How often a Temporal schedule sweeps the replication outbox; 0: no schedule. */
  outboxSweepSeconds: number;
  /** Title workflows continue as new at this many history events. */
  titleMaxHistory: number;
  /** A landed file counts as complete once its size has not changed for this long. */
  watchStabilityMs: number;
  /** Features every new asset gets; empty → every registered asset feature. */
  productizedFeatures: string[];
  logLevel: z.infer<typeof envSchema>['MEDIAMESH_LOG_LEVEL'];
  /** Where service processes write their logs. */
  logTo: 'file' | 'stdout';
  /** The vector index: embedded (LanceDB under `dir`) unless Qdrant is chosen or `QDRANT_URL` is set. */
  vectors: {
    backend: 'embedded' | 'qdrant';
    dir: string;
    qdrantUrl: string | undefined;
    qdrantApiKey: string | undefined;
  };
  matchcut: {
    /** Threads of the pair-scoring kernel. */
    scoringThreads: number;
    /** Cross-title queries over at most this many shots are scored exactly; larger ones go through the index. */
    exactMaxShots: number;
  };
  models: {
    /** onnxruntime execution providers in order of preference; those this build lacks are skipped. */
    executionProviders: string[];
    /** User models: one `<name>.json` manifest beside its `.onnx` file. */
    dir: string;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment once; every process entry point calls this and passes the result down. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration in environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const vectorBackend = e.MEDIAMESH_VECTOR_INDEX ?? (e.QDRANT_URL ? 'qdrant' : 'embedded');
  if (vectorBackend === 'qdrant' && !e.QDRANT_URL) {
    throw new ConfigError(
      'invalid configuration in environment:\n  QDRANT_URL: required when MEDIAMESH_VECTOR_INDEX=qdrant',
    );
  }
  const prefix = e.MEDIAMESH_QUEUE_PREFIX;
  const dataDir = path.resolve(e.MEDIAMESH_DATA_DIR ?? path.join(projectRoot, '.mediamesh'));
  const inboxDirs = (
    e.MEDIAMESH_INBOX_DIRS.length ? e.MEDIAMESH_INBOX_DIRS : [path.join(dataDir, 'inbox')]
  ).map((d) => path.resolve(d));
  return {
    dataDir,
    databaseUrl: e.DATABASE_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      tlsCert: e.TEMPORAL_TLS_CERT,
      tlsKey: e.TEMPORAL_TLS_KEY,
      apiKey: e.TEMPORAL_API_KEY,
      binary: e.TEMPORAL_BIN,
      port: e.MEDIAMESH_TEMPORAL_PORT,
      uiPort: e.MEDIAMESH_TEMPORAL_UI_PORT,
    },
    postgres: { binDir: e.POSTGRES_BIN_DIR, port: e.MEDIAMESH_POSTGRES_PORT },
    queues: {
      orchestrator: `${prefix}-orchestrator`,
      cpu: `${prefix}-cpu`,
      gpu: `${prefix}-gpu`,
    },
    featureModules: e.MEDIAMESH_FEATURE_MODULES,
    media: { ffmpeg: e.FFMPEG_PATH, ffprobe: e.FFPROBE_PATH, decoder: e.MEDIAMESH_DECODER },
    concurrency: { cpu: e.MEDIAMESH_CPU_CONCURRENCY, gpu: e.MEDIAMESH_GPU_CONCURRENCY },
    api: {
      host: e.MEDIAMESH_API_HOST,
      port: e.MEDIAMESH_API_PORT,
      grpcPort: e.MEDIAMESH_GRPC_PORT,
      tokens: e.MEDIAMESH_API_TOKENS,
      address: e.MEDIAMESH_API_ADDRESS,
      clientToken: e.MEDIAMESH_API_TOKEN,
    },
    inboxDirs,
    mediaRoots: [...new Set([...e.MEDIAMESH_MEDIA_ROOTS.map((r) => path.resolve(r)), ...inboxDirs])],
    titleRule: e.MEDIAMESH_TITLE_RULE,
    watchStabilityMs: e.MEDIAMESH_WATCH_STABILITY_MS,
    titleMaxHistory: e.MEDIAMESH_TITLE_MAX_HISTORY,
    outboxSweepSeconds: e.MEDIAMESH_OUTBOX_SWEEP_SECONDS,
    productizedFeatures: e.MEDIAMESH_PRODUCTIZED_FEATURES,
    logLevel: e.MEDIAMESH_LOG_LEVEL,
    logTo: e.MEDIAMESH_LOG_TO,
    vectors: {
      backend: vectorBackend,
      dir: path.resolve(e.MEDIAMESH_VECTOR_DIR ?? path.join(dataDir, 'vectors')),
      qdrantUrl: e.QDRANT_URL,
      qdrantApiKey: e.QDRANT_API_KEY,
    },
    matchcut: {
      scoringThreads: e.MEDIAMESH_SCORING_THREADS,
      exactMaxShots: e.MEDIAMESH_MATCHCUT_EXACT_MAX_SHOTS,
    },
    models: {
      executionProviders: e.MEDIAMESH_EXECUTION_PROVIDERS.length
        ? e.MEDIAMESH_EXECUTION_PROVIDERS
        : ['cuda', 'cpu'],
      dir: path.resolve(e.MEDIAMESH_MODELS_DIR ?? path.join(dataDir, 'models')),
    },
  };
}
