import crypto from 'node:crypto';

/** Constant-time check of `Bearer <token>` against the configured tokens. No tokens configured → refuse all. */
export function bearerAllowed(header: string | undefined, tokens: readonly string[]): boolean {
  const m = /^Bearer ([\x21-\x7e]+)$/.exec(header ?? '');
  if (!m) return false;
  const given = crypto.createHash('sha256').update(m[1]!).digest();
  let ok = false;
  for (const t of tokens) {
    const want = crypto.createHash('sha256').update(t).digest();
    ok = crypto.timingSafeEqual(given, want) || ok;
  }
  return ok;
}
