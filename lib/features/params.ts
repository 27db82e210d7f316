import crypto from 'node:crypto';
import type { AnyFeature } from './definition.ts';
import { BadInputError } from './definition.ts';

/** JSON with object keys sorted at every depth, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

export function sha256Hex(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

export interface NormalizedParams {
  params: Record<string, unknown>;
  paramsHash: string;
  /** Short key for workflow IDs; undefined when the params are the feature's defaults. */
  paramsKey: string | undefined;
}

export function normalizeParams(
  feature: AnyFeature,
  raw: Record<string, unknown> | undefined,
): NormalizedParams {
  const parse = (input: unknown): Record<string, unknown> => {
    if (!feature.params) {
      if (input && Object.keys(input).length > 0) {
        throw new BadInputError(`feature ${feature.name} takes no params, got ${canonicalJson(input)}`);
      }
      return {};
    }
    const result = feature.params.safeParse(input ?? {});
    if (!result.success) {
      const detail = result.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new BadInputError(`invalid params for feature ${feature.name}: ${detail}`);
    }
    return result.data as Record<string, unknown>;
  };
  const params = parse(raw);
  const paramsHash = sha256Hex(canonicalJson(params));
  const defaultsHash = sha256Hex(canonicalJson(parse({})));
  return { params, paramsHash, paramsKey: paramsHash === defaultsHash ? undefined : paramsHash.slice(0, 16) };
}
