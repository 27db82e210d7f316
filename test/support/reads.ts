// Reads in tests.
import assert from 'node:assert/strict';

/** Reading what is left of `frames` must fail with an error matching `reason` (after an abort, say). */
export async function assertRestRejects(frames: AsyncIterable<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(
    (async () => {
      for await (const _ of frames);
    })(),
    reason,
  );
}
