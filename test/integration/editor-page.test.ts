// The editor page end to end: workers and the api process on free ports with a token, the generated corpus
// title and a real clip landed as two titles through their title workflows, then the page in headless Chromium
// (Debian chromium driven by playwright-core): token, titles, flavor, k, run, pairs equal to the API's answer,
// both frames loaded, the score filter, a transition preview, the feature-run status. Plus the API's refusals.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { MatchCutAnswer } from '../../activities/matchcut.ts';
import type { CorpusTitle } from '../../bench/corpus/corpus.ts';
import { REAL_CLIPS, realClipPath } from '../../bench/corpus/real-clips.ts';
import type { EditorTitleStatus } from '../../lib/api/editor/routes.ts';
import type { Session } from '../../lib/cli/context.ts';
import { ingestFile } from '../../lib/media/ingest.ts';
import { findMediaTools } from '../../lib/media/tools.ts';
import { FsObjectStore } from '../../lib/objects/store.ts';
import { freePort, waitFor } from '../../lib/stack/processes.ts';
import { landAsset } from '../../lib/triggers/land.ts';
import { CorpusTitleFixture } from '../support/corpus-title.ts';
import { TestWorkers } from '../support/harness.ts';

const TOKEN = 'editor-test-token-0123456789abcdef';
const CORPUS_TITLE = 'ed-corpus';
const CLIP_TITLE = 'ed-clip';
const FEATURES = [
  'media-metadata',
  'media-qc',
  'video-360p-h264',
  'audio-16k-mono',
  'shots',
  'matchcut-repr:frame',
];

const workers = new TestWorkers('editor', {
  MEDIAMESH_FEATURE_MODULES: '',
  MEDIAMESH_PRODUCTIZED_FEATURES: FEATURES.join(','),
});
const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!;
const corpus = new CorpusTitleFixture(tools);
let s: Session;
let base: string;
let corpusAsset: string;
let clipAsset: string;
let title: CorpusTitle;
let browser: Browser | undefined;
let objects: FsObjectStore;

const get = (p: string, token: string | null = TOKEN) =>
  fetch(`${base}${p}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** A stream copy of a media file with a random tag: the same pictures in bytes no other test lands. */
async function taggedCopy(file: string, name: string): Promise<string> {
  const out = path.join(corpus.root, name);
  await promisify(execFile)(tools.ffmpeg, [
    ...['-v', 'error', '-i', file, '-map', '0', '-c', 'copy'],
    ...['-metadata', `comment=editor-test ${crypto.randomUUID()}`, '-y', out],
  ]);
  return out;
}

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

async function titleStatuses(): Promise<EditorTitleStatus[]> {
  const res = await get(`/v1/editor/status?titles=${CLIP_TITLE},${CORPUS_TITLE}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { titles: EditorTitleStatus[] }).titles;
}

interface MatchCutReply {
  state: 'done' | 'running';
  workflowId: string;
  id: string;
  memoHit?: boolean;
  answer?: MatchCutAnswer;
}

