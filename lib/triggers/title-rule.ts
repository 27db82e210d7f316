import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const TITLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const titleIdSchema = z
  .string()
  .regex(
    TITLE_ID,
    'title ids are 1–128 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );

const sidecarSchema = z.object({ titleId: titleIdSchema });

/** Files that describe another file, never media themselves. */
export function isSidecar(file: string): boolean {
  return /\.(title\.json|partial|tmp|crdownload|part)$/i.test(file) || path.basename(file).startsWith('.');
}

/**
 * Which title a landed file belongs to: `<file>.title.json` ({"titleId": …}) when present; else by rule —
 * `folder`: the first folder under the inbox (a file at the inbox top level: its name without extension);
 * `stem`: the file name without extension. Characters a title id cannot hold become `-`.
 */
export async function titleFor(file: string, inbox: string, rule: 'folder' | 'stem'): Promise<string> {
  const sidecar = `${file}.title.json`;
  if (fs.existsSync(sidecar)) {
    const parsed = sidecarSchema.safeParse(JSON.parse(await fs.promises.readFile(sidecar, 'utf8')));
    if (!parsed.success)
      throw new Error(`${sidecar}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    return parsed.data.titleId;
  }
  const rel = path.relative(inbox, file).split(path.sep);
  const raw = rule === 'folder' && rel.length > 1 ? rel[0]! : path.basename(file).replace(/\.[^.]+$/, '');
  const id = raw
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return id || 'untitled';
}
