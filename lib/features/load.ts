import { builtinFeatures } from '../../activities/features/index.ts';
import type { Config } from '../config/config.ts';
import { FeatureRegistry, importFeatureModules } from './registry.ts';

/** Built-in features plus the modules named in MEDIAMESH_FEATURE_MODULES, validated as one graph. */
export async function loadRegistry(config: Pick<Config, 'featureModules'>): Promise<FeatureRegistry> {
  const extra = await importFeatureModules(config.featureModules);
  return new FeatureRegistry([...builtinFeatures, ...extra]);
}
