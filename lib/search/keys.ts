// Sort keys, group keys and cursors, defined once for both executors: each key has a SQL expression (over the
// annotation alias `a`, user values as parameters) and a JavaScript accessor with the same total order, so
// Postgres and the reference evaluator sort, page and group identically.
import type { StoredAnnotation } from './annotation.ts';
import { SearchQueryError } from './errors.ts';
import { fieldPath, type GroupField, isInt8Id, type SearchQuery, type SortItem } from './query.ts';

/** Collects parameters; `add` returns the placeholder with its cast (`$3::float8`). */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

/** num: float8 · text: compared byte-wise (COLLATE "C") · bool: false < true · id: bigint. */
export type KeyKind = 'num' | 'text' | 'bool' | 'id';
export type KeyValue = number | string | boolean;

export interface KeyDef {
  kind: KeyKind;
  desc: boolean;
  /** Never NULL in SQL, never undefined in JS. */
  sql(p: Params): string;
  js(a: StoredAnnotation): KeyValue;
}

// ---- value helpers shared by both executors ----------------------------------------------------------------

/** The JSON value at a payload path (only through objects, like Postgres `#>` with non-numeric keys). */
export function resolvePath(payload: unknown, path: readonly string[]): unknown {
  let v = payload;
  for (const seg of path) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

/** Code point order, which is UTF-8 byte order, which is Postgres `COLLATE "C"`. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export function compareIds(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

export function compareValues(kind: KeyKind, a: KeyValue, b: KeyValue): number {
  switch (kind) {
    case 'num':
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 'text':
      return compareText(a as string, b as string);
    case 'bool':
      return a === b ? 0 : a ? 1 : -1;
    case 'id':
      return compareIds(a as string, b as string);
  }
}

export function compareKeyTuples(
  keys: readonly KeyDef[],
  a: readonly KeyValue[],
  b: readonly KeyValue[],
): number {
  for (let i = 0; i < keys.length; i++) {
    const c = compareValues(keys[i]!.kind, a[i]!, b[i]!);
    if (c !== 0) return keys[i]!.desc ? -c : c;
  }
  return 0;
}

/**
 * How Postgres prints a jsonb number: the decimal the JSON text had, in plain notation (no exponent).
 * JavaScript wrote that JSON, so the text is `String(n)`; only its exponent form needs expanding.
 */
export function numericText(n: number): string {
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s === '-0' ? '0' : s;
  const [, sign, int, frac = '', expText] = m;
  const exp = Number(expText);
  const digits = int! + frac;
  const point = int!.length + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

// ---- SQL snippets ------------------------------------------------------------------------------------------

export const sqlPath = (p: Params, path: string): string => p.add(fieldPath(path), 'text[]');

// ---- sort keys ---------------------------------------------------------------------------------------------

const column = (kind: KeyKind, col: string, js: (a: StoredAnnotation) => KeyValue) => (desc: boolean) =>
  ({
    kind,
    desc,
    sql: () => (kind === 'text' ? `(a.${col} COLLATE "C")` : `a.${col}`),
    js,
  }) satisfies KeyDef;

const COLUMN_KEYS: Record<string, (desc: boolean) => KeyDef> = {
  id: column('id', 'id', (a) => a.id),
  start: column('num', 'frame_start', (a) => a.temporal.start),
  end: column('num', 'frame_end', (a) => a.temporal.end),
  timeStart: column('num', 'time_start', (a) => a.temporal.startSec),
  timeEnd: column('num', 'time_end', (a) => a.temporal.endSec),
  schemaVersion: column('num', 'schema_version', (a) => a.schemaVersion),
  type: column('text', 'type', (a) => a.type),
  entityId: column('text', 'entity_id', (a) => a.entity.id),
  producer: column('text', 'producer', (a) => a.producer),
};

/** A nullable value as two keys: "is missing" (ascending: missing last either way), then the value. */
function nullable(
  kind: 'num' | 'text',
  desc: boolean,
  expr: (p: Params) => string,
  js: (a: StoredAnnotation) => number | string | null,
): KeyDef[] {
  const zero = kind === 'num' ? '0' : `''`;
  return [
    { kind: 'bool', desc: false, sql: (p) => `(${expr(p)} IS NULL)`, js: (a) => js(a) === null },
    {
      kind,
      desc,
      sql: (p) =>
        kind === 'text' ? `(coalesce(${expr(p)}, ${zero}) COLLATE "C")` : `coalesce(${expr(p)}, ${zero})`,
      js: (a) => js(a) ?? (kind === 'num' ? 0 : ''),
    },
  ];
}

export function payloadNumberSql(p: Params, path: string): string {
  const ph = sqlPath(p, path);
  return `(CASE WHEN jsonb_typeof(a.payload #> ${ph}) = 'number' THEN (a.payload #> ${ph})::float8 END)`;
}

export function payloadStringSql(p: Params, path: string): string {
  const ph = sqlPath(p, path);
  return `(CASE WHEN jsonb_typeof(a.payload #> ${ph}) = 'string' THEN a.payload #>> ${ph} END)`;
}

/** The keys a sort list orders by, ending with `id` ascending (the tie-break that makes every order total). */
export function sortKeys(q: SearchQuery): KeyDef[] {
  const items: SortItem[] = q.sort?.length ? q.sort : q.near ? [{ field: 'score', order: 'desc' }] : [];
  const keys: KeyDef[] = [];
  let hasId = false;
  for (const s of items) {
    const desc = s.order === 'desc';
    if (s.field === 'score') {
      keys.push({
        kind: 'num',
        desc,
        sql: () => {
          throw new Error('score is computed outside SQL');
        },
        js: (a) => a.score ?? 0,
      });
    } else if (s.field === 'titleId') {
      keys.push(
        ...nullable(
          'text',
          desc,
          () => 'a.title_id',
          (a) => a.titleId,
        ),
      );
    } else if (s.field.startsWith('payload.')) {
      const path = s.field.slice('payload.'.length);
      const segs = fieldPath(path);
      if ((s.as ?? 'number') === 'number')
        keys.push(
          ...nullable(
            'num',
            desc,
            (p) => payloadNumberSql(p, path),
            (a) => {
              const v = resolvePath(a.payload, segs);
              return typeof v === 'number' ? v : null;
            },
          ),
        );
      else
        keys.push(
          ...nullable(
            'text',
            desc,
            (p) => payloadStringSql(p, path),
            (a) => {
              const v = resolvePath(a.payload, segs);
              return typeof v === 'string' ? v : null;
            },
          ),
        );
    } else {
      if (s.field === 'id') hasId = true;
      keys.push(COLUMN_KEYS[s.field]!(desc));
    }
    if (s.field === 'id') break; // ids are unique: later keys never decide anything
  }
  if (!hasId) keys.push(COLUMN_KEYS.id!(false));
  return keys;
}

// ---- group keys --------------------------------------------------------------------------------------------

/**
 * A group's identity and order: (missing, text). Payload values are typed in the text (`number:1.5`,
 * `string:a`, `boolean:true`) so 1 and "1" are different groups; objects, arrays and null count as missing.
 */
export interface GroupKeyDef {
  sqlMissing(p: Params): string;
  sqlText(p: Params): string;
  js(a: StoredAnnotation): { missing: boolean; text: string };
  /** The group's key as returned to the caller. */
  value(missing: boolean, text: string): string | number | boolean | null;
}

export function groupKey(by: GroupField): GroupKeyDef {
  if (by === 'entity')
    return {
      sqlMissing: () => 'false',
      sqlText: () => `(a.entity_type || ':' || a.entity_id)`,
      js: (a) => ({ missing: false, text: `${a.entity.type}:${a.entity.id}` }),
      value: (_m, t) => t,
    };
  if (by === 'type')
    return {
      sqlMissing: () => 'false',
      sqlText: () => 'a.type',
      js: (a) => ({ missing: false, text: a.type }),
      value: (_m, t) => t,
    };
  if (by === 'title')
    return {
      sqlMissing: () => '(a.title_id IS NULL)',
      sqlText: () => `coalesce(a.title_id, '')`,
      js: (a) => ({ missing: a.titleId === null, text: a.titleId ?? '' }),
      value: (m, t) => (m ? null : t),
    };
  const path = by.slice('payload.'.length);
  const segs = fieldPath(path);
  const typed = (p: Params) => {
    const ph = sqlPath(p, path);
    return `(CASE WHEN jsonb_typeof(a.payload #> ${ph}) IN ('string', 'number', 'boolean') THEN jsonb_typeof(a.payload #> ${ph}) || ':' || (a.payload #>> ${ph}) END)`;
  };
  return {
    sqlMissing: (p) => `(${typed(p)} IS NULL)`,
    sqlText: (p) => `coalesce(${typed(p)}, '')`,
    js: (a) => {
      const v = resolvePath(a.payload, segs);
      if (typeof v === 'string') return { missing: false, text: `string:${v}` };
      if (typeof v === 'number') return { missing: false, text: `number:${numericText(v)}` };
      if (typeof v === 'boolean') return { missing: false, text: `boolean:${v}` };
      return { missing: true, text: '' };
    },
    value: (missing, text) => {
      if (missing) return null;
      const i = text.indexOf(':');
      const t = text.slice(0, i);
      const rest = text.slice(i + 1);
      return t === 'number' ? Number(rest) : t === 'boolean' ? rest === 'true' : rest;
    },
  };
}

/** Groups are ordered by count (descending), then present before missing, then key text (byte order). */
export const GROUP_ORDER_KEYS: KeyDef[] = [
  { kind: 'num', desc: true, sql: () => 'g.n', js: () => 0 },
  { kind: 'bool', desc: false, sql: () => 'g.g_missing', js: () => false },
  { kind: 'text', desc: false, sql: () => '(g.g_text COLLATE "C")', js: () => '' },
];

// ---- cursors -----------------------------------------------------------------------------------------------

interface CursorBody {
  q: string;
  k: KeyValue[];
}

export function encodeCursor(fingerprint: string, values: KeyValue[]): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, k: values } satisfies CursorBody)).toString(
    'base64url',
  );
}

