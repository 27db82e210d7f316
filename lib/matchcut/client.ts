// Starting (or joining) a match-cut query from a client, and reading its answer.
import crypto from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { MatchCutAnswer } from '../../activities/matchcut.ts';
import type { matchCutQueryWorkflow } from '../../workflows/matchcut.ts';
import type { Config } from '../config/config.ts';
import { BadInputError } from '../features/definition.ts';
import type { ValueRef } from '../features/refs.ts';
import type { Db } from '../store/db.ts';
import { parseQuerySubject } from './cache-key.ts';
import { PairInputError } from './filters.ts';
import { matchCutQuerySchema } from './query.ts';
import type { MatchCutRequest } from './request.ts';

/** `matchcut/<sha256 of the canonical query>`: the same question asked twice at once runs once. */
export function matchCutWorkflowId(request: MatchCutRequest): string {
  let q: ReturnType<typeof parseQuerySubject<typeof matchCutQuerySchema>>;
  try {
    q = parseQuerySubject(matchCutQuerySchema, request);
  } catch (err) {
    if (err instanceof PairInputError) throw new BadInputError(err.message);
    throw err;
  }
  const hash = crypto.createHash('sha256').update(JSON.stringify(q)).digest('hex');
  return `matchcut/${hash}`;
}

export async function startMatchCut(
  client: Client,
  config: Config,
  request: MatchCutRequest,
): Promise<WorkflowHandle<typeof matchCutQueryWorkflow>> {
  const workflowId = matchCutWorkflowId(request);
  const titles = [...new Set(request.titles)].sort();
  return client.workflow.start<typeof matchCutQueryWorkflow>('matchCutQueryWorkflow', {
    workflowId,
    taskQueue: config.queues.orchestrator,
    args: [{ ...request, orchestratorQueue: config.queues.orchestrator }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary:
      `match cuts · ${request.flavor} · k=${request.k} · ${titles.slice(0, 5).join(', ')}${titles.length > 5 ? ` +${titles.length - 5}` : ''}`.slice(
        0,
        200,
      ),
  });
}

export async function readMatchCutAnswer(db: Db, ref: ValueRef): Promise<MatchCutAnswer> {
  const row = await db.featureValue.findUniqueOrThrow({ where: { id: BigInt(ref.valueId) } });
  return row.value as MatchCutAnswer;
}
