// Shot boundary detection over a stream of small yuv420p frames: signals as frames arrive, decisions at the end.
import { type Boundary, decide } from './decide.ts';
import { decideOptions, type ShotParams, signalOptions } from './params.ts';
import { SignalStream, type Signals } from './signals.ts';
import { thumbGeometry } from './thumb.ts';

export interface Shot {
  start: number;
  end: number;
  /** Most frames blank (black or one flat colour): a gap between shots rather than a picture. */
  blank: boolean;
}

export interface Detection {
  frames: number;
  minShotFrames: number;
  boundaries: Boundary[];
  shots: Shot[];
  signals: Signals;
}

export class ShotDetector {
  readonly #stream: SignalStream;
  readonly #fps: number;
  readonly #params: ShotParams;

  constructor(fps: number, params: ShotParams) {
    if (!(fps > 0)) throw new RangeError(`the frame rate must be > 0, got ${fps}`);
    this.#fps = fps;
    this.#params = params;
    this.#stream = new SignalStream(thumbGeometry(params.width, params.height), signalOptions(fps));
  }

  get frames(): number {
    return this.#stream.frames;
  }

  /** The next frame: yuv420p at the analysis size (width × height luma, then both chroma planes). */
  push(yuv: Uint8Array): void {
    const { width, height } = this.#params;
    if (yuv.length !== width * height * 1.5) {
      throw new RangeError(
        `expected a ${width}×${height} yuv420p frame (${width * height * 1.5} bytes), got ${yuv.length}`,
      );
    }
    this.#stream.push(yuv);
  }

  /** The signals of every frame pushed (call once, after the last frame), for `decideShots`. */
  signals(): Signals {
    return this.#stream.finish();
  }

  finish(): Detection {
    return decideShots(this.signals(), this.#fps, this.#params);
  }
}

/** Frames a stream must see on each side of a frame for that frame's signals to be complete. */
export function contextFrames(fps: number): number {
  return SignalStream.contextFrames(signalOptions(fps));
}

/** Boundaries and shots from the signals of a whole video (one stream's, or several streams' stitched). */
export function decideShots(signals: Signals, fps: number, params: ShotParams): Detection {
  const opts = decideOptions(fps, params);
  const boundaries = decide(signals, opts);
  const edges = signals.frames ? [0, ...boundaries.map((b) => b.frame), signals.frames] : [];
  const shots: Shot[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const [start, end] = [edges[i]!, edges[i + 1]!];
    let blank = 0;
    for (let t = start; t < end; t++) if (signals.stdY[t]! < opts.blankStd) blank++;
    shots.push({ start, end, blank: blank * 2 > end - start });
  }
  return { frames: signals.frames, minShotFrames: opts.minShotFrames, boundaries, shots, signals };
}
