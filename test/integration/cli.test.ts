import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findMediaTools } from '../../lib/media/tools.ts';
import { freePort, spawnService, stopProcess, waitFor } from '../../lib/stack/processes.ts';
import { mediamesh } from '../support/cli.ts';
import { TestWorkers } from '../support/harness.ts';
import { taggedCopy } from '../support/tagged-copy.ts';

const media = fileURLToPathSafe('../fixtures/media/pyscenedetect');
function fileURLToPathSafe(rel: string) {
  return new URL(rel, import.meta.url).pathname;
}

const workers = new TestWorkers('cli', { MEDIAMESH_FEATURE_MODULES: '' });
const env = {
  ...process.env,
  MEDIAMESH_QUEUE_PREFIX: workers.config.queues.cpu.replace(/-cpu$/, ''),
  MEDIAMESH_LOG_LEVEL: 'warn',
};

describe('mediamesh CLI against the real stack', () => {
  before(() => workers.startAll());
  after(() => workers.stopAll());

  it('--help lists every command', async () => {
    const r = await mediamesh(['--help'], env);
    assert.equal(r.code, 0);
    for (const c of [
      'up',
      'down',
      'status',
      'doctor',
      'demo',
      'run',
      'features',
      'worker',
      'api',
      'watcher',
      'trigger',
      'recompute',
      'value',
      'media',
      'frames',
      'matchcut',
    ]) {
      assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `command ${c} listed`);
    }
  });

  it('status --json reports services, pollers and value counts', async () => {
    const r = await mediamesh(['status', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout);
    assert.equal(status.services.find((s: { name: string }) => s.name === 'postgres').state, 'up');
    assert.equal(status.services.find((s: { name: string }) => s.name === 'temporal').state, 'up');
    const cpu = status.queues.find((q: { queue: string }) => q.queue === workers.config.queues.cpu);
    assert.equal(cpu.pollers, 1);
  });

  it('doctor passes on a healthy stack', async () => {
    const r = await mediamesh(['doctor'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /✘/);
  });

  it('doctor names the exact fix when no worker polls', async () => {
    const r = await mediamesh(['doctor'], { ...env, MEDIAMESH_QUEUE_PREFIX: 'nobody-polls-this' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✘ workers\s+no worker polls nobody-polls-this-orchestrator/);
    assert.match(r.stdout, /fix: mediamesh up/);
  });

  it('run computes a real feature on a real clip, then answers from the memo', async () => {
    const file = path.join(media, 'counter.mp4');
    const first = await mediamesh(['run', 'media-probe', '--file', file, '--title', 'counter'], env);
    assert.equal(first.code, 0, first.stderr);
    const value = JSON.parse(first.stdout);
    assert.equal(value.value.video.width, 1920);
    assert.equal(value.value.video.height, 1080);
    const again = await mediamesh(['run', 'media-probe', '--asset', value.entityKey], env);
    assert.equal(JSON.parse(again.stdout).memoHit, true);
    assert.equal(JSON.parse(again.stdout).valueId, value.valueId);
  });

  it('run on a file that is not media fails with the reason and stores nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-cli-'));
    const file = path.join(dir, 'notes.mp4');
    fs.writeFileSync(file, 'this is text, not video\n'.repeat(100));
    const r = await mediamesh(['run', 'media-probe', '--file', file], env);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /feature run failed: media-probe on [0-9a-f]{64}: not readable as media: ffprobe failed:/,
    );
    const hash = (await import('../../lib/objects/store.ts')).sha256File;
    const { sha256 } = await hash(file);
    const s = await workers.session();
    try {
      assert.equal(await s.db.featureValue.count({ where: { entityKey: sha256 } }), 0);
    } finally {
      await s.close();
    }
  });

  for (const [args, message] of [
    [['run', 'media-probe'], /give --asset <sha256> or --file <path>/],
    [['run', 'media-probe', '--asset', 'abc', '--params', '{bad'], /not valid JSON/],
    [['run', 'media-probe', '--asset', 'abc', '--params', '[1]'], /must be a JSON object/],
    [['run', 'media-probe', '--asset', 'abc'], /entity key must be a sha256 hex digest/],
    [['run', 'no-such-feature', '--asset', 'a'.repeat(64)], /unknown feature "no-such-feature"/],
    [
      ['run', 'media-probe', '--file', '/nonexistent/clip.mp4'],
      /cannot read \/nonexistent\/clip.mp4: ENOENT/,
    ],
    [['worker', 'tpu'], /value 'tpu' is invalid for argument 'kind'/],
  ] as const) {
    it(`refuses \`${args.join(' ')}\` with a specific message`, async () => {
      const r = await mediamesh([...args], env);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
    });
  }

  it('matchcut runs the whole chain on a landed clip and prints pairs with shot ranges and timecodes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-cli-mc-'));
    const file = await taggedCopy(
      findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!,
      path.join(media, 'testvideo.mp4'),
      dir,
      'clip.mp4',
    );
    const landed = await mediamesh(['run', 'media-probe', '--file', file, '--title', 'cli-mc'], env);
    assert.equal(landed.code, 0, landed.stderr);
    const json = await mediamesh(['matchcut', '--titles', 'cli-mc', '--k', '3', '--json'], env, 300_000);
    assert.equal(json.code, 0, json.stderr);
    const answer = JSON.parse(json.stdout);
    assert.equal(answer.memoHit, false);
    assert.deepEqual(answer.titles, ['cli-mc']);
    assert.ok(answer.pairs.length > 0 && answer.pairs.length <= 3);
    for (const p of answer.pairs) {
      assert.equal(p.a.asset, JSON.parse(landed.stdout).entityKey);
      assert.ok(p.a.frames[1] > p.a.frames[0] && p.b.frames[1] > p.b.frames[0]);
    }
    const table = await mediamesh(['matchcut', '--titles', 'cli-mc', '--k', '3'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /cli-mc · #\d+ · \[\d+, \d+\) · \d\d:\d\d\.\d\d–\d\d:\d\d\.\d\d/);
    assert.match(table.stdout, /\(memo hit\)/);
  });

  for (const [args, message] of [
    [['matchcut', '--titles', 'cli-mc', '--flavor', 'colour'], /unknown match-cut flavor "colour"/],
    [['matchcut', '--titles', 'no-such-title'], /no asset has landed for title\(s\): no-such-title/],
    [['matchcut', '--titles', 'cli-mc', '--k', '0'], /k must be at least 1/],
    [['matchcut', '--titles', 'cli-mc', '--k', '1000001'], /k must be at most 100000/],
    [['matchcut', '--titles', 'cli-mc', '--mode', 'fast'], /Allowed choices are auto, exact, ann/],
  ] as const) {
    it(`refuses \`${args.join(' ')}\` with a specific message`, async () => {
      const r = await mediamesh([...args], env);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
    });
  }

  it('a bad environment is reported by variable name', async () => {
    const r = await mediamesh(['status'], { ...env, TEMPORAL_ADDRESS: 'http://x' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TEMPORAL_ADDRESS: must be host:port/);
  });
});

