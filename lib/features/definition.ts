import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import type { Logger } from '../config/log.ts';
import type { MediaTools } from '../media/tools.ts';
import type { ObjectStore } from '../objects/store.ts';

export const FEATURE_NAME = /^[a-z][a-z0-9-]*(?::[a-z0-9][a-z0-9-]*)?$/;

export type EntityType = 'asset' | 'title';
export type QueueKind = 'cpu' | 'gpu';
/** Stores a value is replicated to through the outbox. */
export type SinkName = 'vectors' | 'annotations';

export interface StoredInput {
  valueId: string;
  feature: string;
  version: number;
  value: unknown;
  objectUri: string | null;
}

export interface FeatureContext<P> {
  entityKey: string;
  titleId: string | undefined;
  params: P;
  /** Dependency values by feature name, already validated when they were stored. */
  inputs: Record<string, StoredInput>;
  /** Records progress; also keeps the activity alive between automatic heartbeats. */
  heartbeat(progress?: unknown): void;
  /** Aborted when Temporal cancels the activity or the worker shuts down. */
  signal: AbortSignal;
  log: Logger;
  objects: ObjectStore;
  tools: MediaTools;
  /** Local path of the asset's bytes (asset entities only); BadInputError when no such asset was ingested. */
  assetPath(): Promise<string>;
  /** 1 on the first try; higher after a retry (e.g. a worker died mid-compute). */
  attempt: number;
}

/** A compute failure caused by the input, not the machine: never retried, reported as is. */
export class BadInputError extends Error {
  override name = 'BadInputError';
}

interface FeatureSpec<O, P> {
  name: string;
  version: number;
  description: string;
  /** `import.meta.url` of the module: its bytes are the feature's code hash. */
  module: string;
  entityType: EntityType;
  taskQueue: QueueKind;
  dependencies?: string[];
  params?: z.ZodType<P>;
  output: z.ZodType<O>;
  /** 'object': the value carries `object: ObjectRef` (a blob in the object store); 'json': the value is all. */
  outputKind?: 'json' | 'object';
  sinks?: SinkName[];
  /** Per-try limit for the compute activity; default 30 minutes. */
  timeoutMs?: number;
  /** A silent worker is presumed dead after this long; default 30 s. */
  heartbeatTimeoutMs?: number;
  /** Tries before the feature fails; default 5. */
  maxAttempts?: number;
  compute(ctx: FeatureContext<P>): Promise<O>;
}

export interface Feature<O = unknown, P = Record<string, unknown>>
  extends Required<Omit<FeatureSpec<O, P>, 'params'>> {
  params: z.ZodType<P> | undefined;
  codeHash: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds features of every output and params type
export type AnyFeature = Feature<any, any>;

export function defineFeature<O, P = Record<string, never>>(spec: FeatureSpec<O, P>): Feature<O, P> {
  if (!FEATURE_NAME.test(spec.name)) {
    throw new Error(
      `feature name "${spec.name}" must match ${FEATURE_NAME} (e.g. shots, shot-embedding:clip)`,
    );
  }
  if (!Number.isInteger(spec.version) || spec.version < 1) {
    throw new Error(`feature ${spec.name}: version must be a positive integer, got ${spec.version}`);
  }
  const source = fs.readFileSync(fileURLToPath(spec.module));
  return {
    dependencies: [],
    sinks: [],
    outputKind: 'json',
    timeoutMs: 30 * 60_000,
    heartbeatTimeoutMs: 30_000,
    maxAttempts: 5,
    ...spec,
    params: spec.params,
    codeHash: crypto.createHash('sha256').update(source).digest('hex'),
  };
}
