import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { channelOptions, loadTriggerPackage, reflectionDefinition } from './proto.ts';
import { createTriggerService, type TriggerServiceDeps } from './trigger-service.ts';

export const TRIGGER_SERVICE = 'mediamesh.v1.TriggerService';

/** TriggerService plus the standard health service and server reflection (both open, as is usual). */
export async function startGrpcServer(
  deps: TriggerServiceDeps,
  host: string,
  port: number,
): Promise<{ server: grpc.Server; port: number; health: HealthImplementation }> {
  const { proto } = loadTriggerPackage();
  const server = new grpc.Server(channelOptions);
  server.addService(proto.mediamesh.v1.TriggerService.service, createTriggerService(deps));
  const health = new HealthImplementation({ '': 'SERVING', [TRIGGER_SERVICE]: 'SERVING' });
  health.addToServer(server);
  new ReflectionService(reflectionDefinition()).addToServer(server);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port: bound, health };
}
