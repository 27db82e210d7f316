import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearerAllowed } from '../../lib/api/auth.ts';
import { ConfigError, loadConfig } from '../../lib/config/config.ts';

describe('configuration', () => {
  it('has working defaults for the embedded stack', () => {
    const c = loadConfig({});
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.temporal.address, undefined);
    assert.equal(c.temporal.namespace, 'default');
    assert.equal(c.temporal.uiPort, 8233);
    assert.deepEqual(c.queues, {
      orchestrator: 'mediamesh-orchestrator',
      cpu: 'mediamesh-cpu',
      gpu: 'mediamesh-gpu',
    });
    assert.match(c.dataDir, /\.mediamesh$/);
  });

  it('reads external services and lists', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/mm',
      TEMPORAL_ADDRESS: 'temporal:7233',
      MEDIAMESH_FEATURE_MODULES: ' ./a.ts, ./b.ts ,',
      MEDIAMESH_QUEUE_PREFIX: 'studio-a',
    });
    assert.equal(c.databaseUrl, 'postgresql://u:p@db:5432/mm');
    assert.equal(c.temporal.address, 'temporal:7233');
    assert.deepEqual(c.featureModules, ['./a.ts', './b.ts']);
    assert.equal(c.queues.gpu, 'studio-a-gpu');
  });

  it('an empty variable counts as unset', () => {
    assert.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined);
  });

  for (const [name, value, message] of [
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL: must be a postgres/],
    ['TEMPORAL_ADDRESS', 'http://temporal:7233', /TEMPORAL_ADDRESS: must be host:port/],
    ['MEDIAMESH_TEMPORAL_UI_PORT', '99999', /MEDIAMESH_TEMPORAL_UI_PORT/],
    ['MEDIAMESH_CPU_CONCURRENCY', 'many', /MEDIAMESH_CPU_CONCURRENCY/],
    ['MEDIAMESH_CPU_CONCURRENCY', '1e9', /MEDIAMESH_CPU_CONCURRENCY/],
    ['MEDIAMESH_QUEUE_PREFIX', 'Bad Prefix', /lowercase letters, digits and dashes/],
    ['MEDIAMESH_LOG_LEVEL', 'loud', /MEDIAMESH_LOG_LEVEL/],
    ['MEDIAMESH_API_TOKENS', 'short', /at least 16 characters/],
  ] as const) {
    it(`refuses ${name}=${value} with a message naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (err: Error) => err instanceof ConfigError && message.test(err.message),
      );
    });
  }
});

describe('bearer tokens', () => {
  const tokens = ['0123456789abcdef-editor', 'fedcba9876543210-bench'];
  it('accepts a configured token', () =>
    assert.equal(bearerAllowed('Bearer fedcba9876543210-bench', tokens), true));
  it('refuses a missing header, a wrong scheme, a wrong or a prefix token', () => {
    assert.equal(bearerAllowed(undefined, tokens), false);
    assert.equal(bearerAllowed('Basic 0123456789abcdef-editor', tokens), false);
    assert.equal(bearerAllowed('Bearer 0123456789abcdef', tokens), false);
    assert.equal(bearerAllowed('Bearer ', tokens), false);
  });
  it('refuses everything when no token is configured', () =>
    assert.equal(bearerAllowed('Bearer anything-at-all-here', []), false));
});
