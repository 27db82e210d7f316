// From per-frame signals to shot boundaries: fades, dissolves and cuts found separately, then combined — a cut
// inside a gradual transition belongs to it, a fade-out and a fade-in closer than a shot are one fade through
// black, and no two boundaries are closer than the minimum shot length.
import type { Boundary, DecideOptions } from './boundary.ts';
import { hardCuts } from './cuts.ts';
import { dissolves } from './dissolves.ts';
import { fades } from './fades.ts';
import type { Signals } from './signals.ts';

export type { Boundary, DecideOptions, TransitionKind } from './boundary.ts';

export function decide(sig: Signals, o: DecideOptions): Boundary[] {
  // Flat: one uniform colour. Blank: flat black or white, what fades go to and come from (a pan into a clear sky
  // flattens the picture too, and is no fade).
  const flat = Array.from(sig.stdY, (s) => s < o.blankStd);
  const blank = flat.map((f, t) => f && (sig.meanY[t]! <= o.blackLuma || sig.meanY[t]! >= o.whiteLuma));
  const allFades = throughBlack(fades(sig, o, blank), o.minBlankShotFrames);
  // A fade out to the black that ends the video ends the last shot, a fade in from the black that starts it
  // starts the first: neither separates two shots (but a step inside them is still no cut).
  const fading = allFades.filter(
    (f) =>
      !(f.kind === 'fade-out' && blank.indexOf(false, f.frame) === -1) &&
      !(f.kind === 'fade-in' && blank.slice(0, f.frame).every(Boolean)),
  );
  const overlaps = (b: Boundary, g: Boundary) => b.span[0] <= g.span[1] + 2 && b.span[1] >= g.span[0] - 2;
  const excluded = blank.slice();
  for (const f of allFades) excluded.fill(true, f.span[0], f.span[1]);
  const gradual = [
    ...fading,
    ...dissolves(sig, o, excluded, flat).filter((d) => !allFades.some((f) => overlaps(d, f))),
  ];
  const cuts = hardCuts(sig, o).filter((c) => ![...gradual, ...allFades].some((g) => overlaps(c, g)));
  return enforceMinShot([...cuts, ...gradual], sig.frames, o.minShotFrames);
}

/** A fade-out and the next fade-in with less black between them than a blank shot: one transition, its
 * boundary in the middle of the black. */
function throughBlack(fading: Boundary[], minBlank: number): Boundary[] {
  const sorted = [...fading].sort((a, b) => a.frame - b.frame);
  const out: Boundary[] = [];
  for (const f of sorted) {
    const prev = out[out.length - 1];
    if (prev?.kind === 'fade-out' && f.kind === 'fade-in' && f.frame - prev.frame < minBlank) {
      out[out.length - 1] = {
        frame: Math.floor((prev.frame + f.frame) / 2),
        type: 'gradual',
        kind: 'fade-through-black',
        span: [prev.span[0], f.span[1]],
        confidence: Math.max(prev.confidence, f.confidence),
      };
    } else out.push(f);
  }
  return out;
}

/** Sorted boundaries, at least `minShot` frames apart and from either end of the video; of two closer ones the
 * more confident stays. */
function enforceMinShot(all: Boundary[], frames: number, minShot: number): Boundary[] {
  const sorted = [...all].sort((a, b) => a.frame - b.frame || (a.type === 'gradual' ? -1 : 1));
  const out: Boundary[] = [];
  for (const b of sorted) {
    const prev = out[out.length - 1];
    if (prev && b.frame - prev.frame < minShot) {
      if (b.confidence > prev.confidence) out[out.length - 1] = b;
      continue;
    }
    out.push(b);
  }
  return out.filter((b) => b.frame >= minShot && frames - b.frame >= minShot);
}
