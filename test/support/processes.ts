// The ffmpeg processes this test process has started and not yet reaped: to check that leaving or aborting a read
// stops them.
import fs from 'node:fs';

/** Running ffmpeg processes started by this test process. */
export function ffmpegChildren(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [, comm, , ppid] = /^\d+ \((.*)\) (\S) (\d+)/.exec(stat) ?? [];
        return comm === 'ffmpeg' && Number(ppid) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}
