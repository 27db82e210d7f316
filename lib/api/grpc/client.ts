import * as grpc from '@grpc/grpc-js';
import type { TitleStatus__Output } from '../generated/mediamesh/v1/TitleStatus.ts';
import type { TriggerServiceClient } from '../generated/mediamesh/v1/TriggerService.ts';
import { channelOptions, loadTriggerPackage } from './proto.ts';

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

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  call<Req, Res>(method: UnaryMethod, request: Req, timeoutMs = 30_000): Promise<Res> {
    const fn = this.raw[method] as unknown as (
      req: Req,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: Res) => void,
    ) => void;
    return new Promise((resolve, reject) =>
      fn.call(this.raw, request, this.metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  }

  watchStatus(titleId: string, timeoutMs: number): grpc.ClientReadableStream<TitleStatus__Output> {
    return this.raw.WatchStatus({ titleId }, this.metadata(), { deadline: Date.now() + timeoutMs });
  }

  close(): void {
    this.raw.close();
  }
}
