import type { Config } from '../config/config.ts';
import { LanceVectorIndex } from './lance-index.ts';
import { QdrantVectorIndex } from './qdrant-index.ts';
import type { VectorIndex } from './vector-index.ts';

/** The configured vector index: embedded LanceDB under the data dir, or Qdrant at `QDRANT_URL`. */
export async function openVectorIndex(config: Pick<Config, 'vectors'>): Promise<VectorIndex> {
  const v = config.vectors;
  if (v.backend === 'qdrant') {
    if (!v.qdrantUrl) throw new Error('the qdrant vector index needs QDRANT_URL');
    return new QdrantVectorIndex({ url: v.qdrantUrl, ...(v.qdrantApiKey ? { apiKey: v.qdrantApiKey } : {}) });
  }
  return LanceVectorIndex.open({ dir: v.dir });
}
