// On-screen text per shot: PP-OCRv4 detection (lib/models/ppocr-det.ts) on one frame of each shot, boxes
// normalized to the frame. The session is opened once per process and shared by every activity in it, like every
// model (lib/models/shared-runner.ts).
import { type DetectTextOptions, detectText, ppocrDetManifest } from '../models/ppocr-det.ts';
import type { RgbPicture } from '../models/preprocess.ts';
import type { ModelRunner } from '../models/runner.ts';
import { sharedModelRunnerFor } from '../models/shared-runner.ts';

/** The process's PP-OCRv4 detection session (opened on first use; a failed open is retried next time). */
export function sharedTextDetector(): Promise<ModelRunner> {
  return sharedModelRunnerFor(ppocrDetManifest());
}

/** A text region, normalized to the frame: 0..1 from the top-left corner. */
export interface NormalizedRegion {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
}

/** The frame a shot is read at: its middle one. */
export function middleFrame(shot: { start: number; end: number }): number {
  return Math.floor((shot.start + shot.end - 1) / 2);
}

const unit = (v: number) => Math.min(1, Math.max(0, v));
const round = (v: number) => Math.round(v * 1e6) / 1e6;

/** Text regions of one rgb24 picture, top to bottom then left to right, normalized to its size. */
export async function detectRegions(
  runner: ModelRunner,
  picture: RgbPicture,
  opts: DetectTextOptions = {},
): Promise<NormalizedRegion[]> {
  const det = await detectText(runner, picture, opts);
  const out: NormalizedRegion[] = [];
  for (const b of det.boxes) {
    const x = round(unit(b.x / picture.width));
    const y = round(unit(b.y / picture.height));
    const w = round(Math.min(1 - x, b.width / picture.width));
    const h = round(Math.min(1 - y, b.height / picture.height));
    if (w > 0 && h > 0) out.push({ x, y, w, h, score: round(unit(b.score)) });
  }
  return out;
}
