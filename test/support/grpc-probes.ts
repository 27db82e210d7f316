// The standard gRPC services a deployment is probed with: health checks and server reflection, through the
// protos the packages ship (grpc-health-check, @grpc/reflection), as a generic client like grpcurl would.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const modules = path.join(import.meta.dirname, '..', '..', 'node_modules');
type Ctor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;

function load(file: string): grpc.GrpcObject {
  return grpc.loadPackageDefinition(
    protoLoader.loadSync(path.join(modules, file), { keepCase: true, enums: String }),
  );
}

/** grpc.health.v1.Health/Check for one service: its status name (e.g. SERVING). */
export async function healthStatus(address: string, service: string): Promise<string> {
  const health = load('grpc-health-check/proto/health/v1/health.proto') as unknown as {
    grpc: { health: { v1: { Health: Ctor } } };
  };
  const client = new health.grpc.health.v1.Health(
    address,
    grpc.credentials.createInsecure(),
  ) as grpc.Client & {
    Check(req: object, cb: (err: Error | null, res: { status: string }) => void): void;
  };
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
  const refl = load('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto') as unknown as {
    grpc: { reflection: { v1: { ServerReflection: Ctor } } };
  };
  const client = new refl.grpc.reflection.v1.ServerReflection(
    address,
    grpc.credentials.createInsecure(),
  ) as grpc.Client & {
    ServerReflectionInfo(): grpc.ClientDuplexStream<
      object,
      { list_services_response?: { service: { name: string }[] } }
    >;
  };
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
