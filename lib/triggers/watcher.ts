import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FSWatcher, watch } from 'chokidar';
import type { Logger } from '../config/log.ts';
import { ingestFile } from '../media/ingest.ts';
import { type LandingDeps, landAsset } from './land.ts';
import { isSidecar, titleFor } from './title-rule.ts';

export interface WatcherOptions {
  inboxes: string[];
  titleRule: 'folder' | 'stem';
  stabilityMs: number;
  /** Wait this long before retrying a landing that failed (e.g. Temporal unreachable). */
  retryMs?: number;
}

/** `unchanged`: the path's size and mtime are those it had when last landed, so it was not read at all. */
export type LandingOutcome = 'landed' | 'known' | 'unchanged' | 'failed' | 'skipped' | 'unstable';

/**
 * Watches inbox folders. A file is taken once its size is stable; it is copied into the store (hashed on the way:
 * one read) and landed in its title unless those bytes already landed there (so renames, touches and copies within
 * a title trigger nothing; a copy into another title joins it; a changed byte lands). On start it reconciles every
 * file already in the inboxes the same way, so landings made while it was down are neither lost nor duplicated;
 * a file whose size and mtime are those it had when it last landed is not read again.
 */
export class InboxWatcher {
  #watcher: FSWatcher | undefined;
  #chain: Promise<void> = Promise.resolve();
  #queued = new Set<string>();
  #stopped = false;
  readonly outcomes: { file: string; outcome: LandingOutcome; assetHash?: string }[] = [];

  constructor(
    private readonly deps: LandingDeps & { log: Logger },
    private readonly opts: WatcherOptions,
  ) {}

  async start(): Promise<void> {
    for (const inbox of this.opts.inboxes) await fs.promises.mkdir(inbox, { recursive: true });
    // Watch first, then list what is there: a file written while the watcher starts is either seen by the watch
    // or found by the listing (or both: the queue and the trigger events make that one landing), never missed.
    this.#watcher = watch(this.opts.inboxes, {
      ignoreInitial: true,
      awaitWriteFinish: {
        stabilityThreshold: this.opts.stabilityMs,
        pollInterval: Math.min(100, this.opts.stabilityMs),
      },
      ignored: (p, stats) => !!stats?.isFile() && isSidecar(p),
    });
    this.#watcher.on('add', (f) => this.enqueue(f));
    this.#watcher.on('change', (f) => this.enqueue(f));
    this.#watcher.on('error', (err) => this.deps.log.error({ err }, 'watcher: file system error'));
    await new Promise<void>((resolve) => this.#watcher!.once('ready', () => resolve()));
    const existing = (await Promise.all(this.opts.inboxes.map((i) => listFiles(i)))).flat();
    this.deps.log.info(
      { inboxes: this.opts.inboxes, files: existing.length },
      'watcher: reconciling inboxes',
    );
    const before = this.outcomes.length;
    for (const file of existing) this.enqueue(file, true);
    await this.idle();
    const counts: Partial<Record<LandingOutcome, number>> = {};
    for (const o of this.outcomes.slice(before)) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
    this.deps.log.info({ files: existing.length, ...counts }, 'watcher: reconciled');
  }

  /** Resolves when every queued file has been handled. */
  idle(): Promise<void> {
    return this.#chain;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#watcher?.close();
    await this.#chain;
  }

  /** `verifyStable`: check the size settles first (chokidar's events already waited for that). */
  enqueue(file: string, verifyStable = false): void {
    if (isSidecar(file) || this.#queued.has(file)) return;
    this.#queued.add(file);
    this.#chain = this.#chain.then(async () => {
      this.#queued.delete(file);
      if (this.#stopped) return;
      const outcome = await this.#handle(file, verifyStable);
      this.outcomes.push(outcome);
      if (outcome.outcome === 'failed' && !this.#stopped) {
        // Nothing is lost: try again later (the reconcile on the next start would also find it).
        setTimeout(() => this.enqueue(file, true), this.opts.retryMs ?? 5000).unref();
      } else if (outcome.outcome === 'unstable' && !this.#stopped) {
        // Still being written when listed: look again once it may have settled.
        setTimeout(() => this.enqueue(file, true), this.opts.stabilityMs).unref();
      }
    });
  }

  async #handle(
    file: string,
    verifyStable: boolean,
  ): Promise<{ file: string; outcome: LandingOutcome; assetHash?: string }> {
    const log = this.deps.log.child({ file });
    try {
      if (verifyStable && !(await isStable(file, this.opts.stabilityMs)))
        return { file, outcome: 'unstable' };
      // Taken before the file is read: if it changes while being read, the next look sees another mtime.
      const stat = await fs.promises.stat(file);
      if (stat.size === 0) {
        log.warn('watcher: empty file ignored until it has content');
        return { file, outcome: 'skipped' };
      }
      const inbox = this.opts.inboxes.find((i) => !path.relative(i, file).startsWith('..'))!;
      const titleId = await titleFor(file, inbox, this.opts.titleRule);
      const db = this.deps.db;
      const seen = await db.inboxFile.findUnique({ where: { path: file } });
      if (
        seen?.titleId === titleId &&
        seen.sizeBytes === BigInt(stat.size) &&
        seen.mtimeMs === stat.mtimeMs
      ) {
        return { file, outcome: 'unchanged', assetHash: seen.assetHash };
      }
      // One read: hashed while copied into the store (same bytes → stored once).
      const asset = await ingestFile(db, this.deps.objects, file, titleId);
      // Landed means recorded: the trigger event is written last, after the title workflow was signalled.
      const known = await db.triggerEvent.findFirst({
        where: { entityKey: asset.hash, titleId },
        select: { id: true },
      });
      if (known) {
        log.info(
          { assetHash: asset.hash, titleId },
          'watcher: these bytes already landed in this title; nothing to do',
        );
      } else {
        await landAsset(this.deps, {
          titleId,
          source: { file, ingested: asset },
          origin: 'watcher',
          detail: { inbox },
        });
        log.info({ titleId, assetHash: asset.hash }, 'watcher: landed');
      }
      const row = { titleId, sizeBytes: BigInt(stat.size), mtimeMs: stat.mtimeMs, assetHash: asset.hash };
      await db.inboxFile.upsert({ where: { path: file }, create: { path: file, ...row }, update: row });
      return { file, outcome: known ? 'known' : 'landed', assetHash: asset.hash };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, outcome: 'skipped' };
      log.error({ err }, 'watcher: landing failed; will retry');
      return { file, outcome: 'failed' };
    }
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && !isSidecar(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** True when the file's size and mtime did not move across one stability window. */
async function isStable(file: string, ms: number): Promise<boolean> {
  const a = await fs.promises.stat(file);
  await sleep(Math.min(ms, 2000));
  const b = await fs.promises.stat(file);
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}
