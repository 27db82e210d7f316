import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config/config.ts';

function tlsOptions(config: Config) {
  const { tlsCert, tlsKey, apiKey } = config.temporal;
  if (tlsCert && tlsKey) {
    return { clientCertPair: { crt: fs.readFileSync(tlsCert), key: fs.readFileSync(tlsKey) } };
  }
  return apiKey ? true : undefined;
}

export async function connectClient(config: Config, address: string): Promise<Client> {
  const tls = tlsOptions(config);
  const connection = await Connection.connect({
    address,
    ...(tls ? { tls } : {}),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}

export async function connectWorker(config: Config, address: string): Promise<NativeConnection> {
  const tls = tlsOptions(config);
  return NativeConnection.connect({
    address,
    ...(tls ? { tls } : {}),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  });
}
