import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { AnnotationStore } from '../../search/index.ts';
import { channelOptions, loadSearchPackage, loadTriggerPackage, reflectionDefinition } from './proto.ts';
import { createSearchService, SEARCH_SERVICE } from './search-service.ts';
import { createTriggerService, type TriggerServiceDeps } from './trigger-service.ts';

export const TRIGGER_SERVICE = 'mediamesh.v1.TriggerService';

/**
 * TriggerService, SearchService (when given an annotation store) plus the standard health service and server
 * reflection (both open, as is usual).
 */
export async function startGrpcServer(
  deps: TriggerServiceDeps & { annotations?: AnnotationStore },
  host: string,
  port: number,
): Promise<{ server: grpc.Server; port: number; health: HealthImplementation }> {
  const { proto } = loadTriggerPackage();
  const server = new grpc.Server(channelOptions);
  server.addService(proto.mediamesh.v1.TriggerService.service, createTriggerService(deps));
  if (deps.annotations) {
    const { proto: search } = loadSearchPackage();
    server.addService(
      search.mediamesh.v1.SearchService.service,
      createSearchService({ store: deps.annotations, config: deps.config, log: deps.log }),
    );
  }
  const health = new HealthImplementation({
    '': 'SERVING',
    [TRIGGER_SERVICE]: 'SERVING',
    ...(deps.annotations ? { [SEARCH_SERVICE]: 'SERVING' } : {}),
  });
  health.addToServer(server);
  new ReflectionService(reflectionDefinition()).addToServer(server);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port: bound, health };
}