describe('api process', () => {
  it('serves health openly and status only with a valid bearer token', async () => {
    const port = await freePort();
    const token = 'test-token-0123456789abcdef';
    const pid = spawnService(
      process.execPath,
      [new URL('../../bin/mediamesh.mjs', import.meta.url).pathname, 'api'],
      {
        logFile: path.join(workers.config.dataDir, 'logs', 'api-test.out'),
        env: { ...env, MEDIAMESH_API_PORT: String(port), MEDIAMESH_API_TOKENS: token },
      },
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('api', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
      assert.equal((await fetch(`${base}/v1/status`)).status, 401);
      assert.equal(
        (await fetch(`${base}/v1/status`, { headers: { authorization: 'Bearer wrong-token-0123456789' } }))
          .status,
        401,
      );
      const ok = await fetch(`${base}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.status, 200);
      assert.ok(((await ok.json()) as { services: unknown[] }).services.length >= 2);
      const features = await fetch(`${base}/v1/features`, { headers: { authorization: `Bearer ${token}` } });
      assert.ok(((await features.json()) as { name: string }[]).some((f) => f.name === 'media-probe'));
      assert.equal(
        (await fetch(`${base}/v1/nothing`, { headers: { authorization: `Bearer ${token}` } })).status,
        404,
      );
      assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405);
    } finally {
      assert.equal(await stopProcess(pid), 'stopped', 'api stops cleanly on SIGTERM');
    }
  });
});
