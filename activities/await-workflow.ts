import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { ValueRef } from '../lib/features/refs.ts';

/**
 * Waits for a feature workflow another parent started (a shared dependency already running), so the value is
 * computed once. Heartbeats while waiting; a retry after a worker death simply waits again.
 */
export function makeAwaitFeatureWorkflow(deps: { client: Client }) {
  return async function awaitFeatureWorkflow(workflowId: string): Promise<ValueRef> {
    const ctx = Context.current();
    const beat = setInterval(() => ctx.heartbeat(), 2_000);
    try {
      const handle = deps.client.workflow.getHandle(workflowId);
      const ref = (await handle.result()) as ValueRef;
      return { ...ref, memoHit: true };
    } finally {
      clearInterval(beat);
    }
  };
}
