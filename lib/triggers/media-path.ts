import fs from 'node:fs';
import path from 'node:path';

export class PathOutsideRootsError extends Error {
  override name = 'PathOutsideRootsError';
}

export class MediaFileMissingError extends Error {
  override name = 'MediaFileMissingError';
}

const isInside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * Resolves a requested media path to a real file inside one of the configured roots. `..` segments and symlinks
 * are resolved first, so neither can escape a root. Relative paths are taken from the first root.
 */
export async function resolveMediaPath(requested: string, roots: readonly string[]): Promise<string> {
  if (roots.length === 0)
    throw new PathOutsideRootsError('no media roots are configured (MEDIAMESH_MEDIA_ROOTS)');
  if (requested.includes('\0')) throw new PathOutsideRootsError('path contains a NUL byte');
  const lexical = path.resolve(roots[0]!, requested);
  if (!roots.some((r) => isInside(path.resolve(r), lexical))) {
    throw new PathOutsideRootsError(`${requested} is outside the media roots`);
  }
  let real: string;
  try {
    real = await fs.promises.realpath(lexical);
  } catch {
    throw new MediaFileMissingError(`${requested} does not exist`);
  }
  const realRoots = await Promise.all(roots.map((r) => fs.promises.realpath(r).catch(() => path.resolve(r))));
  if (!realRoots.some((r) => isInside(r, real))) {
    throw new PathOutsideRootsError(`${requested} resolves (through a symlink) outside the media roots`);
  }
  const stat = await fs.promises.stat(real);
  if (!stat.isFile()) throw new MediaFileMissingError(`${requested} is not a regular file`);
  return real;
}
