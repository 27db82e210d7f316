// Feature values → annotations (lib/annotations/convert.ts), validated against the built-in schemas the store
// uses; and the greedy CTC decoding and cropping of the text recognizer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MatchcutPairsValue } from '../../activities/features/matchcut-pairs.ts';
import type { ShotDedupValue } from '../../activities/features/shot-dedup.ts';
import type { ShotsValue } from '../../activities/features/shots.ts';
import type { TextRegionsValue } from '../../activities/features/text-regions.ts';
import { converterFor, type SinkValue } from '../../lib/annotations/convert.ts';
import { defaultSchemaRegistry, normalizeAnnotations } from '../../lib/search/index.ts';
import { cropRgb, ctcDecode } from '../../lib/text/recognizer.ts';

const ASSET = 'a'.repeat(64);
const shots: ShotsValue = {
  derivative: 'video-360p-h264@1',
  frameRate: '25/1',
  frames: 100,
  SB: { '0': [0, 40], '1': [40, 70], '2': [70, 100] },
  shots: [
    { start: 0, end: 40, blank: false },
    { start: 40, end: 70, blank: false },
    { start: 70, end: 100, blank: true },
  ],
  boundaries: [
    { frame: 40, type: 'hard', kind: 'cut', span: [40, 40], confidence: 0.9 },
    { frame: 70, type: 'gradual', kind: 'fade-out', span: [60, 70], confidence: 0.7 },
  ],
  analysis: { width: 64, height: 36, minShotFrames: 6 },
};
const sinkValue = (feature: string, value: unknown): SinkValue => ({
  valueId: '7',
  feature,
  version: 1,
  entityKey: ASSET,
  paramsHash: 'p',
  attempt: 0,
  titleId: 'film',
  value,
});
const ctx = { shots: async () => shots };
async function convert(feature: string, value: unknown) {
  const annotations = await converterFor(feature, 1)!(sinkValue(feature, value), ctx);
  // What the store would refuse, refused here.
  normalizeAnnotations(
    defaultSchemaRegistry(),
    { producer: feature, producerVersion: 1, entity: { type: 'asset', id: ASSET }, attempt: 0 },
    annotations,
  );
  return annotations;
}

