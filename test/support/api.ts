import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TriggerApi } from '../../lib/api/grpc/client.ts';
import { freePort, waitFor } from '../../lib/stack/processes.ts';
import type { TestWorkers } from './harness.ts';

export const API_TOKEN = 'test-token-abcdefghijklmnop';

export interface TestApi {
  api: TriggerApi;
  address: string;
  mediaRoot: string;
  inbox: string;
}

/** Starts the real api process for a test file: its own ports, token, media root and inbox (temp dirs). */
export async function startTestApi(workers: TestWorkers): Promise<TestApi> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-api-'));
  const mediaRoot = path.join(base, 'media');
  const inbox = path.join(base, 'inbox');
  fs.mkdirSync(mediaRoot, { recursive: true });
  fs.mkdirSync(inbox, { recursive: true });
  const grpcPort = await freePort();
  workers.start('api', {
    MEDIAMESH_GRPC_PORT: String(grpcPort),
    MEDIAMESH_API_PORT: String(await freePort()),
    MEDIAMESH_API_TOKENS: API_TOKEN,
    MEDIAMESH_MEDIA_ROOTS: mediaRoot,
    MEDIAMESH_INBOX_DIRS: inbox,
  });
  const address = `127.0.0.1:${grpcPort}`;
  const api = new TriggerApi(address, API_TOKEN);
  await waitFor('the gRPC api', async () => {
    await api.call('ListFeatures', {}, 1000);
    return true;
  });
  return { api, address, mediaRoot, inbox };
}

/** Writes random bytes to a file (test features never read the asset: any content is an asset). */
export function randomFile(dir: string, name: string, bytes = 4096): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, crypto.randomBytes(bytes));
  return file;
}

export function grpcCode(err: unknown): string {
  const code = (err as grpc.ServiceError).code;
  return typeof code === 'number' ? grpc.status[code] : String(err);
}
