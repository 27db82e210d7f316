// What the decision steps produce, and the settings they share.

export type TransitionKind = 'cut' | 'dissolve' | 'fade-in' | 'fade-out' | 'fade-through-black';

export interface Boundary {
  /** The first frame of the next shot. */
  frame: number;
  type: 'hard' | 'gradual';
  kind: TransitionKind;
  /** Frames of the transition [first, end); [frame, frame] for a cut. */
  span: [number, number];
  /** 0–1: how far the evidence clears the threshold (0.5 at the threshold itself). */
  confidence: number;
}

export interface DecideOptions {
  fps: number;
  minShotFrames: number;
  /** A cut's distance must be this many times the local level of consecutive-frame distances … */
  cutRatio: number;
  /** … and at least this (luma units). */
  cutFloor: number;
  /** … and still this fraction of itself across several frames (`cross`). */
  cutPersistence: number;
  /** Frames each side that set the local level. */
  contextFrames: number;
  /** Dissolve: the ends must differ by this much (luma units) … */
  minSpread: number;
  /** … the middle frame must be a blend of them within this fraction of their difference … */
  maxResidual: number;
  /** … with the ends' luma correlated less than this (an exposure change is not a dissolve) … */
  maxCorrelation: number;
  /** … which camera motion (translation, zoom) cannot map onto each other … */
  minUnexplained: number;
  /** … the frame-to-frame path between them at most this many times their direct difference … */
  maxPath: number;
  /** … and no single step on it more than this fraction of it (a cut or a flash inside is no dissolve). */
  maxJump: number;
  /** A frame is flat (one uniform colour) below this luma standard deviation … */
  blankStd: number;
  /** … and blank, what fades go to, when that colour is black (luma at most this) or white (at least that). */
  blackLuma: number;
  whiteLuma: number;
  /** A fade has at least this many partial frames (fewer: a cut to or from blank). */
  minFadeFrames: number;
  /** Less black than this between a fade-out and a fade-in is part of one fade through black, not a shot. */
  minBlankShotFrames: number;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

/** Confidence from how many times a value clears its threshold: 0.5 at 1×, → 1 far above. */
export const confidenceOf = (times: number) => clamp01(1 - 0.5 / Math.max(times, 0.5));
