import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { ownedName, sweepDeadOwners } from './scratch.ts';

export const objectRefSchema = z.object({
  uri: z.string().regex(/^mm:\/\/sha256\/[0-9a-f]{64}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().nonnegative(),
});
export type ObjectRef = z.infer<typeof objectRefSchema>;

/**
 * Content-addressed blobs. The filesystem store is the default; an S3-compatible store implements the same
 * (put = multipart upload under `sha256/<hash>`, localPath = a read-through cache file, scratchDir = local disk).
 */
export interface ObjectStore {
  /**
   * Stores a file by content (one streaming pass: hashed while copied, never whole in memory); same bytes →
   * same ref, stored once. `move: true` takes the file over instead of copying it (it must not be used again).
   */
  putFile(file: string, options?: { move?: boolean }): Promise<ObjectRef>;
  /** Stores a byte stream by content, hashing it on the way in. */
  putStream(source: AsyncIterable<Uint8Array>): Promise<ObjectRef>;
  /** Reads an object as a stream. */
  createReadStream(ref: Pick<ObjectRef, 'uri'>): Promise<Readable>;
  /** A local path to read the object from. */
  localPath(ref: Pick<ObjectRef, 'uri'>): Promise<string>;
  has(sha256: string): Promise<boolean>;
  /** A local directory for work files (e.g. a transcode in progress); `putFile(…, {move})` from here is a rename. */
  readonly scratchDir: string;
}

const OBJECT_URI = /^mm:\/\/sha256\/([0-9a-f]{64})$/;

export function objectUri(sha256: string): string {
  return `mm://sha256/${sha256}`;
}

/** The sha256 named by an `mm://sha256/<hash>` URI; throws on anything else. */
export function parseObjectUri(uri: string): string {
  const m = OBJECT_URI.exec(uri);
  if (!m) throw new Error(`not an object URI: ${uri}`);
  return m[1]!;
}

const READ_CHUNK = 1 << 20;

export async function sha256File(file: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = crypto.createHash('sha256');
  let sizeBytes = 0;
  await pipeline(
    fs.createReadStream(file, { highWaterMark: READ_CHUNK }),
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
  readonly scratchDir: string;

  constructor(readonly root: string) {
    this.scratchDir = path.join(root, 'scratch');
  }

  #pathOf(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  #swept = false;

  /** A temp file beside the objects (so committing it is a rename); leftovers of dead writers go first. */
  async #tempPath(): Promise<string> {
    const dir = path.join(this.root, 'incoming');
    await fs.promises.mkdir(dir, { recursive: true });
    if (!this.#swept) {
      this.#swept = true;
      await sweepDeadOwners(dir);
    }
    return path.join(dir, ownedName('put', '.tmp'));
  }

  /** Moves a fully written temp file to its content address; the first writer wins, later ones are dropped. */
  async #commit(tmp: string, sha256: string, sizeBytes: number): Promise<ObjectRef> {
    const dest = this.#pathOf(sha256);
    if (fs.existsSync(dest)) {
      await fs.promises.rm(tmp, { force: true });
    } else {
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await fs.promises.chmod(tmp, 0o444);
      await fs.promises.rename(tmp, dest);
    }
    return { uri: objectUri(sha256), sha256, sizeBytes };
  }

  async putStream(source: AsyncIterable<Uint8Array>): Promise<ObjectRef> {
    const tmp = await this.#tempPath();
    const hash = crypto.createHash('sha256');
    let sizeBytes = 0;
    const out = fs.createWriteStream(tmp, { flags: 'wx' });
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            sizeBytes += chunk.length;
            yield chunk;
          }
        },
        out,
      );
      return await this.#commit(tmp, hash.digest('hex'), sizeBytes);
    } catch (err) {
      // A source that fails at once can beat the file's asynchronous open: wait for the stream to close, so the
      // file exists (or never will) before it is removed.
      if (!out.closed) await once(out, 'close').catch(() => undefined);
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
  }

  async putFile(file: string, options: { move?: boolean } = {}): Promise<ObjectRef> {
    if (!options.move) return this.putStream(fs.createReadStream(file, { highWaterMark: READ_CHUNK }));
    const { sha256, sizeBytes } = await sha256File(file);
    const tmp = await this.#tempPath();
    try {
      await fs.promises.rename(file, tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await fs.promises.copyFile(file, tmp);
      await fs.promises.rm(file, { force: true });
    }
    return this.#commit(tmp, sha256, sizeBytes);
  }

  async localPath(ref: Pick<ObjectRef, 'uri'>): Promise<string> {
    const p = this.#pathOf(parseObjectUri(ref.uri));
    await fs.promises.access(p, fs.constants.R_OK);
    return p;
  }

  async createReadStream(ref: Pick<ObjectRef, 'uri'>): Promise<Readable> {
    return fs.createReadStream(await this.localPath(ref), { highWaterMark: READ_CHUNK });
  }

  async has(sha256: string): Promise<boolean> {
    return fs.existsSync(this.#pathOf(sha256));
  }
}
