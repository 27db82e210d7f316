import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { table as plainTable } from '../../lib/cli/table.ts';
import { projectRoot } from '../../lib/config/config.ts';

export interface Figure {
  metric: string;
  value: number;
  unit: string;
  goal?: string;
  /** Whether the goal holds; undefined when there is no goal. */
  met?: boolean;
  note?: string;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export const median = (values: number[]) => percentile(values, 50);
export const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** Prints the figures as a table and writes them to bench/results/<name>.json with the machine they ran on. */
export function report(name: string, figures: Figure[], extra: Record<string, unknown> = {}): string {
  const table = plainTable(['metric', 'value', 'unit', 'goal', 'met']);
  for (const f of figures) {
    table.push([
      f.metric,
      String(f.value),
      f.unit,
      f.goal ?? '',
      f.met === undefined ? '' : f.met ? 'yes' : 'NO',
    ]);
  }
  process.stdout.write(`\n${name}\n${table.toString()}\n`);
  const file = path.join(projectRoot, 'bench', 'results', `${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const body = {
    name,
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memGiB: round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    figures,
    ...extra,
  };
  fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  process.stdout.write(`written ${path.relative(projectRoot, file)}\n`);
  return file;
}
