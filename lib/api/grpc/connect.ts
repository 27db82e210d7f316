import type { Config } from '../../config/config.ts';
import { readState } from '../../stack/state.ts';
import { TriggerApi } from './client.ts';

export class ApiNotConfiguredError extends Error {
  override name = 'ApiNotConfiguredError';
}

/** MEDIAMESH_API_ADDRESS / MEDIAMESH_API_TOKEN when set, else the embedded api that `mediamesh up` started. */
export function connectApi(config: Config): TriggerApi {
  const { api } = readState(config.dataDir);
  const address = config.api.address ?? (api ? `127.0.0.1:${api.grpcPort}` : undefined);
  if (!address) {
    throw new ApiNotConfiguredError(
      'no gRPC API to talk to: run `mediamesh up`, or set MEDIAMESH_API_ADDRESS',
    );
  }
  return new TriggerApi(address, config.api.clientToken ?? api?.token);
}
