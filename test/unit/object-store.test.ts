import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ownedName, sweepDeadOwners, withScratchPath } from '../../lib/objects/scratch.ts';
import { FsObjectStore, parseObjectUri, sha256File } from '../../lib/objects/store.ts';

let dir: string;
let store: FsObjectStore;
const write = (name: string, data: Buffer | string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
};
const expectedHash = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');

describe('content-addressed object store', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-objects-'));
    store = new FsObjectStore(path.join(dir, 'store'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores a file by the sha256 of its bytes, once, read-only, leaving no temp file', async () => {
    const data = crypto.randomBytes(3 * (1 << 20) + 17);
    const a = await store.putFile(write('a.bin', data));
    const b = await store.putFile(write('b.bin', data));
    assert.deepEqual(a, b);
    assert.equal(a.sha256, expectedHash(data));
    assert.equal(a.sizeBytes, data.length);
    assert.equal(parseObjectUri(a.uri), a.sha256);
    const p = await store.localPath(a);
    assert.deepEqual(fs.readFileSync(p), data);
    assert.equal(fs.statSync(p).mode & 0o222, 0, 'read-only');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'store', 'incoming')), []);
    assert.ok(fs.existsSync(path.join(dir, 'a.bin')), 'a copy leaves the source alone');
    assert.deepEqual(await sha256File(p), { sha256: a.sha256, sizeBytes: data.length });
  });

  it('moves a file in, and stores streams', async () => {
    const src = write('move.bin', 'move me');
    const moved = await store.putFile(src, { move: true });
    assert.ok(!fs.existsSync(src));
    assert.equal(moved.sha256, expectedHash('move me'));
    async function* parts() {
      yield Buffer.from('stre');
      yield Buffer.from('amed');
    }
    const streamed = await store.putStream(parts());
    assert.equal(streamed.sha256, expectedHash('streamed'));
    const chunks: Buffer[] = [];
    for await (const c of await store.createReadStream(streamed)) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'streamed');
    assert.equal(await store.has(streamed.sha256), true);
    assert.equal(await store.has('0'.repeat(64)), false);
  });

  it('concurrent puts of the same bytes all succeed with one object', async () => {
    const data = crypto.randomBytes(1 << 20);
    const files = Array.from({ length: 8 }, (_, i) => write(`same-${i}.bin`, data));
    const refs = await Promise.all(files.map((f) => store.putFile(f)));
    assert.equal(new Set(refs.map((r) => r.uri)).size, 1);
    // The shard may hold other tests' objects whose hashes share the first two digits: look at this one only.
    const shard = path.join(dir, 'store', 'sha256', refs[0]!.sha256.slice(0, 2));
    const entries = fs.readdirSync(shard);
    assert.deepEqual(
      entries.filter((n) => n.startsWith(refs[0]!.sha256)),
      [refs[0]!.sha256],
      'one object, no second copy',
    );
    assert.deepEqual(
      entries.filter((n) => !/^[0-9a-f]{64}$/.test(n)),
      [],
      'no partial files beside it',
    );
    assert.deepEqual(fs.readdirSync(path.join(dir, 'store', 'incoming')), [], 'no work files left');
  });

  it('a failed stream leaves nothing behind', async () => {
    async function* broken() {
      yield Buffer.from('half');
      throw new Error('source went away');
    }
    await assert.rejects(store.putStream(broken()), /source went away/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'store', 'incoming')), []);
  });

  it('refuses URIs that are not content addresses', async () => {
    await assert.rejects(store.localPath({ uri: 'file:///etc/passwd' }), /not an object URI/);
    await assert.rejects(store.localPath({ uri: `mm://sha256/${'a'.repeat(64)}` }), /ENOENT/);
  });
});

describe('scratch files', () => {
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-scratch-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('removes the work file after success and after failure', async () => {
    let seen = '';
    await withScratchPath(dir, 'job', async (p) => {
      seen = p;
      fs.writeFileSync(p, 'x');
    });
    assert.ok(!fs.existsSync(seen));
    await assert.rejects(
      withScratchPath(dir, 'job', async (p) => {
        fs.writeFileSync(p, 'x');
        throw new Error('ffmpeg died');
      }),
      /ffmpeg died/,
    );
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('sweeps what dead processes left and keeps what live ones are writing', async () => {
    const child = spawn('true');
    await new Promise((resolve) => child.on('exit', resolve));
    const mine = ownedName('live');
    const dead = ownedName('dead').replace(`~${process.pid}~`, `~${child.pid}~`);
    const foreign = `job~another-host~${child.pid}~abc`;
    for (const name of [mine, dead, foreign]) fs.writeFileSync(path.join(dir, name), '');
    assert.deepEqual(await sweepDeadOwners(dir), [dead]);
    assert.deepEqual(fs.readdirSync(dir).sort(), [mine, foreign].sort());
  });
});
