// Annotation schemas: `name@version` → a zod schema for the payload. A schema never changes once annotations use
// it; a new shape is a new version. Payloads are validated on write with precise paths.
import { z } from 'zod';
import { flattenZodIssues, type IssueAt } from './errors.ts';

export type SpatialRule = 'required' | 'optional' | 'none';

export interface AnnotationSchema<P = unknown> {
  name: string;
  version: number;
  description: string;
  payload: z.ZodType<P>;
  /** Whether annotations of this schema carry a region (default: optional). */
  spatial?: SpatialRule;
}

const NAME = /^[a-z][a-z0-9]*(?:[-_.][a-z0-9]+)*$/;

export function schemaRef(name: string, version: number): string {
  return `${name}@${version}`;
}

/** Parses `name@version` (e.g. `shot@1`). */
export function parseSchemaRef(ref: string): { name: string; version: number } {
  const m = /^([^@]+)@(\d+)$/.exec(ref);
  if (!m || !NAME.test(m[1]!))
    throw new Error(`invalid schema reference ${JSON.stringify(ref)} (expected name@version)`);
  return { name: m[1]!, version: Number(m[2]) };
}

export class AnnotationSchemaRegistry {
  readonly #schemas = new Map<string, AnnotationSchema>();

  constructor(schemas: readonly AnnotationSchema[] = []) {
    for (const s of schemas) this.register(s);
  }

  /** Adds a schema; registering the same name@version twice is refused. */
  register<P>(schema: AnnotationSchema<P>): this {
    if (!NAME.test(schema.name))
      throw new Error(`invalid annotation schema name ${JSON.stringify(schema.name)}`);
    if (!Number.isInteger(schema.version) || schema.version < 1)
      throw new Error(`annotation schema ${schema.name}: version must be an integer ≥ 1`);
    const ref = schemaRef(schema.name, schema.version);
    if (this.#schemas.has(ref)) throw new Error(`annotation schema ${ref} is already registered`);
    this.#schemas.set(ref, schema as AnnotationSchema);
    return this;
  }

  get(name: string, version: number): AnnotationSchema | undefined {
    return this.#schemas.get(schemaRef(name, version));
  }

  list(): AnnotationSchema[] {
    return [...this.#schemas.values()].sort((a, b) =>
      a.name === b.name ? a.version - b.version : a.name < b.name ? -1 : 1,
    );
  }

  /** The parsed payload (defaults applied) or the issues, with paths under `prefix`. */
  validatePayload(
    name: string,
    version: number,
    payload: unknown,
    prefix = 'payload',
  ): { ok: true; payload: unknown; schema: AnnotationSchema } | { ok: false; issues: IssueAt[] } {
    const schema = this.get(name, version);
    if (!schema) {
      const known = this.list()
        .filter((s) => s.name === name)
        .map((s) => schemaRef(s.name, s.version));
      return {
        ok: false,
        issues: [
          {
            path: '',
            message: `unknown annotation schema ${schemaRef(name, version)}${known.length ? ` (registered: ${known.join(', ')})` : ''}`,
          },
        ],
      };
    }
    const r = schema.payload.safeParse(payload);
    if (r.success) return { ok: true, payload: r.data, schema };
    return { ok: false, issues: flattenZodIssues(r.error.issues, [], prefix) };
  }
}

const unit = z.number().min(0).max(1);

/** Boundary kinds that start a shot (`lib/shots/boundary.ts`), plus `start` for a title's first shot. */
export const shotV1 = {
  name: 'shot',
  version: 1,
  description: 'one shot of an asset: the frame range is the shot, kind is how it starts',
  payload: z.strictObject({
    kind: z.enum(['start', 'cut', 'dissolve', 'fade-in', 'fade-out', 'fade-through-black']),
    confidence: unit.optional(),
  }),
  spatial: 'none',
} satisfies AnnotationSchema;

export const dedupGroupV1 = {
  name: 'dedup-group',
  version: 1,
  description: 'a shot belongs to a group of near-duplicate shots; kept marks the representative',
  payload: z.strictObject({
    group: z.union([z.string().min(1), z.number().int()]),
    kept: z.boolean(),
  }),
  spatial: 'none',
} satisfies AnnotationSchema;

export const matchPairV1 = {
  name: 'match-pair',
  version: 1,
  description: 'a match-cut candidate: this shot and another one, scored by a flavor',
  payload: z.strictObject({
    flavor: z.string().min(1),
    score: z.number(),
    otherEntity: z.string().min(1),
    otherStart: z.number().int().min(0),
    otherEnd: z.number().int().min(1),
  }),
  spatial: 'none',
} satisfies AnnotationSchema;

export const textRegionV1 = {
  name: 'text-region',
  version: 1,
  description:
    'on-screen text: the region (box or polygon), its detection score and the recognized text if any',
  payload: z.strictObject({
    text: z.string().optional(),
    score: unit,
  }),
  spatial: 'required',
} satisfies AnnotationSchema;

export const builtinSchemas: readonly AnnotationSchema[] = [shotV1, dedupGroupV1, matchPairV1, textRegionV1];

/** A registry with the built-in schemas; add your own with `register`. */
export function defaultSchemaRegistry(): AnnotationSchemaRegistry {
  return new AnnotationSchemaRegistry(builtinSchemas);
}
