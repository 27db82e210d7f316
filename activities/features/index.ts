import type { AnyFeature } from '../../lib/features/definition.ts';
import assetBytes from './asset-bytes.ts';
import assetSummary from './asset-summary.ts';
import frameSignature from './frame-signature.ts';
import mediaProbe from './media-probe.ts';

/** The built-in features. Adding one: write its module, add one line here. */
export const builtinFeatures: AnyFeature[] = [assetBytes, mediaProbe, frameSignature, assetSummary];
