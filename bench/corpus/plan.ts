// A title's plan, from the corpus config and a seed alone (pure, deterministic): which photo each shot shows,
// how the virtual camera moves, which shots repeat or re-encode earlier ones, how consecutive shots are joined.
import { seededRandom } from '../../lib/matchcut/synthetic.ts';
import type { CorpusConfig, JoinKind } from './config.ts';
import { lerpView, randomMove, reframe, sameMoveElsewhere, type View } from './motion.ts';

/** What a shot's frames are made from; shots with the same `id` and no `variant` have the same pixels. */
export interface ShotSpec {
  id: number;
  photo: string;
  frames: number;
  from: View;
  to: View;
  /** Brightened frames inside the shot (shot-local index), which must not be taken for cuts. */
  flashes: { at: number; length: number; gain: number }[];
  /** A near-duplicate: the same shot scaled down, back up and re-encoded lossy. */
  variant?: { crf: number; scale: number };
}

export type Origin =
  | { kind: 'original' }
  | { kind: 'repeat'; of: number }
  | { kind: 'near-duplicate'; of: number }
  | { kind: 'composition-partner'; of: number }
  | { kind: 'motion-partner'; of: number };

export interface PlannedShot {
  spec: ShotSpec;
  origin: Origin;
}

/** How shot i meets shot i + 1. Frames: the dissolve's length; the fades' partial frames and the black between. */
export interface Join {
  kind: JoinKind;
  dissolve: number;
  fadeOut: number;
  hold: number;
  fadeIn: number;
}

export interface TitlePlan {
  name: string;
  seed: number;
  width: number;
  height: number;
  rate: string;
  crf: number;
  /** Content shots in title order. */
  shots: PlannedShot[];
  /** joins[i] joins shots[i] and shots[i + 1]. */
  joins: Join[];
  /** Partial frames of a fade from black at the very start / to black at the very end (not transitions). */
  titleFadeIn: number;
  titleFadeOut: number;
}

type Rand = () => number;
const int = (r: Rand, [lo, hi]: readonly [number, number]) => lo + Math.floor(r() * (hi - lo + 1));
const real = (r: Rand, [lo, hi]: readonly [number, number]) => lo + (hi - lo) * r();

export function rateValue(rate: string): number {
  const [n, d = '1'] = rate.split('/');
  return Number(n) / Number(d);
}

function pick<T>(r: Rand, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function weighted<K extends string>(r: Rand, weights: Record<K, number>): K {
  const entries = Object.entries(weights) as [K, number][];
  let u = r() * entries.reduce((s, [, w]) => s + w, 0);
  for (const [k, w] of entries) {
    u -= w;
    if (u < 0) return k;
  }
  return entries[entries.length - 1]![0];
}

/** Shots i and j may sit side by side: different photos (a cut between two views of one photo is a jump cut). */
const neighbours = (a: PlannedShot | undefined, b: PlannedShot | undefined) =>
  !a || !b || a.spec.photo !== b.spec.photo;

/** Inserts `shot` at a random position after `after + 1` whose neighbours show other photos; false if none. */
function insertLater(r: Rand, shots: PlannedShot[], after: number, shot: PlannedShot): boolean {
  const positions: number[] = [];
  for (let p = after + 2; p <= shots.length; p++) {
    if (neighbours(shots[p - 1], shot) && neighbours(shot, shots[p])) positions.push(p);
  }
  if (positions.length === 0) return false;
  const at = pick(r, positions);
  shots.splice(at, 0, shot);
  // Later references shift by one.
  for (const s of shots) if (s.origin.kind !== 'original' && s !== shot && s.origin.of >= at) s.origin.of++;
  return true;
}

export function planTitle(config: CorpusConfig, index: number, photos: readonly string[]): TitlePlan {
  const seed = (config.seed * 1_000_003 + index * 7_919) >>> 0;
  const r = seededRandom(seed);
  const format = pick(r, config.formats);
  const rate = pick(r, config.rates);
  const fps = rateValue(rate);
  const crf = int(r, config.crf);
  const total = int(r, config.shots);
  const derived = config.repeats + config.nearDuplicates + config.compositionPairs + config.motionPairs;
  let nextId = 0;
  const frames = () => Math.round(real(r, config.shotSeconds) * fps);

  const shots: PlannedShot[] = [];
  for (let i = 0; i < Math.max(2, total - derived); i++) {
    const n = frames();
    const prev = shots[i - 1]?.spec.photo;
    const photo = pick(
      r,
      photos.filter((p) => p !== prev),
    );
    const move = randomMove(r, n / fps);
    shots.push({
      spec: { id: nextId++, photo, frames: n, ...move, flashes: [] },
      origin: { kind: 'original' },
    });
  }

  const originals = () => shots.flatMap((s, i) => (s.origin.kind === 'original' ? [i] : []));
  const addDerived = (count: number, make: (src: number) => PlannedShot | undefined) => {
    for (let k = 0; k < count; k++) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const src = pick(r, originals());
        const shot = make(src);
        if (shot && insertLater(r, shots, src, shot)) break;
      }
    }
  };
  addDerived(config.repeats, (src) => ({ spec: shots[src]!.spec, origin: { kind: 'repeat', of: src } }));
  addDerived(config.nearDuplicates, (src) => ({
    spec: { ...shots[src]!.spec, variant: { crf: int(r, [30, 38]), scale: pick(r, [0.5, 0.67, 1]) } },
    origin: { kind: 'near-duplicate', of: src },
  }));
  addDerived(config.compositionPairs, (src) => {
    const s = shots[src]!.spec;
    const n = frames();
    const move = reframe(r, lerpView(s.from, s.to, 0.5), n / fps);
    return {
      spec: { id: nextId++, photo: s.photo, frames: n, ...move, flashes: [] },
      origin: { kind: 'composition-partner', of: src },
    };
  });
  addDerived(config.motionPairs, (src) => {
    const s = shots[src]!.spec;
    if (s.from.cx === s.to.cx && s.from.cy === s.to.cy && s.from.z === s.to.z) return undefined;
    const photo = pick(
      r,
      photos.filter((p) => p !== s.photo),
    );
    return {
      spec: { id: nextId++, photo, frames: s.frames, ...sameMoveElsewhere(r, s.from, s.to), flashes: [] },
      origin: { kind: 'motion-partner', of: src },
    };
  });

  const joins = planJoins(r, config, shots, fps);
  const keep = keepFrames(fps);
  const first = shots[0]!.spec.frames - used(joins, 0).tail - keep;
  const last = shots[shots.length - 1]!.spec.frames - used(joins, shots.length - 1).head - keep;
  const fadeIn = r() < config.titleFades ? Math.min(int(r, config.fadeFrames), first) : 0;
  const fadeOut = r() < config.titleFades ? Math.min(int(r, config.fadeFrames), last) : 0;
  const titleFadeIn = fadeIn >= 6 ? fadeIn : 0;
  const titleFadeOut = fadeOut >= 6 ? fadeOut : 0;
  addFlashes(r, config.flashes, shots, joins, titleFadeIn, titleFadeOut);
  return {
    name: `${config.name}-s${config.seed}-${String(index).padStart(2, '0')}`,
    seed,
    width: format.width,
    height: format.height,
    rate,
    crf,
    shots,
    joins,
    titleFadeIn,
    titleFadeOut,
  };
}

