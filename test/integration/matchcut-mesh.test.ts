// Match cutting through the real mesh (Temporal, Postgres, worker processes, ffmpeg, onnxruntime): the
// per-title chain shots → shot-embedding → shot-dedup → matchcut-repr → matchcut-pairs on a generated title with
// exact ground truth, and the cross-title query as a memoized value over any subset of titles.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import type { MatchcutPairsValue } from '../../activities/features/matchcut-pairs.ts';
import type { MatchcutReprValue } from '../../activities/features/matchcut-repr.ts';
import type { ShotDedupValue } from '../../activities/features/shot-dedup.ts';
import type { ShotsValue } from '../../activities/features/shots.ts';
import type { MatchCutAnswer } from '../../activities/matchcut.ts';
import type { CorpusTitle } from '../../bench/corpus/corpus.ts';
import { REAL_CLIPS, realClipPath } from '../../bench/corpus/real-clips.ts';
import type { Session } from '../../lib/cli/context.ts';
import { runFeature } from '../../lib/features/client.ts';
import { readMatchCutAnswer, startMatchCut } from '../../lib/matchcut/client.ts';
import type { MatchCutRequest } from '../../lib/matchcut/request.ts';
import { ingestFile } from '../../lib/media/ingest.ts';
import { findMediaTools } from '../../lib/media/tools.ts';
import { FsObjectStore } from '../../lib/objects/store.ts';
import { loadVectorMatrix } from '../../lib/vector/matrix-file.ts';
import { CorpusTitleFixture } from '../support/corpus-title.ts';
import { TestWorkers } from '../support/harness.ts';
import { taggedCopy } from '../support/tagged-copy.ts';

const workers = new TestWorkers('matchcut');
const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!;
const corpus = new CorpusTitleFixture(tools);
let s: Session;
let objects: FsObjectStore;
let title: CorpusTitle;
let asset: string;

const featureValue = async <T>(feature: string, entityKey: string, titleId: string) => {
  const ref = await runFeature(s.client, s.config, s.registry, { feature, entityKey, titleId });
  const row = await s.db.featureValue.findUniqueOrThrow({ where: { id: BigInt(ref.valueId) } });
  return { ref, value: row.value as T };
};

/** The truth shot each detected shot overlaps most. */
function truthShotOf(shots: ShotsValue, detected: number): number {
  const d = shots.shots[detected]!;
  let best = -1;
  let overlap = 0;
  for (const t of title.truth.shots) {
    const o = Math.min(d.end, t.end) - Math.max(d.start, t.start);
    if (o > overlap) [best, overlap] = [t.index, o];
  }
  return best;
}

const failureText = (err: unknown) => {
  let text = '';
  for (let e: unknown = err; e instanceof Error; e = e.cause) text += ` ${e.message}`;
  return text;
};

/** Two seconds of black, with its own name in the container so its bytes are its own. */
async function blankVideo(name: string): Promise<string> {
  const file = path.join(corpus.root, name);
  await promisify(execFile)(tools.ffmpeg, [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'color=black:s=320x240:r=25:d=2', '-metadata', `title=${name}`],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', file],
  ]);
  return file;
}

