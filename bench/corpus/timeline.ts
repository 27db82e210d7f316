// From a title plan to (1) the pieces the renderer concatenates and (2) the ground truth, by the same arithmetic,
// so the truth is exact by construction: every frame of the title is accounted for.
import { classify, iou, lerpView, type Motion, sameMove } from './motion.ts';
import { rateValue, type TitlePlan } from './plan.ts';

/** A source of frames for a blend: frames [from, from + n) of content shot `shot`'s segment, or black. */
export type Source = { shot: number; from: number } | 'black';

export type Piece =
  | { kind: 'segment'; shot: number; from: number; to: number }
  | { kind: 'black'; frames: number }
  /** Frame j of the piece is a + (b − a)·(j + 1)/(frames + 1): a dissolve, or a fade when one side is black. */
  | { kind: 'blend'; a: Source; b: Source; frames: number };

export type TransitionKind = 'cut' | 'dissolve' | 'fade-out' | 'fade-in' | 'fade-through-black';

export interface TruthTransition {
  kind: TransitionKind;
  type: 'hard' | 'gradual';
  /** Frames that are neither shot at full strength: [first, end); a cut's span is [boundary, boundary). */
  span: [number, number];
  /** The first frame of the next shot. */
  boundary: number;
  from: number;
  to: number;
}

export interface TruthShot {
  index: number;
  start: number;
  end: number;
  /** A black shot (between a fade-out and a fade-in, or cut to and from). */
  blank: boolean;
  /** For content shots: the plan's shot (segment) it shows. */
  content?: {
    planIndex: number;
    photo: string;
    specId: number;
    origin: TitlePlan['shots'][number]['origin'];
    /** Windows over the photo at the first, middle and last frame (centre and zoom, canvas units). */
    from: { cx: number; cy: number; z: number };
    mid: { cx: number; cy: number; z: number };
    to: { cx: number; cy: number; z: number };
    motion: Motion;
    nearDuplicate?: { crf: number; scale: number };
  };
}

export interface PairLabel {
  shot1: number;
  shot2: number;
  label: 'composition-match' | 'motion-match';
}

export interface GroundTruth {
  version: 1;
  title: string;
  seed: number;
  file: string;
  width: number;
  height: number;
  rate: string;
  frames: number;
  /** The seed's format: shot index → [start, end). */
  SB: Record<string, [number, number]>;
  shots: TruthShot[];
  transitions: TruthTransition[];
  /** Shots showing the same frames (exact repeats and re-encoded near-duplicates), earliest first. */
  duplicateGroups: number[][];
  /** Every pair of content shots that share composition (same photo, windows IoU ≥ 0.5, not duplicates) or
   * camera motion (same class and speed within 1.6×, different photos). */
  pairs: PairLabel[];
  /** Brightness flashes inside shots: not boundaries. */
  flashes: { frame: number; length: number }[];
  /** Fades from/to black at the title's very start/end: not boundaries (no shot on the other side). */
  titleFades: { in: number; out: number };
}

export interface Timeline {
  pieces: Piece[];
  truth: GroundTruth;
}

export function buildTimeline(plan: TitlePlan, file: string): Timeline {
  const pieces: Piece[] = [];
  const transitions: Omit<TruthTransition, 'from' | 'to'>[] = [];
  const blanks: { start: number; end: number }[] = [];
  const flashes: GroundTruth['flashes'] = [];
  const contentStarts: number[] = [];
  let head = plan.titleFadeIn;
  let segStart = 0;
  if (head) pieces.push({ kind: 'blend', a: 'black', b: { shot: 0, from: 0 }, frames: head });
  plan.shots.forEach((shot, i) => {
    const n = shot.spec.frames;
    const join = plan.joins[i];
    const tail = join ? join.dissolve + join.fadeOut : plan.titleFadeOut;
    contentStarts.push(segStart);
    pieces.push({ kind: 'segment', shot: i, from: head, to: n - tail });
    for (const f of shot.spec.flashes) flashes.push({ frame: segStart + f.at, length: f.length });
    const end = segStart + n;
    if (!join) {
      if (tail) pieces.push({ kind: 'blend', a: { shot: i, from: n - tail }, b: 'black', frames: tail });
      return;
    }
    if (join.kind === 'cut') {
      transitions.push({ kind: 'cut', type: 'hard', span: [end, end], boundary: end });
      segStart = end;
      head = 0;
    } else if (join.kind === 'dissolve') {
      const L = join.dissolve;
      pieces.push({ kind: 'blend', a: { shot: i, from: n - L }, b: { shot: i + 1, from: 0 }, frames: L });
      transitions.push({
        kind: 'dissolve',
        type: 'gradual',
        span: [end - L, end],
        boundary: end - L + Math.ceil(L / 2),
      });
      segStart = end - L;
      head = L;
    } else {
      const { fadeOut, hold, fadeIn } = join;
      if (fadeOut)
        pieces.push({ kind: 'blend', a: { shot: i, from: n - fadeOut }, b: 'black', frames: fadeOut });
      if (hold) pieces.push({ kind: 'black', frames: hold });
      if (fadeIn) pieces.push({ kind: 'blend', a: 'black', b: { shot: i + 1, from: 0 }, frames: fadeIn });
      const blackEnd = end + hold;
      if (join.kind === 'fade-through-black') {
        transitions.push({
          kind: 'fade-through-black',
          type: 'gradual',
          span: [end - fadeOut, blackEnd + fadeIn],
          boundary: end + Math.floor(hold / 2),
        });
      } else {
        blanks.push({ start: end, end: blackEnd });
        transitions.push(
          fadeOut
            ? { kind: 'fade-out', type: 'gradual', span: [end - fadeOut, end], boundary: end }
            : { kind: 'cut', type: 'hard', span: [end, end], boundary: end },
          fadeIn
            ? { kind: 'fade-in', type: 'gradual', span: [blackEnd, blackEnd + fadeIn], boundary: blackEnd }
            : { kind: 'cut', type: 'hard', span: [blackEnd, blackEnd], boundary: blackEnd },
        );
      }
      segStart = blackEnd;
      head = fadeIn;
    }
  });
  const frames = pieces.reduce((s, p) => s + (p.kind === 'segment' ? p.to - p.from : p.frames), 0);
  const last = plan.shots.length - 1;
  if (frames !== contentStarts[last]! + plan.shots[last]!.spec.frames) {
    throw new Error(`timeline of ${plan.name}: pieces give ${frames} frames, the shots end elsewhere`);
  }
  return { pieces, truth: truthOf(plan, file, frames, transitions, blanks, flashes) };
}

