import * as grpc from '@grpc/grpc-js';
import type { z } from 'zod';

/** An error with the gRPC status the client should see; its message is safe to show. */
export class ApiError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new ApiError(grpc.status.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new ApiError(grpc.status.NOT_FOUND, message);

/** Parses a request with a zod schema; the first problems become one INVALID_ARGUMENT naming each field. */
export function parseRequest<T>(schema: z.ZodType<T>, request: unknown): T {
  const parsed = schema.safeParse(request);
  if (parsed.success) return parsed.data;
  const snake = (k: PropertyKey) => String(k).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  throw invalid(
    parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(snake).join('.') || 'request'}: ${i.message}`)
      .join('; '),
  );
}