/** The key values after which the next page starts; refuses cursors of another query or of the wrong shape. */
export function decodeCursor(cursor: string, fingerprint: string, keys: readonly KeyDef[]): KeyValue[] {
  const bad = (message: string) => new SearchQueryError('invalid', [{ path: 'cursor', message }]);
  let body: CursorBody;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorBody;
  } catch {
    throw bad('malformed cursor');
  }
  if (!body || typeof body !== 'object' || !Array.isArray(body.k)) throw bad('malformed cursor');
  if (body.q !== fingerprint)
    throw bad('the cursor belongs to another query (where, near, groupBy and sort must not change)');
  if (body.k.length !== keys.length) throw bad('malformed cursor');
  keys.forEach((key, i) => {
    const v = body.k[i];
    const ok =
      key.kind === 'num'
        ? typeof v === 'number' && Number.isFinite(v)
        : key.kind === 'bool'
          ? typeof v === 'boolean'
          : key.kind === 'id'
            ? typeof v === 'string' && isInt8Id(v)
            : typeof v === 'string';
    if (!ok) throw bad('malformed cursor');
  });
  return body.k;
}

/** SQL: the row's keys come strictly after `values` in the key order (keyset pagination). */
export function afterSql(keys: readonly KeyDef[], values: readonly KeyValue[], p: Params): string {
  const cast = { num: 'float8', text: 'text', bool: 'boolean', id: 'bigint' } as const;
  const exprs = keys.map((k) => k.sql(p));
  const ps = keys.map((k, i) => p.add(values[i], cast[k.kind]));
  const ors: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const eqs = exprs.slice(0, i).map((e, j) => `${e} = ${ps[j]}`);
    ors.push([...eqs, `${exprs[i]} ${keys[i]!.desc ? '<' : '>'} ${ps[i]}`].join(' AND '));
  }
  return `(${ors.map((o) => `(${o})`).join(' OR ')})`;
}

export function orderBySql(keys: readonly KeyDef[], p: Params): string {
  return keys.map((k) => `${k.sql(p)} ${k.desc ? 'DESC' : 'ASC'}`).join(', ');
}
