// What every mediamesh gRPC client does per call: a bearer token in the metadata, a deadline, a promise.
import * as grpc from '@grpc/grpc-js';

export function bearerMetadata(token: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

/** Calls unary method `method` of a generated client with the token and a deadline `timeoutMs` from now. */
export function unaryCall<Req, Res>(
  client: grpc.Client,
  method: string,
  request: Req,
  token: string | undefined,
  timeoutMs: number,
): Promise<Res> {
  const fn = (client as unknown as Record<string, unknown>)[method] as (
    req: Req,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res: Res) => void,
  ) => void;
  return new Promise((resolve, reject) =>
    fn.call(client, request, bearerMetadata(token), { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}
