import fs from 'node:fs';
import path from 'node:path';
import type { ObjectStore } from '../objects/store.ts';
import type { Db } from '../store/db.ts';

export interface IngestedAsset {
  hash: string;
  titleId: string;
  objectUri: string;
  sizeBytes: number;
  created: boolean;
}

export class IngestError extends Error {
  override name = 'IngestError';
}

/** Records a known asset as one of a title's too (creating the title if new). Idempotent. */
export async function addToTitle(db: Db, titleId: string, assetHash: string): Promise<void> {
  await db.title.createMany({ data: [{ id: titleId }], skipDuplicates: true });
  await db.titleAsset.createMany({ data: [{ titleId, assetHash }], skipDuplicates: true });
}

/**
 * Copies a file into the object store by content and records it as an asset of a title (the first title to land
 * the bytes is `assets.title_id`; every title that lands them is in `title_assets`). Idempotent by content.
 */
export async function ingestFile(
  db: Db,
  objects: ObjectStore,
  file: string,
  titleId: string,
): Promise<IngestedAsset> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch (err) {
    throw new IngestError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!stat.isFile()) throw new IngestError(`${file} is not a regular file`);
  const ref = await objects.putFile(file);
  // createMany + skipDuplicates, not upsert: concurrent landings of one title must not race on the insert.
  await db.title.createMany({ data: [{ id: titleId }], skipDuplicates: true });
  // Whoever inserts the row first owns "created"; concurrent landings of the same bytes all see the same asset.
  const { count } = await db.asset.createMany({
    data: [
      {
        hash: ref.sha256,
        titleId,
        objectUri: ref.uri,
        sizeBytes: BigInt(ref.sizeBytes),
        originalName: path.basename(file),
      },
    ],
    skipDuplicates: true,
  });
  const asset = count === 1 ? { titleId } : await db.asset.findUniqueOrThrow({ where: { hash: ref.sha256 } });
  await db.titleAsset.createMany({ data: [{ titleId, assetHash: ref.sha256 }], skipDuplicates: true });
  return {
    hash: ref.sha256,
    titleId: asset.titleId ?? titleId,
    objectUri: ref.uri,
    sizeBytes: ref.sizeBytes,
    created: count === 1,
  };
}
