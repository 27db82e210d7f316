import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Session } from '../../lib/cli/context.ts';
import { titleWorkflowId } from '../../lib/features/refs.ts';
import { sha256File } from '../../lib/objects/store.ts';
import { waitFor } from '../../lib/stack/processes.ts';
import type { TitleStatus } from '../../workflows/title.ts';
import { TestWorkers } from '../support/harness.ts';

const inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-inbox-'));
const watcherEnv = {
  MEDIAMESH_INBOX_DIRS: inbox,
  MEDIAMESH_WATCH_STABILITY_MS: '300',
  MEDIAMESH_TITLE_MAX_HISTORY: '60',
};
const workers = new TestWorkers('watcher', {
  MEDIAMESH_PRODUCTIZED_FEATURES: 't-mesh-b,t-mesh-c',
  ...watcherEnv,
});
let s: Session;

const status = (titleId: string) =>
  s.client.workflow.getHandle(titleWorkflowId(titleId)).query<TitleStatus>('status');
const triggers = (hash: string) => s.db.triggerEvent.count({ where: { entityKey: hash } });

async function settled(titleId: string, done: number): Promise<TitleStatus> {
  return waitFor(
    `title ${titleId}: ${done} features done`,
    async () => {
      const st = await status(titleId).catch(() => undefined);
      return st && st.done >= done && st.running + st.pending === 0 ? st : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

/** Writes a file in chunks over ~`ms`, the way a slow copy or upload does. */
async function writeSlowly(file: string, bytes: Buffer, ms: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const chunks = 6;
  for (let i = 0; i < chunks; i++) {
    fs.writeSync(fd, bytes.subarray((i * bytes.length) / chunks, ((i + 1) * bytes.length) / chunks));
    await sleep(ms / chunks);
  }
  fs.closeSync(fd);
}

describe('landing watcher', () => {
  before(async () => {
    await workers.startAll();
    workers.start('watcher');
    s = await workers.session();
    await waitFor('the watcher to be ready', async () => {
      const log = path.join(workers.config.dataDir, 'logs', 'watcher.log');
      return fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes(inbox) ? true : undefined;
    });
  });
  after(async () => {
    await s?.close();
    await workers.stopAll();
  });

  it('a file dropped into a title folder runs the productized features once, when it is complete', async () => {
    const file = path.join(inbox, 'feature-film', 'reel1.mov');
    const bytes = crypto.randomBytes(300_000);
    await writeSlowly(file, bytes, 900);
    const hash = crypto.createHash('sha256').update(bytes).digest('hex');
    const st = await settled('feature-film', 2);
    assert.equal(st.assets.length, 1);
    assert.equal(st.assets[0]!.assetHash, hash, 'hashed after the last byte was written');
    for (const f of ['t-mesh-a', 't-mesh-b', 't-mesh-c']) assert.equal(workers.executions(f, hash).length, 1);
    assert.equal(await triggers(hash), 1);
  });

  it('the same bytes renamed or touched trigger nothing, copied into another title join it; a changed byte lands', async () => {
    const file = path.join(inbox, 'feature-film', 'reel1.mov');
    const hash = (await sha256File(file)).sha256;
    fs.renameSync(file, path.join(inbox, 'feature-film', 'reel1-final.mov'));
    fs.mkdirSync(path.join(inbox, 'other-title'));
    fs.copyFileSync(
      path.join(inbox, 'feature-film', 'reel1-final.mov'),
      path.join(inbox, 'other-title', 'copy.mov'),
    );
    const now = new Date();
    fs.utimesSync(path.join(inbox, 'feature-film', 'reel1-final.mov'), now, now);
    await sleep(2500);
    const other = await settled('other-title', 2);
    assert.deepEqual(
      other.assets.map((a) => a.assetHash),
      [hash],
      "the copy joined its folder's title",
    );
    assert.equal(await triggers(hash), 2, 'one trigger event more: the copy, not the rename or the touch');
    assert.equal(workers.executions('t-mesh-a', hash).length, 1, 'nothing computed twice');
    const members = await s.db.titleAsset.findMany({
      where: { assetHash: hash },
      orderBy: { titleId: 'asc' },
    });
    assert.deepEqual(
      members.map((m) => m.titleId),
      ['feature-film', 'other-title'],
    );

    const changed = Buffer.from(fs.readFileSync(path.join(inbox, 'feature-film', 'reel1-final.mov')));
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 0xff;
    fs.writeFileSync(path.join(inbox, 'feature-film', 'reel1-final.mov'), changed);
    const newHash = crypto.createHash('sha256').update(changed).digest('hex');
    const st = await settled('feature-film', 4);
    assert.deepEqual(st.assets.map((a) => a.assetHash).sort(), [hash, newHash].sort());
    assert.equal(workers.executions('t-mesh-a', newHash).length, 1);
  });

  it('a sidecar names the title', async () => {
    const file = path.join(inbox, 'misc', 'trailer.mov');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.title.json`, JSON.stringify({ titleId: 'trailer-2027' }));
    fs.writeFileSync(file, crypto.randomBytes(5000));
    const st = await settled('trailer-2027', 2);
    assert.equal(st.assets.length, 1);
  });

  it('landings made while the watcher was down are reconciled on start, once', async () => {
    await workers.stop('watcher');
    const reconciled = () =>
      fs
        .readFileSync(path.join(workers.config.dataDir, 'logs', 'watcher.log'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"watcher: reconciled"'))
        .map((l) => JSON.parse(l) as { files: number; unchanged?: number; landed?: number });
    const restart = async () => {
      const before = reconciled().length;
      workers.start('watcher');
      return waitFor('the watcher to reconcile', async () => reconciled()[before]);
    };
    const file = path.join(inbox, 'offline-title', 'reel.mov');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(7000));
    const hash = (await sha256File(file)).sha256;
    assert.equal((await restart()).landed, 1);
    await settled('offline-title', 2);
    assert.equal(await triggers(hash), 1);
    await workers.stop('watcher');
    const again = await restart();
    assert.equal(await triggers(hash), 1, 'a second restart lands nothing again');
    assert.equal(workers.executions('t-mesh-b', hash).length, 1);
    // Every file is as it was when it landed: none was read again.
    assert.ok(again.files >= 4);
    assert.equal(again.unchanged, again.files, JSON.stringify(again));
  });

  it('a file being written while the watcher starts lands once, when it is complete', async () => {
    await workers.stop('watcher');
    const file = path.join(inbox, 'starting-title', 'reel.mov');
    const bytes = crypto.randomBytes(200_000);
    const writing = writeSlowly(file, bytes, 2500);
    await sleep(300);
    workers.start('watcher');
    await writing;
    const hash = crypto.createHash('sha256').update(bytes).digest('hex');
    const st = await settled('starting-title', 2);
    assert.deepEqual(
      st.assets.map((a) => a.assetHash),
      [hash],
      'only the complete bytes landed',
    );
    assert.equal(await triggers(hash), 1);
  });

  it('a title workflow continues as new before its history grows large, keeping its state', async () => {
    const first = await s.client.workflow
      .getHandle(titleWorkflowId('long-running'))
      .describe()
      .catch(() => undefined);
    assert.equal(first, undefined);
    fs.mkdirSync(path.join(inbox, 'long-running'));
    for (let i = 0; i < 6; i++)
      fs.writeFileSync(path.join(inbox, 'long-running', `part${i}.mov`), crypto.randomBytes(3000 + i));
    const st = await waitFor(
      'all six parts done',
      async () => {
        const x = await status('long-running').catch(() => undefined);
        return x && x.assets.length === 6 && x.done === 12 && x.running + x.pending === 0 ? x : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    const history = await s.client.workflow.getHandle(titleWorkflowId('long-running')).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = Buffer.from(started?.input?.payloads?.[0]?.data ?? [])
      .toString()
      .slice(0, 200);
    assert.ok(
      started?.continuedExecutionRunId,
      `the current run is a continuation of an earlier one (events: ${history.events?.length}, input: ${input})`,
    );
    assert.ok((history.events?.length ?? 0) < 200, 'and its history stays short');
    assert.equal(st.assets.length, 6, 'state carried across runs');
  });
});
