import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiNotConfiguredError } from '../api/grpc/connect.ts';
import { ConfigError, loadConfig } from '../config/config.ts';
import { createLogger } from '../config/log.ts';
import { runFeature } from '../features/client.ts';
import { BadInputError } from '../features/definition.ts';
import { loadRegistry } from '../features/load.ts';
import { FeatureGraphError } from '../features/registry.ts';
import { ingestFile } from '../media/ingest.ts';
import { FsObjectStore } from '../objects/store.ts';
import { StackNotRunningError } from '../stack/endpoints.ts';
import { down, StackError, up } from '../stack/stack.ts';
import { recordTrigger } from '../store/triggers.ts';
import { describeWorkflowFailure } from '../temporal/errors.ts';
import {
  ApiCallError,
  recomputeCommand,
  titleStatusCommand,
  triggerCommand,
  valueCommand,
} from './api-commands.ts';
import { openSession } from './context.ts';
import { renderDemo, runDemo, sampleMediaDir } from './demo.ts';
import { runDoctor } from './doctor.ts';
import { renderMatchCut, runMatchCut } from './matchcut.ts';
import { type FramesCommandOptions, framesCommand, mediaCommand, RECIPES, renderMedia } from './media.ts';
import { searchCommand } from './search.ts';
import { collectStatus, renderStatus } from './status.ts';

const print = (text: string) => process.stdout.write(`${text}\n`);

function parseJsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError('must be a JSON object');
  return parsed as Record<string, unknown>;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1e9) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return n;
}

const program = new Command()
  .name('mediamesh')
  .description('Media ML infrastructure on Temporal: feature store, durable feature mesh, media access.')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: true });

program
  .command('up')
  .description('start Postgres, apply migrations, start the Temporal dev server and the workers (idempotent)')
  .option('--no-workers', 'start the services only')
  .action(async (opts: { workers: boolean }) => {
    const config = loadConfig();
    await up(config, createLogger(config, 'cli'), { workers: opts.workers });
    print(renderStatus(await collectStatus(config)));
  });

program
  .command('down')
  .description('stop the workers, the Temporal dev server and Postgres started by `up` (data is kept)')
  .action(async () => {
    const config = loadConfig();
    await down(config, createLogger(config, 'cli'));
    print('stopped');
  });

program
  .command('status')
  .description(
    "the stack (services, queues, values, outbox); with --title, one title's features through the API",
  )
  .option('--title <id>', "show this title's per-asset feature status")
  .option('--watch', 'with --title: follow live until nothing is pending or running')
  .option('--timeout <seconds>', 'with --watch: give up after this long', parsePositiveInt, 3600)
  .option('--json', 'print JSON')
  .action(async (opts: { title?: string; watch?: boolean; timeout: number; json?: boolean }) => {
    const config = loadConfig();
    if (opts.title) return titleStatusCommand(config, { ...opts, title: opts.title });
    if (opts.watch) throw new InvalidArgumentError('--watch needs --title <id>');
    const status = await collectStatus(config);
    print(opts.json ? JSON.stringify(status, null, 2) : renderStatus(status));
  });

program
  .command('trigger')
  .description('land an asset for a title through the gRPC API and run its productized features')
  .requiredOption('--title <id>', 'title id')
  .addOption(
    new Option('--file <path>', 'a file under a media root (MEDIAMESH_MEDIA_ROOTS / the inbox)').conflicts(
      'object',
    ),
  )
  .option('--object <uri>', 'an asset already in the store (mm://sha256/…)')
  .option('--features <list>', 'comma-separated features instead of the productized set')
  .option('--json', 'print JSON')
  .action(
    async (opts: { title: string; file?: string; object?: string; features?: string; json?: boolean }) => {
      if (!opts.file && !opts.object) throw new InvalidArgumentError('give --file <path> or --object <uri>');
      await triggerCommand(loadConfig(), opts);
    },
  );

