// The shots feature's parameters (part of its value key) and the detector settings derived from them.
import { z } from 'zod';
import type { DecideOptions } from './decide.ts';
import type { SignalOptions } from './signals.ts';

export const shotParams = z.object({
  /** Shorter shots are merged into a neighbour; also the least distance between two boundaries. */
  minShotSeconds: z.number().min(0).max(10).default(0.4),
  /** A cut's frame difference must be this many times the local level (higher: fewer, surer cuts). */
  cutRatio: z.number().min(1).max(20).default(3),
  /** Analysis frame size (yuv420p, multiples of 4). */
  width: z.number().int().min(16).max(640).multipleOf(4).default(64),
  height: z.number().int().min(8).max(360).multipleOf(4).default(36),
});

export type ShotParams = z.infer<typeof shotParams>;

/** Half-widths of the blend windows, in seconds: transitions from ~0.2 s to 2 s. */
const SCALE_SECONDS = [0.08, 0.16, 0.25, 0.36, 0.5, 0.7, 1];

export function signalOptions(fps: number): SignalOptions {
  const scales = [...new Set(SCALE_SECONDS.map((s) => Math.max(2, Math.round(s * fps))))];
  return {
    scales,
    shiftRadius: 2,
    returnFrames: 4,
    candidateFloor: CUT_FLOOR,
    blendFloor: MIN_SPREAD,
    alignRadius: 3,
    maxCorrelation: MAX_CORRELATION,
  };
}

const CUT_FLOOR = 8;
const MIN_SPREAD = 12;
const MAX_CORRELATION = 0.7;

export function decideOptions(fps: number, p: ShotParams): DecideOptions {
  return {
    fps,
    minShotFrames: Math.max(1, Math.round(p.minShotSeconds * fps)),
    cutRatio: p.cutRatio,
    cutFloor: CUT_FLOOR,
    cutPersistence: 0.5,
    contextFrames: Math.max(4, Math.round(0.5 * fps)),
    minSpread: MIN_SPREAD,
    maxResidual: 0.25,
    maxCorrelation: MAX_CORRELATION,
    minUnexplained: 0.4,
    maxPath: 4,
    maxJump: 0.5,
    blankStd: 5,
    blackLuma: 40,
    whiteLuma: 210,
    minFadeFrames: 3,
    minBlankShotFrames: Math.round(0.8 * fps),
  };
}