const postMatchCut = (body: unknown) =>
  fetch(`${base}/v1/editor/matchcut`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function apiAnswer(k: number): Promise<MatchCutReply & { answer: MatchCutAnswer }> {
  for (;;) {
    const res = await postMatchCut({ titles: [CORPUS_TITLE, CLIP_TITLE], flavor: 'frame', k, wait: 30 });
    if (res.status === 200) return (await res.json()) as MatchCutReply & { answer: MatchCutAnswer };
    assert.equal(res.status, 202, await res.text());
  }
}

/** Polls an expression in the page (not page.waitForFunction: its string predicates need eval, which the
 * page's Content-Security-Policy rightly refuses). */
async function until(page: Page, what: string, expression: string, timeoutMs: number): Promise<void> {
  await waitFor(what, async () => ((await page.evaluate(expression)) ? true : undefined), {
    timeoutMs,
    intervalMs: 250,
  });
}

/** What the page shows for each pair, read from the DOM. */
interface ShownPair {
  rank: string;
  score: string;
  scoreText: string;
  a: string;
  b: string;
  hidden: boolean;
  captions: string[];
}

const shownPairs = (page: Page): Promise<ShownPair[]> =>
  page.evaluate(`[...document.querySelectorAll('#pairs .pair')].map((li) => ({
    rank: li.dataset.rank,
    score: li.dataset.score,
    scoreText: li.querySelector('.score').textContent,
    a: li.dataset.a,
    b: li.dataset.b,
    hidden: li.hidden,
    captions: [...li.querySelectorAll('figcaption')].map((c) => c.textContent),
  }))`);

describe('the editor page', () => {
  before(async () => {
    const rendering = corpus.get();
    await workers.startAll();
    s = await workers.session();
    objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
    title = await rendering;
    const deps = { db: s.db, client: s.client, config: s.config, registry: s.registry, objects };
    // Other test files land the same clip and corpus on the shared stack, and an asset belongs to the first
    // title that landed its bytes: these are remuxed copies with a tag of their own (same pictures, new bytes).
    const clip = realClipPath(REAL_CLIPS.find((c) => c.file === 'testvideo.mp4')!);
    const [corpusFile, clipFile] = await Promise.all([
      taggedCopy(title.video, 'corpus.mp4'),
      taggedCopy(clip, 'clip.mp4'),
    ]);
    corpusAsset = (
      await landAsset(deps, { titleId: CORPUS_TITLE, source: { file: corpusFile }, origin: 'test' })
    ).assetHash;
    clipAsset = (await landAsset(deps, { titleId: CLIP_TITLE, source: { file: clipFile }, origin: 'test' }))
      .assetHash;
    const port = await freePort();
    workers.start('api', {
      MEDIAMESH_API_PORT: String(port),
      MEDIAMESH_GRPC_PORT: String(await freePort()),
      MEDIAMESH_API_TOKENS: TOKEN,
    });
    base = `http://127.0.0.1:${port}`;
    await waitFor('the api', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
  });

  after(async () => {
    await browser?.close();
    await s?.close();
    await workers.stopAll();
    corpus.remove();
  });

  it('refuses /v1/editor/ calls without the token; serves the page without one', async () => {
    for (const p of [
      '/v1/editor/titles',
      `/v1/editor/frame?asset=${corpusAsset}&frame=0`,
      `/v1/editor/status?titles=${CORPUS_TITLE}`,
      `/v1/editor/preview?a=${corpusAsset}:0-10&b=${clipAsset}:0-10`,
      '/v1/editor/matchcut/0000000000000000000000000000000000000000000000000000000000000000/progress',
    ]) {
      assert.equal((await get(p, null)).status, 401, p);
      assert.equal((await get(p, 'not-the-token-0123456789')).status, 401, p);
    }
    const post = await fetch(`${base}/v1/editor/matchcut`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(post.status, 401);
    const page = await get('/editor', null);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/editor\/editor.js">/);
    assert.equal((await get('/editor/editor.js', null)).status, 200);
    assert.equal((await get('/editor/editor.css', null)).status, 200);
    assert.equal((await get('/editor/secrets.js', null)).status, 404);
    assert.equal((await get('/editor/..%2F..%2Fpackage.json', null)).status, 404);
  });

  it('validates parameters: bad frame → 400 naming the limit, unknown asset → 404, hostile input → 400', async () => {
    // The derivative may still be in the making: wait for it through the status the page reads.
    await waitFor(
      'the corpus derivative',
      async () =>
        (await titleStatuses())
          .find((t) => t.titleId === CORPUS_TITLE)
          ?.features.find((f) => f.feature === 'video-360p-h264')?.done
          ? true
          : undefined,
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    const derivative = await s.db.featureValue.findFirstOrThrow({
      where: { featureName: 'video-360p-h264', entityKey: corpusAsset },
      orderBy: { attempt: 'desc' },
    });
    const n = (derivative.value as { frames: number }).frames;
    const past = await get(`/v1/editor/frame?asset=${corpusAsset}&frame=${n}`);
    assert.equal(past.status, 400);
    assert.equal(
      await errorOf(past),
      `frame: ${n} is past the end: asset ${corpusAsset} has ${n} frames (0–${n - 1})`,
    );
    const last = await get(`/v1/editor/frame?asset=${corpusAsset}&frame=${n - 1}&width=64`);
    assert.equal(last.status, 200);
    assert.equal(last.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual([...new Uint8Array(await last.arrayBuffer()).slice(0, 2)], [0xff, 0xd8]);

    const unknown = 'f'.repeat(64);
    const missing = await get(`/v1/editor/frame?asset=${unknown}&frame=0`);
    assert.equal(missing.status, 404);
    assert.equal(await errorOf(missing), `asset: no asset with content hash ${unknown}`);
    const missingPreview = await get(`/v1/editor/preview?a=${corpusAsset}:0-10&b=${unknown}:0-10`);
    assert.equal(missingPreview.status, 404);
    assert.match(await errorOf(missingPreview), /^b: no asset with content hash f{64}$/);

    const cases: [string, RegExp][] = [
      [`/v1/editor/frame?asset=../../etc/passwd&frame=0`, /^asset: must be a sha256 content hash/],
      [`/v1/editor/frame?asset=${corpusAsset}&frame=-1`, /^frame: must be a frame index/],
      [`/v1/editor/frame?asset=${corpusAsset}&frame=1.5`, /^frame: must be a frame index/],
      [`/v1/editor/frame?asset=${corpusAsset}&frame=0&width=5000`, /^width: must be at most 1280/],
      [`/v1/editor/frame?asset=${corpusAsset}&frame=0&frame=1`, /^frame: given more than once/],
      [`/v1/editor/frame?asset=${corpusAsset}&frame=0&path=/etc`, /path/],
      [`/v1/editor/preview?a=${corpusAsset}:0-10`, /^b: /],
      [`/v1/editor/preview?a=${corpusAsset}:10-5&b=${clipAsset}:0-10`, /^a: the end frame must be greater/],
      [`/v1/editor/preview?a=/etc/passwd:0-10&b=${clipAsset}:0-10`, /^a: must be <sha256>:<start>-<end>/],
      [
        `/v1/editor/preview?a=${corpusAsset}:0-${n + 1}&b=${clipAsset}:0-10`,
        new RegExp(`^a: end frame ${n + 1} is past the end: asset ${corpusAsset} has ${n} frames`),
      ],
      [`/v1/editor/status?titles=../x`, /^titles\.0: title ids are/],
      [`/v1/editor/status?titles=`, /^titles: choose at least one title/],
      [`/v1/editor/matchcut/nope/progress`, /^id: must be a match-cut workflow id/],
    ];
    for (const [p, message] of cases) {
      const res = await get(p);
      assert.equal(res.status, 400, p);
      assert.match(await errorOf(res), message, p);
    }
    const bad: [unknown, number, RegExp][] = [
      [{ titles: [CORPUS_TITLE], flavor: 'colour', k: 5 }, 400, /^flavor: unknown match-cut flavor "colour"/],
      [{ titles: [CORPUS_TITLE], flavor: 'frame', k: 0 }, 400, /^k: must be at least 1/],
      [{ titles: [CORPUS_TITLE], flavor: 'frame', k: 1e6 }, 400, /^k: must be at most 200/],
      [{ titles: [], flavor: 'frame', k: 5 }, 400, /^titles: choose at least one title/],
      [{ titles: ['a', 'a'], flavor: 'frame', k: 5 }, 400, /title a is given twice/],
      [{ titles: ['a'], flavor: 'frame', k: 5, extra: 1 }, 400, /extra/],
      [{ titles: ['no-such-title'], flavor: 'frame', k: 5 }, 404, /no asset has landed for no-such-title/],
    ];
    for (const [body, status, message] of bad) {
      const res = await postMatchCut(body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match(await errorOf(res), message, JSON.stringify(body));
    }

    // A query that fails in the mesh (the only asset has no video) → 422 with the reason; a title ingested
    // without a title workflow has no feature-run status.
    const tone = path.join(corpus.root, 'tone.wav');
    await promisify(execFile)(tools.ffmpeg, [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'sine=d=1'],
      ...['-metadata', `comment=editor-test ${crypto.randomUUID()}`, '-y', tone],
    ]);
    await ingestFile(s.db, objects, tone, 'ed-audio');
    let failed: Response;
    do failed = await postMatchCut({ titles: ['ed-audio'], flavor: 'frame', k: 5, wait: 30 });
    while (failed.status === 202);
    const reason = await errorOf(failed);
    assert.equal(failed.status, 422, reason);
    assert.match(reason, /ed-audio/);
    const audioStatus = await get('/v1/editor/status?titles=ed-audio');
    assert.deepEqual(((await audioStatus.json()) as { titles: EditorTitleStatus[] }).titles, [
      {
        titleId: 'ed-audio',
        found: false,
        assets: 0,
        features: [],
        totals: { done: 0, running: 0, pending: 0, failed: 0 },
      },
    ]);
  });

  it('runs a query in headless Chromium and shows the pairs, frames, filter, preview and status', async (t) => {
    browser = await chromium.launch({
      executablePath: process.env.MEDIAMESH_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        ...['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
        ...['--disable-background-networking', '--disable-component-update', '--disable-sync'],
      ],
    });
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    const queryReplies: number[] = [];
    const progressReplies: number[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) consoleErrors.push(`${r.status()} ${r.url()}`);
      if (r.url().endsWith('/v1/editor/matchcut')) queryReplies.push(r.status());
      if (r.url().endsWith('/progress')) progressReplies.push(r.status());
    });
    await page.goto(`${base}/editor`);
    await page.locator('#token').fill(TOKEN);
    await page.locator('#token-form button[type=submit]').click();
    await page.locator(`#titles input[value="${CORPUS_TITLE}"]`).check();
    await page.locator(`#titles input[value="${CLIP_TITLE}"]`).check();
    await page.locator('#flavor').selectOption('frame');
    await page.locator('#k').fill('10');
    await page.locator('#run').click();
    await until(page, 'the pairs', `document.querySelectorAll('#pairs .pair').length > 0`, 600_000);
    assert.equal(
      await page.evaluate(`sessionStorage.getItem('mediamesh.editor.token')`),
      TOKEN,
      'the token is kept in sessionStorage',
    );

    // The pairs shown are the API's answer: order, scores, shot ranges.
    const reply = await apiAnswer(10);
    const answer = reply.answer;
    assert.equal(reply.memoHit, true, 'the API joins the answer the page asked for');
    assert.equal(answer.pairs.length, 10);
    // The page started the run (a 202 with its id), showed its progress, then long-polled the answer.
    t.diagnostic(`page: query replies ${queryReplies.join(', ')}; ${progressReplies.length} progress polls`);
    assert.equal(queryReplies[0], 202);
    assert.equal(queryReplies.at(-1), 200);
    assert.ok(progressReplies.length > 0 && progressReplies.every((x) => x === 200), `${progressReplies}`);
    for (const id of [reply.id, encodeURIComponent(reply.workflowId)]) {
      const progress = await get(`/v1/editor/matchcut/${id}/progress`);
      assert.equal(progress.status, 200);
      assert.deepEqual(await progress.json(), {
        workflowId: reply.workflowId,
        status: 'COMPLETED',
        progress: { phase: 'done', done: 1, total: 1 },
      });
    }
    assert.equal((await get(`/v1/editor/matchcut/${'0'.repeat(64)}/progress`)).status, 404);
    const shown = await shownPairs(page);
    assert.deepEqual(
      shown.map((p) => [p.rank, Number(p.score), p.scoreText, p.a, p.b]),
      answer.pairs.map((p, i) => [
        String(i + 1),
        p.score,
        p.score.toFixed(4),
        `${p.a.asset}:${p.a.frames[0]}-${p.a.frames[1]}`,
        `${p.b.asset}:${p.b.frames[0]}-${p.b.frames[1]}`,
      ]),
    );
    answer.pairs.forEach((p, i) => {
      const [ca, cb] = shown[i]!.captions;
      assert.ok(
        ca!.includes(`A · ${p.a.title} · shot #${p.a.shot} · frames [${p.a.frames[0]}, ${p.a.frames[1]})`),
      );
      assert.ok(
        cb!.includes(`B · ${p.b.title} · shot #${p.b.shot} · frames [${p.b.frames[0]}, ${p.b.frames[1]})`),
      );
      assert.ok(
        ca!.includes(`last frame ${p.a.frames[1] - 1}`) && cb!.includes(`first frame ${p.b.frames[0]}`),
      );
    });
    assert.ok(
      answer.pairs.some((p) => p.a.title !== p.b.title),
      'pairs across the two titles',
    );

    // Both frames of every pair loaded, 320 pixels wide.
    await until(
      page,
      'the frames',
      `[...document.querySelectorAll('#pairs img')].every((i) => i.complete && i.naturalWidth > 0)`,
      120_000,
    );
    const widths = (await page.evaluate(
      `[...document.querySelectorAll('#pairs img')].map((i) => i.naturalWidth)`,
    )) as number[];
    assert.deepEqual(widths, new Array(20).fill(320));

    // The score filter hides the pairs below it.
    const scores = answer.pairs.map((p) => p.score);
    const gap = scores.findIndex((x, i) => i + 1 < scores.length && x - scores[i + 1]! > 2e-4 && i >= 1);
    assert.ok(gap >= 0, `two neighbouring scores far enough apart: ${scores}`);
    const threshold = (scores[gap]! + scores[gap + 1]!) / 2;
    const applied = Number(
      await page.evaluate(`(() => {
        const s = document.getElementById('min-score');
        s.value = String(${threshold});
        s.dispatchEvent(new Event('input', { bubbles: true }));
        return s.value;
      })()`),
    );
    assert.ok(applied > scores[gap + 1]! && applied <= scores[gap]!, `slider at ${applied}`);
    const filtered = await shownPairs(page);
    assert.deepEqual(
      filtered.map((p) => p.hidden),
      scores.map((x) => x < applied),
    );
    assert.equal(filtered.filter((p) => !p.hidden).length, gap + 1);
    assert.match((await page.locator('#shown').textContent())!, new RegExp(`showing ${gap + 1} of 10`));

    // Back to every pair.
    await page.evaluate(`(() => {
      const s = document.getElementById('min-score');
      s.value = s.min;
      s.dispatchEvent(new Event('input', { bubbles: true }));
    })()`);
    assert.ok((await shownPairs(page)).every((p) => !p.hidden));
    assert.match((await page.locator('#shown').textContent())!, /showing 10 of 10/);

    // A preview of the cut: the last ~1.5 s of A, then the first ~1.5 s of B (≈ 3 s when both shots are long).
    const long = (x: MatchCutAnswer['pairs'][number]['a']) => x.seconds[1] - x.seconds[0] >= 1.5;
    const pick = Math.max(
      0,
      answer.pairs.findIndex((p) => long(p.a) && long(p.b)),
    );
    const chosen = answer.pairs[pick]!;
    const expected =
      Math.min(1.5, chosen.a.seconds[1] - chosen.a.seconds[0]) +
      Math.min(1.5, chosen.b.seconds[1] - chosen.b.seconds[0]);
    const item = page.locator(`#pairs .pair[data-rank="${pick + 1}"]`);
    await item.locator('.preview-button').click();
    await until(
      page,
      'the preview',
      `(() => { const v = document.querySelector('#pairs .pair[data-rank="${pick + 1}"] video');
        return !!v && v.readyState >= 1 && Number.isFinite(v.duration); })()`,
      120_000,
    );
    const duration = (await page.evaluate(
      `document.querySelector('#pairs .pair[data-rank="${pick + 1}"] video').duration`,
    )) as number;
    assert.ok(Math.abs(duration - expected) < 0.2, `preview lasts ${duration} s, expected ≈ ${expected} s`);
    if (long(chosen.a) && long(chosen.b)) assert.ok(Math.abs(duration - 3) < 0.2);
    // The same preview again comes from the object store, byte for byte.
    const q = `a=${chosen.a.asset}:${chosen.a.frames[0]}-${chosen.a.frames[1]}&b=${chosen.b.asset}:${chosen.b.frames[0]}-${chosen.b.frames[1]}`;
    const [p1, p2] = [await get(`/v1/editor/preview?${q}`), await get(`/v1/editor/preview?${q}`)];
    assert.equal(p1.headers.get('content-type'), 'video/mp4');
    assert.equal(p1.headers.get('etag'), p2.headers.get('etag'));
    const mp4 = Buffer.from(await p1.arrayBuffer());
    assert.equal(mp4.subarray(4, 8).toString('latin1'), 'ftyp');
    assert.ok(mp4.indexOf('moov') < mp4.indexOf('mdat'), 'faststart: the index before the media');
    const ranged = await fetch(`${base}/v1/editor/preview?${q}`, {
      headers: { authorization: `Bearer ${TOKEN}`, range: 'bytes=0-99' },
    });
    assert.equal(ranged.status, 206);
    assert.equal((await ranged.arrayBuffer()).byteLength, 100);

    // The status panel: every feature of both titles done.
    await waitFor(
      'every feature run done',
      async () =>
        (await titleStatuses()).every((t) => t.found && t.totals.pending + t.totals.running === 0)
          ? true
          : undefined,
      { timeoutMs: 300_000, intervalMs: 1000 },
    );
    await until(
      page,
      'the status panel',
      `(() => {
        const rows = [...document.querySelectorAll('#status-titles .title-status[data-title="${CORPUS_TITLE}"] tr[data-feature], #status-titles .title-status[data-title="${CLIP_TITLE}"] tr[data-feature]')];
        return rows.length === ${2 * FEATURES.length} && rows.every((r) => r.dataset.state === 'done');
      })()`,
      60_000,
    );
    const statusText = (await page.locator('#status-titles').textContent())!;
    for (const f of FEATURES) assert.ok(statusText.includes(f), `status lists ${f}`);
    assert.match(statusText, /done 1\/1/);
    // Both audio derivatives are done now: the cut's preview has a sound track (silence: neither video has
    // sound), a new object if the first one was made before them (see test/unit/editor-transition.test.ts).
    const sounded = await get(`/v1/editor/preview?${q}`);
    assert.equal(sounded.headers.get('x-preview-sound'), 'yes');
    if (p1.headers.get('x-preview-sound') === 'no')
      assert.notEqual(sounded.headers.get('etag'), p1.headers.get('etag'));
    assert.ok(Buffer.from(await sounded.arrayBuffer()).includes('mp4a'), 'an AAC track');
    const shot = process.env.MEDIAMESH_EDITOR_SCREENSHOT;
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    assert.deepEqual(consoleErrors, [], 'no errors in the page');
  });
});