/** Each shot keeps at least 0.6 s (and 12 frames) of its own frames outside any transition. */
const keepFrames = (fps: number) => Math.max(12, Math.round(0.6 * fps));

/** Frames at each end of shot i taken by its joins. */
const used = (joins: Join[], i: number, titleIn = 0, titleOut = 0) => {
  const before = joins[i - 1];
  const after = joins[i];
  const head = before ? before.dissolve + before.fadeIn : titleIn;
  const tail = after ? after.dissolve + after.fadeOut : titleOut;
  return { head, tail };
};

function planJoins(r: Rand, config: CorpusConfig, shots: PlannedShot[], fps: number): Join[] {
  const joins: Join[] = [];
  const keep = keepFrames(fps);
  for (let i = 0; i + 1 < shots.length; i++) {
    const a = shots[i]!.spec.frames - used(joins, i).head - keep;
    const b = shots[i + 1]!.spec.frames - keep;
    const room = Math.min(a, b);
    const kind = config.joinCycle
      ? config.joinCycle[i % config.joinCycle.length]!
      : weighted(r, config.joins);
    const join: Join = { kind, dissolve: 0, fadeOut: 0, hold: 0, fadeIn: 0 };
    if (join.kind === 'dissolve') join.dissolve = int(r, config.dissolveFrames);
    if (join.kind === 'fade-through-black') {
      join.fadeOut = int(r, config.fadeFrames);
      join.hold = int(r, config.blackHoldFrames);
      join.fadeIn = int(r, config.fadeFrames);
    }
    if (join.kind === 'black-gap') {
      // A fade or a plain cut on either side of the black shot.
      join.fadeOut = r() < config.blackGapFades ? int(r, config.fadeFrames) : 0;
      join.hold = Math.round(real(r, config.blackGapSeconds) * fps);
      join.fadeIn = r() < config.blackGapFades ? int(r, config.fadeFrames) : 0;
    }
    // Shorten what does not fit; a transition of fewer than 6 frames becomes a cut.
    join.dissolve = Math.min(join.dissolve, room);
    join.fadeOut = Math.min(join.fadeOut, a);
    join.fadeIn = Math.min(join.fadeIn, b);
    if (join.kind === 'dissolve' && join.dissolve < 6) Object.assign(join, { kind: 'cut', dissolve: 0 });
    if (join.kind === 'fade-through-black' && (join.fadeOut < 6 || join.fadeIn < 6)) {
      Object.assign(join, { kind: 'cut', fadeOut: 0, hold: 0, fadeIn: 0 });
    }
    if (join.kind === 'black-gap') {
      if (join.fadeOut < 6) join.fadeOut = 0;
      if (join.fadeIn < 6) join.fadeIn = 0;
    }
    joins.push(join);
  }
  return joins;
}

function addFlashes(
  r: Rand,
  count: number,
  shots: PlannedShot[],
  joins: Join[],
  titleIn: number,
  titleOut: number,
): void {
  // Only in shots whose segment is used once (no repeat or near-duplicate shares its pixels).
  const shared = new Set(shots.filter((s) => s.origin.kind !== 'original').map((s) => s.spec.id));
  const candidates = shots.flatMap((s, i) => {
    if (shared.has(s.spec.id)) return [];
    const { head, tail } = used(joins, i, i === 0 ? titleIn : 0, i === shots.length - 1 ? titleOut : 0);
    const lo = head + 10;
    const hi = s.spec.frames - tail - 13;
    return hi > lo ? [{ i, lo, hi }] : [];
  });
  for (let k = 0; k < count && candidates.length > 0; k++) {
    const c = candidates.splice(Math.floor(r() * candidates.length), 1)[0]!;
    shots[c.i]!.spec.flashes.push({
      at: int(r, [c.lo, c.hi]),
      length: int(r, [1, 2]),
      gain: real(r, [0.3, 0.5]),
    });
  }
}
