import { WorkflowFailedError } from '@temporalio/client';

/** The innermost cause of a failure, where the real reason (e.g. a BadInput message) lives. */
export function rootCauseMessage(err: unknown): string {
  let cur: unknown = err;
  while (cur instanceof Error && cur.cause instanceof Error) cur = cur.cause;
  return cur instanceof Error ? cur.message : String(cur);
}

/** A one-line explanation of a failed workflow for people, or undefined for other errors. */
export function describeWorkflowFailure(err: unknown): string | undefined {
  return err instanceof WorkflowFailedError ? `feature run failed: ${rootCauseMessage(err)}` : undefined;
}
