import fs from 'node:fs';

/**
 * This process's peak resident memory (KiB) since it started its program. Not getrusage's maxRSS: Linux carries
 * that over from before exec, so a benchmark child forked from a large parent would report the parent's size.
 */
export function peakRssKiB(): number {
  try {
    const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (hwm) return Number(hwm);
  } catch {
    // not Linux: getrusage is all there is
  }
  return process.resourceUsage().maxRSS;
}