function truthOf(
  plan: TitlePlan,
  file: string,
  frames: number,
  cuts: Omit<TruthTransition, 'from' | 'to'>[],
  blanks: { start: number; end: number }[],
  flashes: GroundTruth['flashes'],
): GroundTruth {
  const fps = rateValue(plan.rate);
  const bounds = [0, ...cuts.map((t) => t.boundary), frames];
  const shots: TruthShot[] = [];
  const shotOfPlan: number[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const [start, end] = [bounds[k]!, bounds[k + 1]!];
    if (end - start < 1) throw new Error(`${plan.name}: empty shot at frame ${start}`);
    const blank = blanks.some((b) => b.start === start && b.end === end);
    const shot: TruthShot = { index: k, start, end, blank };
    if (!blank) {
      const planIndex = shotOfPlan.length;
      const p = plan.shots[planIndex]!;
      const { from, to, frames: n, photo, id, variant } = p.spec;
      shot.content = {
        planIndex,
        photo,
        specId: id,
        origin: p.origin,
        from,
        mid: lerpView(from, to, 0.5),
        to,
        motion: classify(from, to, n / fps),
        ...(variant ? { nearDuplicate: variant } : {}),
      };
      shotOfPlan.push(k);
    }
    shots.push(shot);
  }
  if (shotOfPlan.length !== plan.shots.length) throw new Error(`${plan.name}: shots and plan disagree`);
  // Origins in the plan refer to plan indices; in the truth to shot indices.
  for (const s of shots) {
    const o = s.content?.origin;
    if (o && o.kind !== 'original') s.content!.origin = { ...o, of: shotOfPlan[o.of]! };
  }
  const transitions = cuts.map((t, k) => ({ ...t, from: k, to: k + 1 }));
  const content = shots.filter((s) => s.content);
  const groups = new Map<number, number[]>();
  for (const s of content) {
    const id = s.content!.specId;
    groups.set(id, [...(groups.get(id) ?? []), s.index]);
  }
  const pairs: PairLabel[] = [];
  for (let x = 0; x < content.length; x++) {
    for (let y = x + 1; y < content.length; y++) {
      const [a, b] = [content[x]!.content!, content[y]!.content!];
      if (a.specId === b.specId) continue;
      const [shot1, shot2] = [content[x]!.index, content[y]!.index];
      if (a.photo === b.photo && iou(a.mid, b.mid) >= 0.5)
        pairs.push({ shot1, shot2, label: 'composition-match' });
      if (a.photo !== b.photo && sameMove(a.motion, b.motion))
        pairs.push({ shot1, shot2, label: 'motion-match' });
    }
  }
  return {
    version: 1,
    title: plan.name,
    seed: plan.seed,
    file,
    width: plan.width,
    height: plan.height,
    rate: plan.rate,
    frames,
    SB: Object.fromEntries(shots.map((s) => [String(s.index), [s.start, s.end]])),
    shots,
    transitions,
    duplicateGroups: [...groups.values()].filter((g) => g.length > 1),
    pairs,
    flashes,
    titleFades: { in: plan.titleFadeIn, out: plan.titleFadeOut },
  };
}