describe('feature values → annotations', () => {
  it('shots: one shot@1 per shot, how it starts, frames and seconds', async () => {
    const a = await convert('shots', shots);
    assert.deepEqual(
      a.map((x) => [x.entity.id, x.temporal, x.payload]),
      [
        [`${ASSET}#0`, { start: 0, end: 40, startSec: 0, endSec: 1.6 }, { kind: 'start' }],
        [`${ASSET}#1`, { start: 40, end: 70, startSec: 1.6, endSec: 2.8 }, { kind: 'cut', confidence: 0.9 }],
        [
          `${ASSET}#2`,
          { start: 70, end: 100, startSec: 2.8, endSec: 4 },
          { kind: 'fade-out', confidence: 0.7 },
        ],
      ],
    );
    assert.ok(a.every((x) => x.type === 'shot' && x.schemaVersion === 1 && x.entity.type === 'shot'));
  });

  it('shot-dedup: dedup-group@1 on every grouped shot, named by the kept one', async () => {
    const dedup: ShotDedupValue = {
      SB_deduped: { '0': [0, 40] },
      kept: [0],
      groups: [[0, 1]],
      duplicateOf: { '1': 0 },
      blank: [2],
      threshold: 0.5,
      compared: 1,
    };
    const a = await convert('shot-dedup', dedup);
    assert.deepEqual(
      a.map((x) => [x.entity.id, x.temporal.start, x.payload]),
      [
        [`${ASSET}#0`, 0, { group: `${ASSET}#0`, kept: true }],
        [`${ASSET}#1`, 40, { group: `${ASSET}#0`, kept: false }],
      ],
    );
  });

  it('matchcut-pairs:<flavor>: match-pair@1 on both shots, each pointing at the other', async () => {
    const pairs: MatchcutPairsValue = {
      flavor: 'motion',
      k: 10,
      pairs: [{ shot1: 0, shot2: 1, score: 0.75, frames1: [0, 40], frames2: [40, 70] }],
      shots: 2,
      kernel: 'js',
      ms: 1,
    };
    const a = await convert('matchcut-pairs:motion', pairs);
    assert.deepEqual(
      a.map((x) => [x.entity.id, x.temporal.endSec, x.payload]),
      [
        [
          `${ASSET}#0`,
          1.6,
          { flavor: 'motion', score: 0.75, otherEntity: `${ASSET}#1`, otherStart: 40, otherEnd: 70 },
        ],
        [
          `${ASSET}#1`,
          2.8,
          { flavor: 'motion', score: 0.75, otherEntity: `${ASSET}#0`, otherStart: 0, otherEnd: 40 },
        ],
      ],
    );
  });

  it('text-regions: text-region@1 per region, the box, the score and the text when read', async () => {
    const text: TextRegionsValue = {
      derivative: 'video-360p-h264@1',
      frameRate: '25/1',
      model: 'ppocr-det@1',
      modelSha256: 'x',
      recognition: null,
      provider: 'cpu',
      shots: [
        { shot: 0, start: 0, end: 40, startSec: 0, endSec: 1.6, frame: 19, blank: false, regions: [] },
        {
          shot: 1,
          start: 40,
          end: 70,
          startSec: 1.6,
          endSec: 2.8,
          frame: 54,
          blank: false,
          regions: [
            { x: 0.25, y: 0.8, w: 0.5, h: 0.07, score: 0.9, text: 'HELLO', textScore: 0.98 },
            { x: 0.1, y: 0.1, w: 0.2, h: 0.05, score: 0.7, textScore: 0.2 },
          ],
        },
      ],
      regions: 2,
      detectMs: 1,
      recognizeMs: 1,
      totalMs: 2,
    };
    const a = await convert('text-regions', text);
    assert.deepEqual(
      a.map((x) => [x.entity.id, x.temporal.startSec, x.spatial, x.payload]),
      [
        [`${ASSET}#1`, 1.6, { box: { x: 0.25, y: 0.8, w: 0.5, h: 0.07 } }, { score: 0.9, text: 'HELLO' }],
        [`${ASSET}#1`, 1.6, { box: { x: 0.1, y: 0.1, w: 0.2, h: 0.05 } }, { score: 0.7 }],
      ],
    );
  });

  it('has no converter for other features or versions', () => {
    assert.equal(converterFor('media-probe', 1), undefined);
    assert.equal(converterFor('shots', 2), undefined);
  });
});

describe('text recognizer helpers', () => {
  it('decodes CTC greedily: best class per step, repeats merged, blanks dropped', () => {
    const classes = ['', 'a', 'b', ' '];
    // Steps a a · a b b ␣ (· the blank): the repeated a merges, the blank separates the second a.
    const best = [1, 1, 0, 1, 2, 2, 3];
    const probs = new Float32Array(best.length * classes.length);
    best.forEach((k, t) => {
      probs.fill(0.1 / 3, t * 4, t * 4 + 4);
      probs[t * 4 + k] = 0.9;
    });
    const r = ctcDecode(probs, best.length, classes);
    assert.equal(r.text, 'aab ');
    assert.ok(Math.abs(r.score - 0.9) < 1e-6);
    assert.deepEqual(ctcDecode(new Float32Array(4).fill(0.25), 1, classes), { text: '', score: 0 });
  });

  it('crops a box, clipped to the picture and rounded outwards', () => {
    const pic = { width: 4, height: 3, data: Uint8Array.from({ length: 36 }, (_, i) => i) };
    const c = cropRgb(pic, { x: 2.5, y: 1.2, width: 5, height: 1 });
    assert.deepEqual([c.width, c.height], [2, 2]);
    assert.deepEqual([...c.data], [18, 19, 20, 21, 22, 23, 30, 31, 32, 33, 34, 35]);
  });
});