program
  .command('recompute')
  .description('new computation attempt(s) for a title; earlier values stay queryable, the newest is current')
  .requiredOption('--title <id>', 'title id')
  .requiredOption('--reason <text>', 'why (kept in the audit log)')
  .option('--feature <name>', "only this feature (default: all of the title's features)")
  .option('--cascade', "also recompute the title's features that depend on it")
  .option('--asset <sha256>', 'only this asset')
  .action(
    async (opts: { title: string; reason: string; feature?: string; cascade?: boolean; asset?: string }) => {
      await recomputeCommand(loadConfig(), opts);
    },
  );

program
  .command('value')
  .description('one stored feature value with its lineage, through the gRPC API')
  .argument('<feature>', 'feature name')
  .argument('<sha256>', 'entity key')
  .option('--attempt <n>', 'a specific attempt (default: the current one)', parsePositiveInt, 0)
  .action(async (feature: string, entityKey: string, opts: { attempt: number }) => {
    await valueCommand(loadConfig(), feature, entityKey, opts.attempt);
  });

program
  .command('search')
  .description('search annotations with the JSON query DSL (docs/search.md) through the gRPC API')
  .argument('[query]', `the query as JSON, e.g. '{"where": {"type": "shot"}, "limit": 10}'`)
  .option('--file <path>', "read the query from a file ('-' for stdin)")
  .option('--cursor <cursor>', 'the next page of the same query (the cursor a previous page printed)')
  .option('--json', 'print JSON')
  .action(async (query: string | undefined, opts: { file?: string; cursor?: string; json?: boolean }) => {
    await searchCommand(loadConfig(), query, opts);
  });

program
  .command('watcher')
  .description('run the landing watcher in the foreground (inboxes: MEDIAMESH_INBOX_DIRS)')
  .action(async () => {
    const { runWatcher } = await import('../../workers/watcher.ts');
    await runWatcher();
  });

program
  .command('doctor')
  .description('check tool versions and connectivity; prints the exact fix for each problem')
  .action(async () => {
    const checks = await runDoctor(loadConfig());
    for (const c of checks) {
      print(`${c.ok ? '✔' : '✘'} ${c.name.padEnd(20)} ${c.detail}`);
      if (!c.ok && c.fix) print(`  ${''.padEnd(20)} fix: ${c.fix}`);
    }
    if (checks.some((c) => !c.ok)) process.exitCode = 1;
  });

program
  .command('demo')
  .description(
    'bring the stack up, land every sample clip as a title and run the productized features on each',
  )
  .option('--media <dir>', 'folder of media files', sampleMediaDir)
  .option('--features <list>', 'comma-separated features (default: the productized set)')
  .option('--json', 'print JSON rows instead of a table')
  .option('--flavor <name>', 'then match cuts across all the titles by this flavor', 'frame')
  .option('--k <n>', 'how many match-cut pairs', parsePositiveInt, 10)
  .option('--no-matchcut', 'skip the match cuts')
  .action(
    async (opts: {
      media: string;
      features?: string;
      json?: boolean;
      flavor: string;
      k: number;
      matchcut: boolean;
    }) => {
      const config = loadConfig();
      const log = createLogger(config, 'cli');
      await up(config, log);
      const s = await openSession(config, log);
      try {
        const features = opts.features?.split(',').map((f) => f.trim());
        const progress = !opts.json && process.stderr.isTTY;
        const rows = await runDemo(s, path.resolve(opts.media), features, progress);
        const matchcut = opts.matchcut
          ? await runMatchCut(
              s,
              { titles: [...new Set(rows.map((r) => r.title))], flavor: opts.flavor, k: opts.k },
              progress,
            )
          : undefined;
        print(
          opts.json
            ? JSON.stringify({ features: rows, matchcut }, null, 2)
            : [
                renderDemo(rows, s.endpoints.temporalUi, config.temporal.namespace),
                ...(matchcut
                  ? [
                      '',
                      `Match cuts across the titles (${opts.flavor}):`,
                      renderMatchCut(matchcut.answer, matchcut.valueId, matchcut.memoHit),
                    ]
                  : []),
              ].join('\n'),
        );
        if (rows.some((r) => r.outcome === 'pending')) process.exitCode = 1;
      } finally {
        await s.close();
      }
    },
  );

