// Feature values → annotations: what each feature with the 'annotations' sink becomes in the annotation store
// (lib/search). One value is one run (producer = the feature, entity = the asset); every annotation sits on a
// shot (`<asset>#<shot index>`) with the shot's frame range and the same span in seconds.
import type { MatchcutPairsValue } from '../../activities/features/matchcut-pairs.ts';
import type { ShotDedupValue } from '../../activities/features/shot-dedup.ts';
import type { ShotsValue } from '../../activities/features/shots.ts';
import type { TextRegionsValue } from '../../activities/features/text-regions.ts';
import { parseRational, ratio } from '../media/timing.ts';
import { type AnnotationInput, shotEntityId, type Temporal } from '../search/annotation.ts';

/** A stored feature value as the sink reads it. */
export interface SinkValue {
  valueId: string;
  feature: string;
  version: number;
  entityKey: string;
  paramsHash: string;
  attempt: number;
  titleId: string | null;
  value: unknown;
}

export interface ConvertContext {
  /** The `shots` value this value was computed from (found through its lineage). */
  shots(): Promise<ShotsValue>;
}

export type Converter = (v: SinkValue, ctx: ConvertContext) => Promise<AnnotationInput[]>;

export class ConvertError extends Error {
  override name = 'ConvertError';
}

function framesPerSecond(frameRate: string, where: string): number {
  const r = parseRational(frameRate);
  if (!r || !(ratio(r) > 0)) throw new ConvertError(`${where}: no usable frame rate (${frameRate})`);
  return ratio(r);
}

/** A frame range [start, end) and the same span in seconds. */
export function temporalOf(start: number, end: number, fps: number): Temporal {
  return { start, end, startSec: start / fps, endSec: end / fps };
}

const shotAnnotations: Converter = async (v) => {
  const s = v.value as ShotsValue;
  const fps = framesPerSecond(s.frameRate, `shots value ${v.valueId}`);
  return s.shots.map((shot, i) => {
    const b = i === 0 ? undefined : s.boundaries[i - 1];
    return {
      type: 'shot',
      schemaVersion: 1,
      entity: { type: 'shot', id: shotEntityId(v.entityKey, i) },
      temporal: temporalOf(shot.start, shot.end, fps),
      payload: b ? { kind: b.kind, confidence: b.confidence } : { kind: 'start' },
    };
  });
};

const dedupAnnotations: Converter = async (v, ctx) => {
  const d = v.value as ShotDedupValue;
  const shots = await ctx.shots();
  const fps = framesPerSecond(shots.frameRate, `shots of value ${v.valueId}`);
  return d.groups.flatMap((group) =>
    group.map((i) => {
      const shot = shots.shots[i];
      if (!shot) throw new ConvertError(`shot-dedup value ${v.valueId}: shot ${i} is not in its shots value`);
      return {
        type: 'dedup-group',
        schemaVersion: 1,
        entity: { type: 'shot' as const, id: shotEntityId(v.entityKey, i) },
        temporal: temporalOf(shot.start, shot.end, fps),
        // The group is named by its kept shot (the earliest), so it is unique across assets.
        payload: { group: shotEntityId(v.entityKey, group[0]!), kept: i === group[0] },
      };
    }),
  );
};

const pairAnnotations: Converter = async (v, ctx) => {
  const p = v.value as MatchcutPairsValue;
  const shots = await ctx.shots();
  const fps = framesPerSecond(shots.frameRate, `shots of value ${v.valueId}`);
  const side = (
    shot: number,
    frames: [number, number],
    other: number,
    otherFrames: [number, number],
    score: number,
  ): AnnotationInput => ({
    type: 'match-pair',
    schemaVersion: 1,
    entity: { type: 'shot', id: shotEntityId(v.entityKey, shot) },
    temporal: temporalOf(frames[0], frames[1], fps),
    payload: {
      flavor: p.flavor,
      score,
      otherEntity: shotEntityId(v.entityKey, other),
      otherStart: otherFrames[0],
      otherEnd: otherFrames[1],
    },
  });
  return p.pairs.flatMap((x) => [
    side(x.shot1, x.frames1, x.shot2, x.frames2, x.score),
    side(x.shot2, x.frames2, x.shot1, x.frames1, x.score),
  ]);
};

const textRegionAnnotations: Converter = async (v) => {
  const t = v.value as TextRegionsValue;
  const fps = framesPerSecond(t.frameRate, `text-regions value ${v.valueId}`);
  return t.shots.flatMap((s) =>
    s.regions.map((r) => ({
      type: 'text-region',
      schemaVersion: 1,
      entity: { type: 'shot' as const, id: shotEntityId(v.entityKey, s.shot) },
      temporal: temporalOf(s.start, s.end, fps),
      spatial: { box: { x: r.x, y: r.y, w: r.w, h: r.h } },
      payload: r.text === undefined ? { score: r.score } : { score: r.score, text: r.text },
    })),
  );
};

/** The converter of a feature value, by feature name and version; undefined when the feature has none. */
export function converterFor(feature: string, version: number): Converter | undefined {
  if (version !== 1) return undefined;
  if (feature === 'shots') return shotAnnotations;
  if (feature === 'shot-dedup') return dedupAnnotations;
  if (feature.startsWith('matchcut-pairs:')) return pairAnnotations;
  if (feature === 'text-regions') return textRegionAnnotations;
  return undefined;
}

/** The annotation types each converted feature writes (for the docs and `mediamesh status`). */
export const ANNOTATION_TYPES: Record<string, string> = {
  shots: 'shot@1',
  'shot-dedup': 'dedup-group@1',
  'matchcut-pairs:<flavor>': 'match-pair@1',
  'text-regions': 'text-region@1',
};
