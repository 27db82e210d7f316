import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { spawnLines } from '../../lib/media/process.ts';
import {
  ffmpegStaticBinary,
  findMediaTools,
  MediaToolError,
  runTool,
  toolVersion,
} from '../../lib/media/tools.ts';

describe('media tools', () => {
  it('prefers the configured paths, then PATH; ffmpeg-static only when its binary exists', () => {
    const configured = findMediaTools({
      media: { ffmpeg: '/opt/ff/ffmpeg', ffprobe: '/opt/ff/ffprobe', decoder: 'ffmpeg' },
    });
    assert.deepEqual(configured, { ffmpeg: '/opt/ff/ffmpeg', ffprobe: '/opt/ff/ffprobe' });
    const system = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } });
    assert.ok(system && fs.existsSync(system.ffmpeg) && fs.existsSync(system.ffprobe));
    const fallback = ffmpegStaticBinary();
    assert.ok(fallback === undefined || fs.existsSync(fallback), 'never a path to nothing');
  });

  it('reports the version and the tool’s own last words on failure', async () => {
    assert.match(await toolVersion('ffmpeg'), /^ffmpeg version \S+/);
    await assert.rejects(runTool('ffprobe', ['-v', 'error', '/no/such/file.mp4']), (err: unknown) => {
      assert.ok(err instanceof MediaToolError);
      assert.match(err.message, /ffprobe failed: .*No such file or directory/);
      return true;
    });
    await assert.rejects(runTool('/no/such/ffmpeg', ['-version']), MediaToolError);
  });

  it('passes a cancellation on as such, not as a tool failure', async () => {
    const ac = new AbortController();
    const endless = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc', '-f', 'null', '-'];
    setTimeout(() => ac.abort(new Error('cancelled by Temporal')), 200);
    await assert.rejects(runTool('ffmpeg', endless, { signal: ac.signal }), /cancelled by Temporal/);
    const again = new AbortController();
    setTimeout(() => again.abort(new Error('worker shutting down')), 200);
    await assert.rejects(spawnLines('ffmpeg', endless, { signal: again.signal }), /worker shutting down/);
  });

  it('kills a tool that stops producing output', async () => {
    const silent = ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=r=1', '-f', 'null', '-'];
    await assert.rejects(
      spawnLines('ffmpeg', silent, { stallMs: 300 }),
      /ffmpeg stalled: no output for 300 ms/,
    );
  });
});
