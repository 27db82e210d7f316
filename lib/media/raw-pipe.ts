// ffmpeg writing raw media to a pipe, read back in exact chunks (one frame, one block of samples) with
// backpressure: the pipe is read only as fast as the consumer pulls, so memory stays constant however long the
// media is, and ffmpeg simply blocks while the consumer is busy.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { MediaToolError } from './tools.ts';

export interface ReadChunksOptions {
  /** Bytes per chunk (a frame, or a block of samples). */
  chunkBytes: number;
  /** Hand out a shorter last chunk (audio) instead of failing on it (video frames must be whole). */
  allowPartial?: boolean;
  signal?: AbortSignal | undefined;
  /**
   * The chunk is three equal planes and ffmpeg's plane i belongs at position order[i] (e.g. its G, B, R planes
   * as R, G, B): placed while copying, at no extra cost.
   */
  planeOrder?: [number, number, number] | undefined;
}

/**
 * Runs `bin args` (which must write raw data to stdout) and yields its output in chunks of exactly
 * `chunkBytes`, each a fresh buffer the consumer may keep. Leaving the loop early kills the process.
 */
export async function* readChunks(
  bin: string,
  args: string[],
  opts: ReadChunksOptions,
): AsyncGenerator<Buffer> {
  const { chunkBytes, signal, planeOrder } = opts;
  if (!Number.isInteger(chunkBytes) || chunkBytes <= 0) throw new RangeError(`bad chunk size ${chunkBytes}`);
  const plane = planeOrder ? chunkBytes / 3 : chunkBytes;
  signal?.throwIfAborted();
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 10) tail.shift();
  });
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const kill = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', kill, { once: true });
  let chunk = Buffer.allocUnsafeSlow(chunkBytes);
  let filled = 0;
  try {
    for await (const data of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < data.length) {
        const inPlane = filled % plane;
        const n = Math.min(plane - inPlane, data.length - offset);
        const to = planeOrder ? planeOrder[(filled - inPlane) / plane]! * plane + inPlane : filled;
        data.copy(chunk, to, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === chunkBytes) {
          yield chunk;
          chunk = Buffer.allocUnsafeSlow(chunkBytes);
          filled = 0;
        }
      }
    }
    const code = await exited;
    signal?.throwIfAborted();
    if (spawnError) throw new MediaToolError(`cannot run ${bin}: ${spawnError.message}`, '');
    if (code !== 0) {
      const last = tail.slice(-3).join(' | ') || `exit ${code}`;
      throw new MediaToolError(`${path.basename(bin)} failed: ${last}`, tail.join('\n'));
    }
    if (filled > 0) {
      if (!opts.allowPartial) {
        throw new MediaToolError(
          `${path.basename(bin)} ended mid-chunk (${filled} of ${chunkBytes} bytes)`,
          '',
        );
      }
      yield chunk.subarray(0, filled);
    }
  } finally {
    signal?.removeEventListener('abort', kill);
    if (child.exitCode === null && child.signalCode === null) kill();
  }
}
