import { z } from 'zod';

/** Largest K a caller may ask for (the heap holds K pairs; results are returned as one array). */
export const MAX_K = 100_000;

export const pairFiltersSchema = z
  .object({
    /** Keep only pairs scoring at least this (cosine, -1…1). */
    minScore: z.number().min(-1).max(1).optional(),
    /**
     * Drop pairs of one title whose frame ranges are fewer than N frames apart (the gap is the later start
     * minus the earlier end, so adjacent shots are 0 apart and overlapping ones less). 0 keeps them all.
     */
    excludeWithinFrames: z.number().int().min(0).max(0x7fff_ffff).default(0),
    /** Drop pairs of one title that share a near-duplicate group. */
    excludeSameGroup: z.boolean().default(false),
    /** Only pairs across titles. */
    excludeSameTitle: z.boolean().default(false),
  })
  .strict();

export type PairFilters = z.infer<typeof pairFiltersSchema>;
export type PairFiltersInput = z.input<typeof pairFiltersSchema>;

export const kSchema = z
  .number({ message: 'k must be a number' })
  .int('k must be an integer')
  .min(1, 'k must be at least 1')
  .max(MAX_K, `k must be at most ${MAX_K}`);

export const pairOptionsSchema = pairFiltersSchema.extend({ k: kSchema }).strict();
export type PairOptions = z.infer<typeof pairOptionsSchema>;
export type PairOptionsInput = z.input<typeof pairOptionsSchema>;

export class PairInputError extends Error {
  override name = 'PairInputError';
}

export function parsePairOptions(input: unknown): PairOptions {
  const parsed = pairOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new PairInputError(`invalid pair options: ${at}${issue.message}`);
  }
  return parsed.data;
}