describe('match cutting through the mesh', () => {
  before(async () => {
    const rendering = corpus.get();
    await workers.startAll();
    s = await workers.session();
    objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
    title = await rendering;
    const video = await taggedCopy(tools, title.video, corpus.root, 'mc-corpus.mp4');
    asset = (await ingestFile(s.db, objects, video, 'mc-corpus')).hash;
  });
  after(async () => {
    await s?.close();
    await workers.stopAll();
    corpus.remove();
  });

  it('per title: dedup finds the repeats and re-encodes, each flavor ranks its own kind of partner first', async () => {
    const frame = await featureValue<MatchcutPairsValue>('matchcut-pairs:frame', asset, 'mc-corpus');
    const shots = (await featureValue<ShotsValue>('shots', asset, 'mc-corpus')).value;
    const dedup = (await featureValue<ShotDedupValue>('shot-dedup', asset, 'mc-corpus')).value;
    // Duplicate groups, in ground-truth shot numbers.
    const groups = dedup.groups.map((g) => g.map((d) => truthShotOf(shots, d)));
    assert.deepEqual(
      groups,
      title.truth.duplicateGroups,
      'every repeat and near-duplicate grouped, nothing else',
    );
    for (const g of dedup.groups) {
      assert.ok(
        dedup.kept.includes(g[0]!) && g.slice(1).every((d) => !dedup.kept.includes(d)),
        'earliest kept',
      );
    }
    assert.deepEqual(
      Object.keys(dedup.SB_deduped).map(Number),
      dedup.kept,
      'SB_deduped lists the kept shots with their ranges',
    );
    // No pair involves a dropped duplicate or a blank shot; pairs are sorted by score.
    const scores = frame.value.pairs.map((p) => p.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
    for (const p of frame.value.pairs) {
      for (const x of [p.shot1, p.shot2]) assert.ok(dedup.kept.includes(x), `pair shot ${x} is kept`);
      assert.deepEqual(p.frames1, shots.SB[String(p.shot1)]);
    }
    const truthPair = (p: { shot1: number; shot2: number }) =>
      [truthShotOf(shots, p.shot1), truthShotOf(shots, p.shot2)].sort((a, b) => a - b).join(':');
    const labelled = (label: string) =>
      new Set(title.truth.pairs.filter((p) => p.label === label).map((p) => `${p.shot1}:${p.shot2}`));
    const composition = labelled('composition-match');
    assert.ok(
      frame.value.pairs.slice(0, 3).some((p) => composition.has(truthPair(p))),
      `a composition partner among the 3 best frame pairs: ${JSON.stringify(frame.value.pairs.slice(0, 3))}`,
    );
    const motion = await featureValue<MatchcutPairsValue>('matchcut-pairs:motion', asset, 'mc-corpus');
    const moves = labelled('motion-match');
    assert.ok(moves.has(truthPair(motion.value.pairs[0]!)), `best motion pair is a labelled motion match`);
    // The motion matrix leaves the static shots out.
    const repr = await featureValue<MatchcutReprValue>('matchcut-repr:motion', asset, 'mc-corpus');
    const staticKept = dedup.kept.filter(
      (d) => title.truth.shots[truthShotOf(shots, d)]!.content?.motion.class === 'static',
    ).length;
    assert.equal(repr.value.skipped, staticKept, 'static shots have no motion vector');
    const m = await loadVectorMatrix(objects, { uri: repr.ref.objectUri! });
    assert.equal(m.rows, dedup.kept.length - staticKept);
    assert.equal((await featureValue('matchcut-pairs:frame', asset, 'mc-corpus')).ref.memoHit, true);
  });

  it('across titles: on demand over any subset, memoized, the same answer whatever the order of titles', async () => {
    const testvideo = realClipPath(REAL_CLIPS.find((c) => c.file === 'testvideo.mp4')!);
    const copy = await taggedCopy(tools, testvideo, corpus.root, 'mc-clip.mp4');
    const clip = (await ingestFile(s.db, objects, copy, 'mc-clip')).hash;
    const sine = path.join(corpus.root, 'sine.wav');
    await promisify(execFile)(tools.ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=d=1', '-y', sine]);
    const tone = await taggedCopy(tools, sine, corpus.root, 'tone.wav');
    const audio = (await ingestFile(s.db, objects, tone, 'mc-clip')).hash;
    const blank = (await ingestFile(s.db, objects, await blankVideo('blank-in-clip.mp4'), 'mc-clip')).hash;
    const ask = async (request: MatchCutRequest) => {
      const ref = await (await startMatchCut(s.client, s.config, request)).result();
      return { ref, answer: await readMatchCutAnswer(s.db, ref) };
    };
    const first = await ask({ titles: ['mc-clip', 'mc-corpus'], flavor: 'frame', k: 20 });
    assert.equal(first.ref.memoHit, false);
    assert.equal(first.answer.method, 'exact');
    assert.deepEqual(first.answer.titles, ['mc-clip', 'mc-corpus']);
    assert.ok(first.answer.pairs.length === 20);
    assert.deepEqual(
      first.answer.skipped.map((x) => [x.titleId, x.asset]),
      [
        ['mc-clip', audio],
        ['mc-clip', blank],
      ],
      'the audio-only asset and the blank one are reported, not fatal',
    );
    assert.match(first.answer.skipped[0]!.reason, /no-video-stream/);
    assert.match(first.answer.skipped[1]!.reason, /no picture shots \(every shot is blank\)/);
    for (const p of first.answer.pairs) {
      assert.ok([asset, clip].includes(p.a.asset) && [asset, clip].includes(p.b.asset));
      assert.ok(p.a.seconds[1] > p.a.seconds[0]);
    }
    const again = await ask({ titles: ['mc-corpus', 'mc-clip'], flavor: 'frame', k: 20 });
    assert.equal(again.ref.valueId, first.ref.valueId, 'the same question is the same value');
    const across = await ask({
      titles: ['mc-clip', 'mc-corpus'],
      flavor: 'frame',
      k: 5,
      filters: { excludeSameTitle: true },
    });
    assert.ok(across.answer.pairs.length > 0 && across.answer.pairs.every((p) => p.a.title !== p.b.title));
    assert.notEqual(across.answer.cacheKey, first.answer.cacheKey);

    // The clip's bytes landed again, into another title: that title has them too (the first title keeps owning
    // them), and a query over both titles matches them once, under the first.
    assert.equal((await ingestFile(s.db, objects, copy, 'mc-reuse')).titleId, 'mc-clip');
    const sides = (a: { pairs: MatchCutAnswer['pairs'] }) =>
      a.pairs.map((p) => [p.a.asset, p.a.shot, p.b.asset, p.b.shot, p.score]);
    const clipOnly = await ask({ titles: ['mc-clip'], flavor: 'frame', k: 10 });
    assert.ok(clipOnly.answer.pairs.length > 0);
    const reused = await ask({ titles: ['mc-reuse'], flavor: 'frame', k: 10 });
    assert.deepEqual(sides(reused.answer), sides(clipOnly.answer));
    assert.ok(reused.answer.pairs.every((p) => p.a.title === 'mc-reuse' && p.b.title === 'mc-reuse'));
    const both = await ask({ titles: ['mc-reuse', 'mc-clip'], flavor: 'frame', k: 10 });
    assert.deepEqual(sides(both.answer), sides(clipOnly.answer), 'no pairs of the clip with itself');
    assert.deepEqual(
      both.answer.skipped.filter((x) => x.titleId === 'mc-reuse'),
      [{ titleId: 'mc-reuse', asset: clip, reason: 'also in title mc-clip: matched there, once' }],
    );
  });

  it('a title of blank shots gets empty values down the chain, not failures', async () => {
    const blank = (await ingestFile(s.db, objects, await blankVideo('blank.mp4'), 'mc-blank')).hash;
    const shots = await featureValue<ShotsValue>('shots', blank, 'mc-blank');
    assert.ok(shots.value.shots.length >= 1 && shots.value.shots.every((x) => x.blank));
    const embedding = await featureValue<{ rows: number }>('shot-embedding:layout', blank, 'mc-blank');
    assert.equal(embedding.value.rows, 0);
    assert.equal((await loadVectorMatrix(objects, { uri: embedding.ref.objectUri! })).rows, 0);
    const dedup = await featureValue<ShotDedupValue>('shot-dedup', blank, 'mc-blank');
    assert.deepEqual([dedup.value.kept, dedup.value.groups, dedup.value.SB_deduped], [[], [], {}]);
    for (const flavor of ['frame', 'motion']) {
      const repr = await featureValue<MatchcutReprValue>(`matchcut-repr:${flavor}`, blank, 'mc-blank');
      assert.equal(repr.value.rows, 0, flavor);
      const pairs = await featureValue<MatchcutPairsValue>(`matchcut-pairs:${flavor}`, blank, 'mc-blank');
      assert.deepEqual(pairs.value.pairs, [], flavor);
    }
    // The sinks take the empty values too: annotation runs without annotations, the index retires the entity.
    const undelivered = () =>
      s.db.outboxEvent.findMany({
        where: { value: { entityKey: blank }, OR: [{ deliveredAt: null }, { lastError: { not: null } }] },
        select: { sink: true, lastError: true, value: { select: { featureName: true } } },
      });
    let pending = await undelivered();
    for (let i = 0; i < 100 && pending.length > 0; i++) {
      await sleep(100);
      pending = await undelivered();
    }
    assert.deepEqual(pending, [], 'every sink delivered the empty values');
    const sinks = await s.db.outboxEvent.findMany({
      where: { value: { entityKey: blank } },
      select: { sink: true },
    });
    assert.deepEqual(new Set(sinks.map((x) => x.sink)), new Set(['annotations', 'vectors']));
    await assert.rejects(
      (await startMatchCut(s.client, s.config, { titles: ['mc-blank'], flavor: 'frame', k: 5 })).result(),
      (err: unknown) => {
        assert.match(failureText(err), /none of the titles has shots to match on.*every shot is blank/);
        return true;
      },
    );
  });

  it('bad queries fail once, saying what is wrong', async () => {
    const cases: [MatchCutRequest, RegExp][] = [
      [
        { titles: ['mc-corpus'], flavor: 'colour', k: 5 },
        /unknown match-cut flavor "colour" \(served: frame, motion\)/,
      ],
      [
        { titles: ['no-such-title'], flavor: 'frame', k: 5 },
        /no asset has landed for title\(s\): no-such-title/,
      ],
    ];
    for (const [request, message] of cases) {
      await assert.rejects((await startMatchCut(s.client, s.config, request)).result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(failureText(err), message);
        return true;
      });
    }
    await assert.rejects(
      startMatchCut(s.client, s.config, { titles: [], flavor: 'frame', k: 5 }),
      /at least one title/,
    );
    await assert.rejects(
      startMatchCut(s.client, s.config, { titles: ['a'], flavor: 'frame', k: 0 }),
      /k must be at least 1/,
    );
    await assert.rejects(
      startMatchCut(s.client, s.config, { titles: ['a', 'a'], flavor: 'frame', k: 3 }),
      /title a is given twice/,
    );
  });
});
