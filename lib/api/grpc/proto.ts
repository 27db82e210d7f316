import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { projectRoot } from '../../config/config.ts';
import type { ProtoGrpcType as SearchProtoGrpcType } from '../generated/search.ts';
import type { ProtoGrpcType } from '../generated/trigger.ts';

// Must match the flags scripts/setup.sh gives proto-loader-gen-types, so the generated types are the runtime shape.
const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [path.join(projectRoot, 'proto')],
};

export const triggerProtoFile = path.join(projectRoot, 'proto', 'mediamesh', 'v1', 'trigger.proto');

export function loadTriggerPackage(): { definition: protoLoader.PackageDefinition; proto: ProtoGrpcType } {
  const definition = protoLoader.loadSync(triggerProtoFile, loaderOptions);
  return { definition, proto: grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType };
}

export const searchProtoFile = path.join(projectRoot, 'proto', 'mediamesh', 'v1', 'search.proto');

export function loadSearchPackage(): {
  definition: protoLoader.PackageDefinition;
  proto: SearchProtoGrpcType;
} {
  const definition = protoLoader.loadSync(searchProtoFile, loaderOptions);
  return { definition, proto: grpc.loadPackageDefinition(definition) as unknown as SearchProtoGrpcType };
}

/**
 * Descriptors for server reflection: our services and the health service, with field names as written in the
 * .proto files (the runtime definition camel-cases them, which would mislead grpcurl and friends).
 */
export function reflectionDefinition(): protoLoader.PackageDefinition {
  const health = path.join(projectRoot, 'proto', 'grpc', 'health', 'v1', 'health.proto');
  return protoLoader.loadSync([triggerProtoFile, searchProtoFile, health], {
    ...loaderOptions,
    keepCase: true,
  });
}

/** Limits applied on both ends: requests are small; statuses of large titles can be a few MB. */
export const channelOptions: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 1024 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};
