// Errors of the search library, each with precise paths (`where.and[1].payload.score.gte: expected number`).
// The SearchService maps `invalid` to INVALID_ARGUMENT and `limit` / `timeout` to RESOURCE_EXHAUSTED.
import type { z } from 'zod';

export interface IssueAt {
  /** Rendered path, e.g. `where.and[1].payload.score.gte` (empty for the root). */
  path: string;
  message: string;
}

export type SearchErrorCode = 'invalid' | 'limit' | 'timeout' | 'not_found';

export class SearchQueryError extends Error {
  override name = 'SearchQueryError';
  constructor(
    readonly code: SearchErrorCode,
    readonly issues: IssueAt[],
  ) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '));
  }
}

/** An annotation or run refused on write (payload against its schema, ranges, regions, vectors). */
export class AnnotationValidationError extends Error {
  override name = 'AnnotationValidationError';
  constructor(readonly issues: IssueAt[]) {
    super(
      issues
        .slice(0, 20)
        .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
        .join('; ') + (issues.length > 20 ? `; … ${issues.length - 20} more` : ''),
    );
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function renderPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENT.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

type Issue = z.core.$ZodIssue;

function describeExpected(issue: Issue): string {
  if (issue.code === 'invalid_type') {
    const expected =
      issue.expected === 'nan' ? 'number' : issue.expected === 'int' ? 'integer' : issue.expected;
    return `expected ${expected}`;
  }
  if (issue.code === 'invalid_value')
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}

function issueMessage(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
    case 'invalid_value':
      return describeExpected(issue);
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array')
        return `expected at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return `expected at least ${issue.minimum} character(s)`;
      return `expected ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `expected at most ${issue.maximum} items`;
      if (issue.origin === 'string') return `expected at most ${issue.maximum} characters`;
      return `expected ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`;
    case 'invalid_format':
      return issue.message.startsWith('Invalid') ? `invalid ${issue.format}` : issue.message;
    case 'not_multiple_of':
      return Number(issue.divisor) === 1 ? 'expected integer' : issue.message;
    default:
      return issue.message;
  }
}

const ROOT_CODES = new Set(['invalid_type', 'invalid_value', 'invalid_format']);

/** A union branch that failed on the input's type or value itself (not somewhere inside it). */
function rootMismatch(branch: readonly Issue[]): boolean {
  return (
    branch.length > 0 &&
    branch.every(
      (i) =>
        i.path.length === 0 &&
        (ROOT_CODES.has(i.code) ||
          (i.code === 'invalid_union' && i.errors.length > 0 && i.errors.every(rootMismatch))),
    )
  );
}

function expectedOf(branch: readonly Issue[]): string[] {
  return branch.flatMap((i) =>
    i.code === 'invalid_type'
      ? [i.expected === 'int' ? 'integer' : i.expected]
      : i.code === 'invalid_value'
        ? [i.values.map((v) => JSON.stringify(v)).join(' | ')]
        : i.code === 'invalid_union'
          ? i.errors.flatMap(expectedOf)
          : [i.message.replace(/^expected /, '')],
  );
}

/**
 * zod issues as flat `{path, message}` pairs. A failed union reports the branch the input was meant for (the
 * one that got past the type check at the union's own path), so `{gte: 'x'}` against `scalar | ops` says
 * `…gte: expected number`, not "invalid input".
 */
export function flattenZodIssues(
  issues: readonly Issue[],
  base: readonly PropertyKey[] = [],
  prefix = '',
): IssueAt[] {
  const out: IssueAt[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union') {
      const branches = issue.errors;
      const meant = branches.filter((b) => !rootMismatch(b));
      if (meant.length > 0) {
        // The branch whose issues go deepest is the one the input was written for.
        const depth = (b: readonly Issue[]) => Math.max(...b.map((i) => i.path.length));
        const best = meant.reduce((a, b) => (depth(b) > depth(a) ? b : a));
        out.push(...flattenZodIssues(best, path, prefix));
      } else if (branches.length > 0) {
        const expected = [...new Set(branches.flatMap(expectedOf))];
        out.push({ path: renderPath(path, prefix), message: `expected ${expected.join(' | ')}` });
      } else {
        out.push({ path: renderPath(path, prefix), message: issue.message });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      const inner = issue.issues[0];
      out.push({
        path: renderPath(path, prefix),
        message: inner ? `invalid key: ${issueMessage(inner)}` : 'invalid key',
      });
      continue;
    }
    out.push({ path: renderPath(path, prefix), message: issueMessage(issue) });
  }
  return out;
}
