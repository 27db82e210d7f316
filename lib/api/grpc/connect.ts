import type { Config } from '../../config/config.ts';
import { readState } from '../../stack/state.ts';
import { TriggerApi } from './client.ts';

export class ApiNotConfiguredError extends Error {
  override name = 'ApiNotConfiguredError';
}

/** MEDIAMESH_API_ADDRESS / MEDIAMESH_API_TOKEN when set, else the embedded api that `mediamesh up` started. */
export function apiEndpoint(config: Config): { address: string; token: string | undefined } {
  const { api } = readState(config.dataDir);
  const address = config.api.address ?? (api ? `127.0.0.1:${api.grpcPort}` : undefined);
  if (!address) {
    throw new ApiNotConfiguredError(
      'no gRPC API to talk to: run `mediamesh up`, or set MEDIAMESH_API_ADDRESS',
    );
  }
  return { address, token: config.api.clientToken ?? api?.token };
}

/** The TriggerService of the configured api. */
export function connectApi(config: Config): TriggerApi {
  const { address, token } = apiEndpoint(config);
  return new TriggerApi(address, token);
}
