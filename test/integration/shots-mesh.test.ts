// The shots feature through the real mesh (Temporal, Postgres, worker processes, ffmpeg): a generated title with
// exact ground truth, the real PySceneDetect clips on their derivatives' frame indices, and bad input.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import type { ShotsValue } from '../../activities/features/shots.ts';
import { REAL_CLIPS, realClipPath } from '../../bench/corpus/real-clips.ts';
import type { Session } from '../../lib/cli/context.ts';
import { runFeature } from '../../lib/features/client.ts';
import { openAsset } from '../../lib/media/assets.ts';
import { ingestFile } from '../../lib/media/ingest.ts';
import { findMediaTools } from '../../lib/media/tools.ts';
import { FsObjectStore } from '../../lib/objects/store.ts';
import { evaluate } from '../../lib/shots/evaluate.ts';
import { CorpusTitleFixture, truthBoundaries } from '../support/corpus-title.ts';
import { TestWorkers } from '../support/harness.ts';
import { taggedCopy } from '../support/tagged-copy.ts';

const workers = new TestWorkers('shots');
const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!;
const corpus = new CorpusTitleFixture(tools);
let s: Session;
let objects: FsObjectStore;

const ingest = async (file: string) => (await ingestFile(s.db, objects, file, 'shots-test')).hash;
const run = (entityKey: string) =>
  runFeature(s.client, s.config, s.registry, { feature: 'shots', entityKey, titleId: 'shots-test' });
async function shotsOf(file: string) {
  const key = await ingest(file);
  const ref = await run(key);
  const row = await s.db.featureValue.findUniqueOrThrow({
    where: { id: BigInt(ref.valueId) },
    include: { inputs: true },
  });
  return { key, ref, row, value: row.value as ShotsValue };
}
const detected = (v: ShotsValue) => v.boundaries.map((b) => ({ type: b.type, frame: b.frame }));

function assertPartition(v: ShotsValue) {
  const ranges = Object.keys(v.SB)
    .map(Number)
    .sort((a, b) => a - b)
    .map((i) => v.SB[String(i)]!);
  assert.equal(ranges[0]![0], 0);
  assert.equal(ranges[ranges.length - 1]![1], v.frames);
  for (let i = 1; i < ranges.length; i++)
    assert.equal(ranges[i]![0], ranges[i - 1]![1], 'shots are contiguous');
  assert.deepEqual(
    v.boundaries.map((b) => b.frame),
    ranges.slice(1).map((r) => r[0]),
  );
}

describe('shots through the mesh', () => {
  before(async () => {
    // The title renders while the workers start.
    const title = corpus.get();
    await workers.startAll();
    s = await workers.session();
    objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
    await title;
  });
  after(async () => {
    await s?.close();
    await workers.stopAll();
    corpus.remove();
  });

  it('a generated title: every cut to the frame, every dissolve and fade, a partition of the derivative', async () => {
    const title = await corpus.get();
    // Other test files land the same generated title: a tagged copy is bytes only this test computes.
    const copy = await taggedCopy(tools, title.video, corpus.root, 'shots-title.mp4');
    const { key, ref, row, value } = await shotsOf(copy);
    assert.equal(value.frames, title.truth.frames, 'the derivative keeps every frame of the 25 fps title');
    assertPartition(value);
    const e = evaluate(truthBoundaries(title), detected(value));
    assert.deepEqual(
      [e.hard.tp, e.hard.fp, e.hard.fn],
      [title.truth.transitions.filter((t) => t.type === 'hard').length, 0, 0],
      `cuts: ${JSON.stringify(e.missed)} ${JSON.stringify(e.spurious)}`,
    );
    for (const m of e.matches) {
      const t = title.truth.transitions[m.truth]!;
      if (t.type === 'hard')
        assert.equal(value.boundaries[m.detected]!.frame, t.boundary, 'cuts are frame-exact');
    }
    assert.ok(e.gradual.f1 >= 0.8, `gradual F1 ${e.gradual.f1}: ${JSON.stringify(e.missed)}`);
    // The black gap between a fade-out and a fade-in is a blank shot (it may start a little early: the last
    // frames of a fade are nearly black).
    const gap = title.truth.shots.find((x) => x.blank)!;
    const blankShot = value.shots.find((x) => x.start <= gap.start + 2 && x.end >= gap.end - 2);
    assert.ok(
      blankShot?.blank && blankShot.end - blankShot.start < gap.end - gap.start + 12,
      JSON.stringify(blankShot),
    );
    const video = await s.db.featureValue.findFirstOrThrow({
      where: { featureName: 'video-360p-h264', entityKey: key },
    });
    assert.deepEqual(
      row.inputs.map((i) => i.inputValueId),
      [video.id],
      'computed from the standardized derivative',
    );
    assert.equal(ref.memoHit, false);
    assert.equal((await run(key)).memoHit, true, 'a second request is a memo hit');
  });

  it('the real clips, on their derivatives: counter cuts at 10 and 20, the film cuts, no boundary in a uniform fade', async () => {
    for (const clip of REAL_CLIPS) {
      const { key, value } = await shotsOf(realClipPath(clip));
      assertPartition(value);
      const e = evaluate(clip.truth, detected(value));
      assert.deepEqual(
        [e.all.fp, e.all.fn],
        [0, 0],
        `${clip.file}: missed ${JSON.stringify(e.missed)}, spurious ${JSON.stringify(e.spurious)}`,
      );
      if (clip.file === 'counter.mp4') {
        // Frame 20 of the derivative really is the first green frame (the clip's own frame 21).
        const reader = await (await openAsset({ db: s.db, objects, tools }, key)).video();
        const [before, at] = [await reader.frame(19, { width: 8 }), await reader.frame(20, { width: 8 })];
        const green = (f: typeof at) => f.data[1]! - f.data[0]!;
        assert.ok(
          green(at) > 20 && green(before) < 0,
          `frame 19 red, frame 20 green: ${green(before)}, ${green(at)}`,
        );
        assert.deepEqual(value.SB, { '0': [0, 10], '1': [10, 20], '2': [20, 30] });
      }
    }
  });

  it('refuses an asset without a video stream, once, saying why', async () => {
    const audio = path.join(corpus.root, 'tone.wav');
    await promisify(execFile)(tools.ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=d=1', '-y', audio]);
    const key = await ingest(audio);
    await assert.rejects(run(key), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      let messages = '';
      for (let e: unknown = err; e instanceof Error; e = e.cause) messages += ` ${e.message}`;
      assert.match(messages, /quarantined by media-qc: no-video-stream/);
      return true;
    });
    assert.equal(await s.db.featureValue.count({ where: { entityKey: key, featureName: 'shots' } }), 0);
  });
});
