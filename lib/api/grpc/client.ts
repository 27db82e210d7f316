import * as grpc from '@grpc/grpc-js';
import type { TitleStatus__Output } from '../generated/mediamesh/v1/TitleStatus.ts';
import type { TriggerServiceClient } from '../generated/mediamesh/v1/TriggerService.ts';
import { channelOptions, loadTriggerPackage } from './proto.ts';
import { bearerMetadata, unaryCall } from './unary.ts';

type UnaryMethod = 'Trigger' | 'Recompute' | 'GetStatus' | 'GetFeatureValue' | 'ListFeatures';

/** A TriggerService client that sends `authorization: Bearer <token>` with every call. */
export class TriggerApi {
  readonly raw: TriggerServiceClient;

  constructor(
    address: string,
    private readonly token: string | undefined,
  ) {
    const { proto } = loadTriggerPackage();
    this.raw = new proto.mediamesh.v1.TriggerService(
      address,
      grpc.credentials.createInsecure(),
      channelOptions,
    );
  }

  call<Req, Res>(method: UnaryMethod, request: Req, timeoutMs = 30_000): Promise<Res> {
    return unaryCall(this.raw, method, request, this.token, timeoutMs);
  }

  watchStatus(titleId: string, timeoutMs: number): grpc.ClientReadableStream<TitleStatus__Output> {
    return this.raw.WatchStatus({ titleId }, bearerMetadata(this.token), {
      deadline: Date.now() + timeoutMs,
    });
  }

  close(): void {
    this.raw.close();
  }
}
