import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';

export const objectRefSchema = z.object({
  uri: z.string().regex(/^mm:\/\/sha256\/[0-9a-f]{64}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().nonnegative(),
});
export type ObjectRef = z.infer<typeof objectRefSchema>;

/** Content-addressed blobs. The filesystem store is the default; an S3-compatible store implements the same. */
export interface ObjectStore {
  /** Copies a file in (streaming, never whole in memory); same bytes → same ref, stored once. */
  putFile(file: string): Promise<ObjectRef>;
  /** A local path to read the object from. */
  localPath(ref: Pick<ObjectRef, 'uri'>): Promise<string>;
  has(sha256: string): Promise<boolean>;
}

export async function sha256File(file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = crypto.createHash('sha256');
  let sizeBytes = 0;
  await pipeline(
    fs.createReadStream(file, { highWaterMark: 1 << 20 }),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        hash.update(chunk);
        sizeBytes += chunk.length;
      }
    },
  );
  return { sha256: hash.digest('hex'), sizeBytes };
}

export class FsObjectStore implements ObjectStore {
  constructor(readonly root: string) {}

  #pathOf(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async putFile(file: string): Promise<ObjectRef> {
    const { sha256, sizeBytes } = await sha256File(file);
    const dest = this.#pathOf(sha256);
    if (!fs.existsSync(dest)) {
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      const tmp = `${dest}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      await fs.promises.copyFile(file, tmp);
      await fs.promises.chmod(tmp, 0o444);
      await fs.promises.rename(tmp, dest);
    }
    return { uri: `mm://sha256/${sha256}`, sha256, sizeBytes };
  }

  async localPath(ref: Pick<ObjectRef, 'uri'>): Promise<string> {
    const m = /^mm:\/\/sha256\/([0-9a-f]{64})$/.exec(ref.uri);
    if (!m) throw new Error(`not an object URI: ${ref.uri}`);
    const p = this.#pathOf(m[1]!);
    await fs.promises.access(p, fs.constants.R_OK);
    return p;
  }

  async has(sha256: string): Promise<boolean> {
    return fs.existsSync(this.#pathOf(sha256));
  }
}
