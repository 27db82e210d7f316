// Long-running ffmpeg / ffprobe children: line-wise output, bounded stderr, progress, cancellation, stall guard.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { MediaToolError } from './tools.ts';

export interface SpawnLinesOptions {
  signal?: AbortSignal | undefined;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** Kill the child when it writes nothing to stdout for this long (a hung decoder); retryable failure. */
  stallMs?: number | undefined;
}

const TAIL_LINES = 20;

/**
 * Runs a tool, handing each stdout / stderr line to the callbacks without buffering the whole output.
 * Resolves with the last stderr lines; rejects with a MediaToolError carrying them when the tool fails.
 */
export function spawnLines(bin: string, args: string[], opts: SpawnLinesOptions = {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason);
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let failure: Error | undefined;
    const kill = (err: Error) => {
      failure ??= err;
      child.kill('SIGKILL');
    };
    let stallTimer: NodeJS.Timeout | undefined;
    const armStall = () => {
      if (!opts.stallMs) return;
      clearTimeout(stallTimer);
      stallTimer = setTimeout(
        () => kill(new MediaToolError(`${path.basename(bin)} stalled: no output for ${opts.stallMs} ms`, '')),
        opts.stallMs,
      );
    };
    const onAbort = () => kill(opts.signal!.reason as Error);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    armStall();
    readline.createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (l) => {
      armStall();
      opts.onStdoutLine?.(l);
    });
    readline.createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (l) => {
      tail.push(l);
      if (tail.length > TAIL_LINES) tail.shift();
      opts.onStderrLine?.(l);
    });
    child.on('error', (err) => {
      failure ??= new MediaToolError(`cannot run ${bin}: ${err.message}`, '');
    });
    child.on('close', (code, signal) => {
      clearTimeout(stallTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code === 0) return resolve(tail);
      const last = tail.slice(-3).join(' | ') || `exit ${code ?? signal}`;
      reject(new MediaToolError(`${path.basename(bin)} failed: ${last}`, tail.join('\n')));
    });
  });
}

export interface FfmpegProgress {
  /** Frames written so far (0 for audio-only outputs). */
  frame: number;
  /** Output position in seconds. */
  outTimeSec: number;
  /** Speed relative to real time, when ffmpeg knows it. */
  speed: number | null;
  done: boolean;
}

export interface RunFfmpegOptions extends Omit<SpawnLinesOptions, 'onStdoutLine'> {
  onProgress?: (p: FfmpegProgress) => void;
}

/** ffmpeg with `-progress pipe:1`: one callback per progress block (every ~0.5 s and at the end). */
export async function runFfmpeg(
  bin: string,
  args: string[],
  opts: RunFfmpegOptions = {},
): Promise<{ progress: FfmpegProgress; stderrTail: string[] }> {
  let block: Record<string, string> = {};
  let progress: FfmpegProgress = { frame: 0, outTimeSec: 0, speed: null, done: false };
  const stderrTail = await spawnLines(
    bin,
    ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:1', '-stats_period', '0.5', ...args],
    {
      ...opts,
      onStdoutLine(line) {
        const eq = line.indexOf('=');
        if (eq < 0) return;
        const key = line.slice(0, eq).trim();
        block[key] = line.slice(eq + 1).trim();
        if (key !== 'progress') return;
        const us = Number(block.out_time_us ?? block.out_time_ms);
        const speed = Number.parseFloat(block.speed ?? '');
        progress = {
          frame: Number(block.frame ?? 0) || 0,
          outTimeSec: Number.isFinite(us) && us > 0 ? us / 1e6 : progress.outTimeSec,
          speed: Number.isFinite(speed) ? speed : null,
          done: block.progress === 'end',
        };
        block = {};
        opts.onProgress?.(progress);
      },
    },
  );
  return { progress, stderrTail };
}
