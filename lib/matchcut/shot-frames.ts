// Which frames stand for a shot. Features read them in one sequential decode of the derivative (cheaper than a
// seek per shot: the derivative is small, and a seek decodes from the previous keyframe anyway).

export interface ShotRange {
  start: number;
  end: number;
}

/** Parts a shot is sampled at: one sixth, the middle and five sixths of the way through. */
export const SAMPLE_POSITIONS = [1 / 6, 1 / 2, 5 / 6] as const;

/** Frame indices sampled from [start, end), one per position (a one-frame shot repeats its frame). */
export function sampleFrames(shot: ShotRange, positions: readonly number[] = SAMPLE_POSITIONS): number[] {
  const length = shot.end - shot.start;
  if (!(length > 0)) throw new RangeError(`shot [${shot.start}, ${shot.end}) has no frames`);
  return positions.map((p) => shot.start + Math.min(length - 1, Math.floor(p * length)));
}
