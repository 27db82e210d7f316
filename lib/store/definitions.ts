import type { Logger } from '../config/log.ts';
import type { AnyFeature } from '../features/definition.ts';
import { definitionRecord } from '../features/registry.ts';
import type { Db } from './db.ts';

/** Records each served definition once; warns when code changed under an unchanged version (memos would be stale). */
export async function recordDefinitions(db: Db, features: readonly AnyFeature[], log: Logger): Promise<void> {
  const records = features.map(definitionRecord);
  await db.featureDefinition.createMany({ data: records, skipDuplicates: true });
  const stored = await db.featureDefinition.findMany({
    where: { OR: records.map((r) => ({ name: r.name, version: r.version })) },
    select: { name: true, version: true, codeHash: true },
  });
  for (const s of stored) {
    const r = records.find((x) => x.name === s.name && x.version === s.version)!;
    if (r.codeHash !== s.codeHash) {
      log.warn(
        { feature: s.name, version: s.version },
        `feature ${s.name}@${s.version}: code changed since this version was first served; bump the version to recompute values`,
      );
    }
  }
}