program
  .command('run')
  .description('compute (or fetch the memoized) value of one feature for one asset')
  .argument('<feature>', 'feature name, e.g. media-probe')
  .addOption(new Option('--asset <sha256>', 'entity key of an ingested asset').conflicts('file'))
  .option('--file <path>', 'ingest this file first, then use its content hash')
  .option('--title <id>', 'title the asset belongs to', 'untitled')
  .option('--params <json>', 'feature params as a JSON object', parseJsonObject)
  .action(
    async (
      feature: string,
      opts: { asset?: string; file?: string; title: string; params?: Record<string, unknown> },
    ) => {
      if (!opts.asset && !opts.file) throw new InvalidArgumentError('give --asset <sha256> or --file <path>');
      const s = await openSession();
      try {
        let entityKey = opts.asset!;
        if (opts.file) {
          const objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
          entityKey = (await ingestFile(s.db, objects, path.resolve(opts.file), opts.title)).hash;
        }
        await recordTrigger(s.db, { source: 'cli', titleId: opts.title, entityKey, features: [feature] });
        const ref = await runFeature(s.client, s.config, s.registry, {
          feature,
          entityKey,
          titleId: opts.title,
          params: opts.params,
        });
        const row = await s.db.featureValue.findUniqueOrThrow({ where: { id: BigInt(ref.valueId) } });
        print(JSON.stringify({ ...ref, value: row.value }, null, 2));
      } finally {
        await s.close();
      }
    },
  );

program
  .command('media')
  .description(
    'ingest a file (or take an asset), run QC and the standardization recipes, show verdict and derivatives',
  )
  .argument('<target>', 'a media file, or the sha256 of an ingested asset')
  .option('--title <id>', 'title a new file belongs to', 'untitled')
  .option('--recipes <list>', `comma-separated recipes (default: ${RECIPES.join(',')})`)
  .option('--json', 'print JSON')
  .action(async (target: string, opts: { title: string; recipes?: string; json?: boolean }) => {
    const s = await openSession();
    try {
      const recipes = opts.recipes?.split(',').map((r) => r.trim());
      const report = await mediaCommand(s, target, { title: opts.title, recipes });
      print(opts.json ? JSON.stringify(report, null, 2) : renderMedia(report));
      if (report.verdict.status === 'reject') process.exitCode = 2;
    } finally {
      await s.close();
    }
  });

program
  .command('matchcut')
  .description('match cuts within and across titles: the top K shot pairs by a flavor (frame, motion)')
  .requiredOption('--titles <ids>', 'comma-separated title ids (any subset)', (v: string) =>
    v
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  )
  .option('--flavor <name>', 'representation: frame (composition) or motion (camera move)', 'frame')
  .option('--k <n>', 'how many pairs', parsePositiveInt, 50)
  .option('--min-score <x>', 'only pairs scoring at least this (cosine)', Number.parseFloat)
  .option('--exclude-within <frames>', 'skip pairs of one title fewer than N frames apart', parsePositiveInt)
  .option('--cross-title-only', 'only pairs whose shots come from different titles')
  .addOption(
    new Option('--mode <mode>', 'exact, approximate or by subset size')
      .choices(['auto', 'exact', 'ann'])
      .default('auto'),
  )
  .option('--json', 'print the answer as JSON')
  .action(
    async (opts: {
      titles: string[];
      flavor: string;
      k: number;
      minScore?: number;
      excludeWithin?: number;
      crossTitleOnly?: boolean;
      mode: 'auto' | 'exact' | 'ann';
      json?: boolean;
    }) => {
      const s = await openSession();
      try {
        const { answer, valueId, memoHit } = await runMatchCut(
          s,
          {
            titles: opts.titles,
            flavor: opts.flavor,
            k: opts.k,
            mode: opts.mode,
            filters: {
              ...(opts.minScore === undefined ? {} : { minScore: opts.minScore }),
              ...(opts.excludeWithin === undefined ? {} : { excludeWithinFrames: opts.excludeWithin }),
              ...(opts.crossTitleOnly ? { excludeSameTitle: true } : {}),
            },
          },
          !opts.json && process.stderr.isTTY,
        );
        print(
          opts.json
            ? JSON.stringify({ valueId, memoHit, ...answer }, null, 2)
            : renderMatchCut(answer, valueId, memoHit),
        );
      } finally {
        await s.close();
      }
    },
  );

