// The standard gRPC services a deployment is probed with: health checks and server reflection, through the
// protos the packages ship (grpc-health-check, @grpc/reflection), as a generic client like grpcurl would.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const modules = path.join(import.meta.dirname, '..', '..', 'node_modules');
type Ctor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;

/** A plaintext client of the service `pick` finds in a proto file the packages ship. */
function connect<C>(file: string, pick: (pkg: never) => Ctor, address: string): grpc.Client & C {
  const pkg = grpc.loadPackageDefinition(
    protoLoader.loadSync(path.join(modules, file), { keepCase: true, enums: String }),
  );
  const Client = pick(pkg as never);
  return new Client(address, grpc.credentials.createInsecure()) as grpc.Client & C;
}

/** grpc.health.v1.Health/Check for one service: its status name (e.g. SERVING). */
export async function healthStatus(address: string, service: string): Promise<string> {
  const client = connect<{
    Check(req: object, cb: (err: Error | null, res: { status: string }) => void): void;
  }>(
    'grpc-health-check/proto/health/v1/health.proto',
    (p: { grpc: { health: { v1: { Health: Ctor } } } }) => p.grpc.health.v1.Health,
    address,
  );
  try {
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      client.Check({ service }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    return res.status;
  } finally {
    client.close();
  }
}

/** The services server reflection (v1) lists. */
export async function reflectedServices(address: string): Promise<string[]> {
  const client = connect<{
    ServerReflectionInfo(): grpc.ClientDuplexStream<
      object,
      { list_services_response?: { service: { name: string }[] } }
    >;
  }>(
    '@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
    (p: { grpc: { reflection: { v1: { ServerReflection: Ctor } } } }) =>
      p.grpc.reflection.v1.ServerReflection,
    address,
  );
  try {
    const stream = client.ServerReflectionInfo();
    return await new Promise<string[]>((resolve, reject) => {
      stream.on('data', (msg) => {
        resolve((msg.list_services_response?.service ?? []).map((x: { name: string }) => x.name));
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ list_services: '*' });
    });
  } finally {
    client.close();
  }
}
