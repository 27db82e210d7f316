import type { AnyFeature } from '../../lib/features/definition.ts';
import assetBytes from './asset-bytes.ts';
import assetSummary from './asset-summary.ts';
import audio16kMono from './audio-16k-mono.ts';
import frameSignature from './frame-signature.ts';
import keyframes from './keyframes.ts';
import { matchcutPairsFrame, matchcutPairsMotion } from './matchcut-pairs.ts';
import matchcutReprFrame from './matchcut-repr-frame.ts';
import matchcutReprMotion from './matchcut-repr-motion.ts';
import mediaMetadata from './media-metadata.ts';
import mediaProbe from './media-probe.ts';
import mediaQc from './media-qc.ts';
import shotDedup from './shot-dedup.ts';
import shotEmbeddingLayout from './shot-embedding.ts';
import shots from './shots.ts';
import textRegions from './text-regions.ts';
import video360pH264 from './video-360p-h264.ts';

/** The built-in features. Adding one: write its module, add one line here. */
export const builtinFeatures: AnyFeature[] = [
  assetBytes,
  mediaProbe,
  frameSignature,
  assetSummary,
  mediaMetadata,
  mediaQc,
  video360pH264,
  audio16kMono,
  keyframes,
  shots,
  shotEmbeddingLayout,
  shotDedup,
  matchcutReprFrame,
  matchcutReprMotion,
  matchcutPairsFrame,
  matchcutPairsMotion,
  textRegions,
];
