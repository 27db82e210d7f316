import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../lib/config/config.ts';
import { startFeature } from '../../lib/features/client.ts';
import { resolveDatabaseUrl } from '../../lib/stack/endpoints.ts';
import { freePort, stopProcess, waitFor } from '../../lib/stack/processes.ts';
import { findTemporalBinary, startDevServer } from '../../lib/stack/temporal.ts';
import { randomEntityKey, TestWorkers } from '../support/harness.ts';

describe('resilience', () => {
  it('a worker killed with SIGKILL mid-activity: the run completes after a restart, with one value', async () => {
    const workers = new TestWorkers('kill');
    await workers.startAll();
    const s = await workers.session();
    try {
      const key = randomEntityKey();
      const handle = await startFeature(s.client, s.config, s.registry, {
        feature: 't-slow',
        entityKey: key,
        params: { ms: 4000 },
      });
      await waitFor('the slow compute to start', async () =>
        workers.executions('t-slow', key, 'start').length > 0 ? true : undefined,
      );
      const killedPid = workers.pids.cpu!;
      workers.kill('cpu');
      await sleep(500);
      workers.start('cpu');
      const ref = await handle.result();
      const starts = workers.executions('t-slow', key, 'start');
      assert.equal(starts.length, 2, 'the killed try and the retry');
      assert.equal(starts[0]![2], String(killedPid));
      assert.equal(workers.executions('t-slow', key, 'finish').length, 1);
      const rows = await s.db.featureValue.findMany({ where: { entityKey: key } });
      assert.equal(rows.length, 1, 'no duplicate value');
      assert.equal(rows[0]!.id.toString(), ref.valueId);
      assert.equal(rows[0]!.worker.endsWith(`/${workers.pids.cpu}`), true, 'stored by the restarted worker');
    } finally {
      await s.close();
      await workers.stopAll();
    }
  });

  it('the Temporal server restarted mid-run: the run completes from its durable state', async () => {
    const base = loadConfig();
    const binary = findTemporalBinary(base.temporal.binary);
    assert.ok(binary, 'temporal CLI installed');
    const dir = path.join(base.dataDir, 'temporal-restart');
    fs.rmSync(dir, { recursive: true, force: true });
    const port = await freePort();
    const server = { binary, baseDir: dir, port, uiPort: null, namespace: 'default' };
    let pid = await startDevServer(server);
    const workers = new TestWorkers('restart', {
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      DATABASE_URL: resolveDatabaseUrl(base),
    });
    await workers.startAll();
    const s = await workers.session();
    try {
      const key = randomEntityKey();
      const handle = await startFeature(s.client, s.config, s.registry, {
        feature: 't-waits-1',
        entityKey: key,
      });
      await waitFor('the slow dependency to start', async () =>
        workers.executions('t-slow', key, 'start').length > 0 ? true : undefined,
      );
      assert.equal(await stopProcess(pid), 'stopped');
      await sleep(1500);
      pid = await startDevServer(server);
      const ref = await handle.result();
      assert.equal(ref.memoHit, false);
      assert.equal(workers.executions('t-waits-1', key).length, 1);
      assert.equal(await s.db.featureValue.count({ where: { entityKey: key, featureName: 't-slow' } }), 1);
      assert.equal(await s.db.featureValue.count({ where: { entityKey: key, featureName: 't-waits-1' } }), 1);
    } finally {
      await s.close();
      await workers.stopAll();
      await stopProcess(pid);
    }
  });
});
