// Work files whose names carry their owner (host and pid), so that what a killed process left behind can be told
// apart from what a live one is still writing, and removed by the next process that looks.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../stack/processes.ts';

const SEP = '~';
const host = os.hostname().replaceAll(SEP, '-');

/** `<key>~<host>~<pid>~<random><suffix>`: unique, and traceable to the process that created it. */
export function ownedName(key: string, suffix = ''): string {
  return [key, host, process.pid, crypto.randomBytes(6).toString('hex')].join(SEP) + suffix;
}

/**
 * Removes entries of `dir` created by processes of this host that are no longer alive (a worker SIGKILLed mid
 * transcode, say). Entries of other hosts are left alone: their owners may be alive.
 */
export async function sweepDeadOwners(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    const [, owner, pid] = name.split(SEP);
    if (owner !== host || !pid || isAlive(Number(pid))) continue;
    await fs.promises.rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Runs `fn` with a fresh path in `dir` (nothing created there yet) and removes whatever is at that path
 * afterwards, success or failure. Leftovers of dead processes are swept first.
 */
export async function withScratchPath<T>(
  dir: string,
  key: string,
  fn: (file: string) => Promise<T>,
): Promise<T> {
  await fs.promises.mkdir(dir, { recursive: true });
  await sweepDeadOwners(dir);
  const file = path.join(dir, ownedName(key));
  try {
    return await fn(file);
  } finally {
    await fs.promises.rm(file, { recursive: true, force: true });
  }
}
