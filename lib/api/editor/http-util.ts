// Small HTTP helpers for the editor routes: errors with a status and a message safe to show, zod parsing of
// query strings and JSON bodies into 400s naming the field, and a bounded body reader.
import type http from 'node:http';
import type { z } from 'zod';
import { send } from '../http.ts';

/** An error the client should see as `status` with `{error: message}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);

/** Parses with a zod schema; the first problems become one 400 naming each field. */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw badRequest(
    parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || 'request'}: ${i.message}`)
      .join('; '),
  );
}

/**
 * The query string as a plain object; a parameter given twice is refused (no guessing which one counts).
 * Unknown parameters are left to the schema (`.strict()` refuses them).
 */
export function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (Object.hasOwn(out, k)) throw badRequest(`${k}: given more than once`);
    out[k] = v;
  }
  return out;
}

/** Reads a JSON body of at most `limit` bytes. */
export async function readJson(req: http.IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `the body is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('the body is not valid JSON');
  }
}

/** Runs a handler; an HttpError becomes its status and message, anything else goes to the server's 500. */
export async function handled(res: http.ServerResponse, f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, err.status, { error: err.message });
  }
}
