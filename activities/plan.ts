import type { FeatureRegistry } from '../lib/features/registry.ts';

export interface PlannedFeature {
  feature: string;
  version: number;
}

export interface TitlePlan {
  features: PlannedFeature[];
  /** Requested names no worker serves; the title workflow reports them as failed. */
  unknown: string[];
}

/** Versions for a title's features, and for a recompute the order to recompute them in. Local activities. */
export function makePlanActivities(deps: { registry: FeatureRegistry }) {
  const plan = (name: string): PlannedFeature => ({
    feature: name,
    version: deps.registry.get(name)!.version,
  });
  return {
    async planTitleFeatures(features: string[]): Promise<TitlePlan> {
      const unique = [...new Set(features)];
      return {
        features: unique.filter((f) => deps.registry.get(f)).map(plan),
        unknown: unique.filter((f) => !deps.registry.get(f)),
      };
    },

    /**
     * Waves of features to recompute: the feature itself first, then (with cascade) the title's features that
     * depend on it, each wave after the ones it depends on. Without a feature: every title feature, in waves.
     */
    async planRecompute(req: {
      titleFeatures: string[];
      feature?: string;
      cascade: boolean;
    }): Promise<PlannedFeature[][]> {
      const known = req.titleFeatures.filter((f) => deps.registry.get(f));
      const selected = new Set<string>(req.feature ? [] : known);
      if (req.feature && deps.registry.get(req.feature)) {
        selected.add(req.feature);
        if (req.cascade) {
          // Title features whose dependency closure contains the feature.
          for (const f of known)
            if (deps.registry.closure(f).some((d) => d.name === req.feature)) selected.add(f);
        }
      }
      const level = new Map<string, number>();
      const depth = (name: string): number => {
        const cached = level.get(name);
        if (cached !== undefined) return cached;
        const own = deps.registry
          .get(name)!
          .dependencies.filter((d) => selected.has(d))
          .reduce((m, d) => Math.max(m, depth(d) + 1), 0);
        level.set(name, own);
        return own;
      };
      const waves: PlannedFeature[][] = [];
      for (const name of [...selected].sort()) {
        const d = depth(name);
        waves[d] = [...(waves[d] ?? []), plan(name)];
      }
      return waves.filter(Boolean);
    },
  };
}
