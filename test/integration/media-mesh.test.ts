// Media access through the real mesh: real Temporal, real Postgres, real worker processes and ffmpeg. QC and the
// recipes as feature workflows, quarantine of bad input, a worker killed mid-transcode, the CLI functions.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import mediaMetadata from '../../activities/features/media-metadata.ts';
import mediaQc from '../../activities/features/media-qc.ts';
import videoRecipe from '../../activities/features/video-360p-h264.ts';
import type { Session } from '../../lib/cli/context.ts';
import { framesCommand, mediaCommand, renderMedia } from '../../lib/cli/media.ts';
import { runFeature, startFeature } from '../../lib/features/client.ts';
import { featureWorkflowId } from '../../lib/features/refs.ts';
import { openAsset } from '../../lib/media/assets.ts';
import { ingestFile } from '../../lib/media/ingest.ts';
import type { QcVerdict } from '../../lib/media/qc.ts';
import { findMediaTools } from '../../lib/media/tools.ts';
import { FsObjectStore } from '../../lib/objects/store.ts';
import { TestWorkers } from '../support/harness.ts';
import { MediaFixtures, readBarcode, realClip } from '../support/media-fixtures.ts';
import { runLocally } from '../support/media-local.ts';

const workers = new TestWorkers('media');
const fixtures = new MediaFixtures();
const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!;
let s: Session;
let objects: FsObjectStore;

const ingest = async (file: string) => (await ingestFile(s.db, objects, file, 'media-test')).hash;
const run = (feature: string, entityKey: string) =>
  runFeature(s.client, s.config, s.registry, { feature, entityKey, titleId: 'media-test' });
const value = async (feature: string, entityKey: string) =>
  s.db.featureValue.findFirstOrThrow({
    where: { featureName: feature, entityKey },
    include: { inputs: true },
  });
const media = () => ({ db: s.db, objects, tools });