program
  .command('frames')
  .description("stream raw frames of an asset's standardized video (video-360p-h264) to a file or stdout")
  .argument('<sha256>', 'content hash of an ingested asset')
  .option('--start <index>', 'first frame (default 0)', parsePositiveInt)
  .option('--end <index>', 'frame after the last (default: the end)', parsePositiveInt)
  .option('--width <px>', 'output width (height follows the aspect unless given)', parsePositiveInt)
  .option('--height <px>', 'output height', parsePositiveInt)
  .option('--fps <rate>', 'at most this many frames per second', Number.parseFloat)
  .option(
    '--pix-fmt <format>',
    'rgb24 (default), rgbp, rgbpf32, bgr24, rgba, gray, gray16le, grayf32le, yuv420p',
  )
  .requiredOption('--out <file>', "where to write the raw frames, '-' for stdout")
  .action(async (asset: string, opts: FramesCommandOptions) => {
    const s = await openSession();
    try {
      const r = await framesCommand(s, asset, opts);
      process.stderr.write(`${r.frames} frames, ${r.width}×${r.height} ${r.pixelFormat}, ${r.bytes} bytes\n`);
    } finally {
      await s.close();
    }
  });

program
  .command('features')
  .description('list the registered features and their dependency graph')
  .action(async () => {
    const registry = await loadRegistry(loadConfig());
    for (const f of registry.list()) {
      const deps = f.dependencies.length ? ` ← ${f.dependencies.join(', ')}` : '';
      print(`${f.name}@${f.version}  [${f.entityType}, ${f.taskQueue}]${deps}\n    ${f.description}`);
    }
  });

program
  .command('worker')
  .description('run one worker in the foreground (for worker hosts; `up` starts them for you)')
  .addArgument(
    new Command()
      .createArgument('<kind>', 'which task queue to serve')
      .choices(['orchestrator', 'cpu', 'gpu']),
  )
  .action(async (kind: 'orchestrator' | 'cpu' | 'gpu') => {
    const { runWorker } = await import('../../workers/worker.ts');
    await runWorker(kind);
  });

program
  .command('api')
  .description('run the api process in the foreground (HTTP: /healthz, /v1/status, /v1/features)')
  .action(async () => {
    const { runApi } = await import('../../workers/api.ts');
    await runApi();
  });

const expected = [
  ConfigError,
  StackError,
  StackNotRunningError,
  BadInputError,
  FeatureGraphError,
  ApiCallError,
  ApiNotConfiguredError,
];

program.parseAsync(process.argv).catch((err: unknown) => {
  const failure = describeWorkflowFailure(err);
  if (failure) {
    process.stderr.write(`mediamesh: ${failure}\n`);
  } else if (expected.some((E) => err instanceof E) || err instanceof InvalidArgumentError) {
    process.stderr.write(`mediamesh: ${(err as Error).message}\n`);
  } else {
    process.stderr.write(`mediamesh: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exitCode = 1;
});
