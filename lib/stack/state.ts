import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const stateSchema = z.object({
  postgres: z
    .object({
      port: z.number().int(),
      user: z.string(),
      password: z.string(),
      database: z.string(),
    })
    .optional(),
  temporal: z.object({ port: z.number().int(), uiPort: z.number().int(), pid: z.number().int() }).optional(),
  api: z.object({ httpPort: z.number().int(), grpcPort: z.number().int(), token: z.string() }).optional(),
  workers: z.record(z.string(), z.number().int()).default({}),
});

export type StackState = z.infer<typeof stateSchema>;

export function stateFile(dataDir: string): string {
  return path.join(dataDir, 'stack.json');
}

export function readState(dataDir: string): StackState {
  const file = stateFile(dataDir);
  if (!fs.existsSync(file)) return { workers: {} };
  const parsed = stateSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file} is not a mediamesh stack state file: ${parsed.error.message}`);
  return parsed.data;
}

export function writeState(dataDir: string, state: StackState): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = stateFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