async function historyEvents(workflowId: string) {
  const history = await s.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

describe('media features through the mesh', () => {
  before(async () => {
    await workers.startAll();
    s = await workers.session();
    objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
  });
  after(async () => {
    await s?.close();
    await workers.stopAll();
    fixtures.remove();
  });

  it('standardizes a real VFR clip: verdict, derivatives with lineage, frames read back by index', async () => {
    const key = await ingest(realClip('goldeneye-vfr-drop3.mp4'));
    await Promise.all([run('keyframes', key), run('audio-16k-mono', key)]);
    const qc = await value('media-qc', key);
    assert.equal((qc.value as QcVerdict).status, 'normalize');
    assert.deepEqual(
      (qc.value as QcVerdict).reasons.map((r) => r.code),
      ['vfr'],
    );
    const meta = await value('media-metadata', key);
    const video = await value('video-360p-h264', key);
    assert.deepEqual(
      video.inputs.map((i) => i.inputValueId).sort(),
      [meta.id, qc.id].sort(),
      'the derivative records the metadata and verdict it was made from',
    );
    const v = video.value as { frames: number; frameRate: string; normalized: string[] };
    assert.deepEqual([v.frames, v.frameRate, v.normalized], [239, '24000/1001', ['vfr']]);
    assert.ok(await objects.has(video.objectHash!));
    const keyframes = await value('keyframes', key);
    assert.deepEqual(
      keyframes.inputs.map((i) => i.inputValueId),
      [video.id],
    );

    const asset = await openAsset(media(), key);
    const reader = await asset.video();
    assert.equal(reader.frameCount, 239);
    const f = await reader.frame(100, { width: 212, pixelFormat: 'rgb24' });
    assert.deepEqual([f.index, f.width, f.height], [100, 212, 90]);
    const thumbs = [];
    for await (const t of asset.keyframes({ width: 106 })) thumbs.push(t.index);
    assert.deepEqual(thumbs, [0, 48, 96, 144, 192]);
    const audio = await asset.audio();
    assert.ok(Math.abs(audio.durationSec - reader.durationSec) < 0.05, 'silence as long as the video');
  });

  it('quarantines bad input: the reject verdict is stored, recipes refuse once and say why, nothing is deleted', async () => {
    const cases: [string, RegExp][] = [
      ['truncated-moov.mp4', /quarantined by media-qc: truncated: the iso-bmff file is cut short/],
      ['text.mp4', /quarantined by media-qc: not-media: not a media file/],
      ['corrupt-payload.mp4', /quarantined by media-qc: corrupt: \d+ video decode errors/],
    ];
    for (const [name, message] of cases) {
      const key = await ingest(await fixtures.get(name));
      await assert.rejects(run('video-360p-h264', key), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError, name);
        assert.match(String((err.cause as Error)?.cause ?? err.cause), message);
        return true;
      });
      const verdict = (await value('media-qc', key)).value as QcVerdict;
      assert.equal(verdict.status, 'reject', `${name}: the verdict is the quarantine record`);
      const started = (await historyEvents(featureWorkflowId('video-360p-h264', 1, key))).filter(
        (e) => e.activityTaskStartedEventAttributes,
      );
      assert.deepEqual(
        started.map((e) => e.activityTaskStartedEventAttributes!.attempt),
        [1],
        `${name}: refused on the first try, not retried`,
      );
      assert.equal(
        await s.db.featureValue.count({ where: { entityKey: key, featureName: 'video-360p-h264' } }),
        0,
      );
      const asset = await s.db.asset.findUniqueOrThrow({ where: { hash: key } });
      assert.ok(
        fs.existsSync(await objects.localPath({ uri: asset.objectUri })),
        `${name}: the bytes are kept`,
      );
    }
  });

  it('a worker killed mid-transcode: the retry resumes, heartbeats show progress, same bytes, no partial object', async () => {
    const long = path.join(fixtures.dir, 'long.mp4');
    await promisify(execFile)('ffmpeg', [
      ...['-v', 'error', '-y', '-stream_loop', '11', '-i', await fixtures.get('barcode.mp4')],
      ...['-map', '0:v', '-c', 'copy', long],
    ]);
    const key = await ingest(long);
    await run('media-metadata', key);
    // The QC gate's decode pass writes the 360p derivative: that is the transcode to interrupt.
    const handle = await startFeature(s.client, s.config, s.registry, {
      feature: 'media-qc',
      entityKey: key,
    });
    const scratch = objects.scratchDir;
    const partials = () =>
      fs.existsSync(scratch)
        ? fs.readdirSync(scratch).filter((f) => f.startsWith(`video-360p-h264@1-${key}`))
        : [];
    let progress: { frame?: number; fraction?: number; stage?: string } = {};
    for (let i = 0; i < 200 && !(progress.frame! > 0); i++) {
      await sleep(100);
      const desc = await handle.describe();
      const payload = desc.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]?.data;
      if (payload) progress = JSON.parse(Buffer.from(payload).toString('utf8'));
    }
    assert.ok(
      progress.frame! > 0 && progress.fraction! < 1 && progress.stage === 'decode+video-360p-h264@1',
      `decode and transcode under way: ${JSON.stringify(progress)}`,
    );
    assert.equal(partials().length, 1, 'one partial file being written');
    workers.kill('cpu');
    await sleep(500);
    assert.equal(partials().length, 1, 'the dead worker left its partial file');
    workers.start('cpu');
    await handle.result();
    assert.deepEqual(partials(), [], 'the retry swept the dead partial file and cleaned up its own');
    const started = (await historyEvents(handle.workflowId)).filter(
      (e) => e.activityTaskStartedEventAttributes,
    );
    assert.equal(
      started.at(-1)!.activityTaskStartedEventAttributes!.attempt,
      2,
      'completed on the second try',
    );
    const verdict = (await value('media-qc', key)).value as QcVerdict;
    assert.equal(verdict.decode?.framesDecoded, 3000, 'the retry decoded every frame');
    const ref = await run('video-360p-h264', key);
    assert.equal(ref.objectUri, verdict.staged[0]?.object.uri, 'the recipe adopted the staged derivative');
    const local = await runLocally([mediaMetadata, mediaQc, videoRecipe], long, {
      objects: new FsObjectStore(path.join(fixtures.dir, 'local-store')),
      tools,
    });
    const expected = (local.values['video-360p-h264']!.value as { object: { uri: string } }).object.uri;
    assert.equal(ref.objectUri, expected, 'the interrupted transcode, retried, gives the same bytes');
    assert.equal(
      await s.db.featureValue.count({ where: { entityKey: key, featureName: 'video-360p-h264' } }),
      1,
    );
  });

  it('the CLI functions: media reports verdict and derivatives; frames streams raw frames to a file', async () => {
    const rotated = await mediaCommand(s, await fixtures.get('barcode-rotated.mp4'), { title: 'cli' });
    assert.equal(rotated.verdict.status, 'normalize');
    assert.deepEqual(
      rotated.derivatives.map((d) => d.recipe),
      ['video-360p-h264@1', 'audio-16k-mono@1', 'keyframes@1'],
    );
    assert.match(renderMedia(rotated), /202×360 25\/1 fps, 50 frames, gop 50/);
    const out = path.join(fixtures.dir, 'frames.gray');
    const summary = await framesCommand(s, rotated.asset, {
      start: 5,
      end: 15,
      width: 180,
      height: 320,
      pixFmt: 'gray',
      out,
    });
    assert.deepEqual(summary, {
      frames: 10,
      bytes: 10 * 180 * 320,
      width: 180,
      height: 320,
      pixelFormat: 'gray',
    });
    const raw = fs.readFileSync(out);
    const fifth = new Uint8Array(raw.buffer, raw.byteOffset + 180 * 320, 180 * 320);
    assert.equal(readBarcode(fifth, 180, 320, 'y'), 6, 'second frame written is frame 6');
    await assert.rejects(
      framesCommand(s, rotated.asset, { pixFmt: 'rgb48', out }),
      /unknown pixel format "rgb48"/,
    );

    const bad = await mediaCommand(s, await fixtures.get('still.png'));
    assert.deepEqual([bad.verdict.status, bad.derivatives], ['reject', []]);
    assert.match(renderMedia(bad), /quarantined \(no derivatives\): still-image: a still image/);
    await assert.rejects(mediaCommand(s, '/no/such/file.mp4'), /neither an existing file nor a sha256/);

    const subtitled = await mediaCommand(s, await fixtures.get('subtitled.mkv'), {
      recipes: ['video-360p-h264'],
    });
    const cues = await (await openAsset(media(), subtitled.asset)).text();
    assert.deepEqual(
      cues.map((c) => c.text),
      ['first cue', 'second cue\ntwo lines'],
    );
  });
});
