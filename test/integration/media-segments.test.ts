// Segmented decoding on real ffmpeg: several processes, each on its own segment of a derivative, hand out the same
// frames, in the same order, with the same pixels as one process decoding the whole file; leaving early stops them
// all; a derivative shorter than its frame count fails with a clear error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import mediaMetadata from '../../activities/features/media-metadata.ts';
import mediaQc from '../../activities/features/media-qc.ts';
import videoRecipe from '../../activities/features/video-360p-h264.ts';
import type { VideoSource } from '../../lib/media/pictures.ts';
import { VideoReader } from '../../lib/media/reader.ts';
import { type DecodeFramesOptions, decodeFrames, sweepStaleSegmentDirs } from '../../lib/media/segments.ts';
import { parseRational } from '../../lib/media/timing.ts';
import { findMediaTools } from '../../lib/media/tools.ts';
import { FsObjectStore } from '../../lib/objects/store.ts';
import { shotParams } from '../../lib/shots/params.ts';
import { ANALYSIS_DECODER_ARGS, detectShots } from '../../lib/shots/read.ts';
import { MediaFixtures, readBarcode } from '../support/media-fixtures.ts';
import { runLocally } from '../support/media-local.ts';
import { ffmpegChildren } from '../support/processes.ts';

const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!;
const fixtures = new MediaFixtures();
const objects = new FsObjectStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mm-segments-store-')));

/** 3,000 frames (the 250-frame barcode clip 12 times), standardized: frame i shows the number i % 250. */
let source: VideoSource;
before(async () => {
  const long = path.join(fixtures.dir, 'segments-long.mp4');
  await promisify(execFile)(tools.ffmpeg, [
    ...['-v', 'error', '-y', '-stream_loop', '11', '-i', await fixtures.get('barcode.mp4')],
    ...['-map', '0:v', '-c', 'copy', long],
  ]);
  const run = await runLocally([mediaMetadata, mediaQc, videoRecipe], long, { objects, tools });
  const v = run.values['video-360p-h264']!.value as {
    object: { uri: string };
    width: number;
    height: number;
    frameRate: string;
    frames: number;
    gop: number;
  };
  source = {
    file: await objects.localPath(v.object),
    width: v.width,
    height: v.height,
    frameRate: parseRational(v.frameRate)!,
    frames: v.frames,
    gop: v.gop,
  };
  assert.equal(source.frames, 3000);
});

/** This process's temporary folders of segment files. */
const segmentDirs = () =>
  fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith(`mm-segments-${process.pid}-`));

/** Index and a digest of the pixels of every frame handed out. */
async function digests(opts: Omit<DecodeFramesOptions, 'start' | 'end'> & { start?: number; end?: number }) {
  const out: [number, string][] = [];
  for await (const p of decodeFrames(tools, source, { start: 0, end: source.frames, ...opts })) {
    out.push([p.index, crypto.createHash('sha1').update(p.data).digest('hex')]);
  }
  return out;
}

describe('segmented decoding', () => {
  it('hands out every frame in order with the pixels of one sequential decode, however it is cut', async () => {
    const picture = {
      width: 64,
      height: 36,
      pixelFormat: 'yuv420p' as const,
      decoderArgs: ANALYSIS_DECODER_ARGS,
    };
    const whole = await digests({ ...picture, lanes: 1 });
    assert.deepEqual(
      whole.map(([i]) => i),
      Array.from({ length: 3000 }, (_, i) => i),
    );
    // Two lanes (two segments), three (three), and two with small segment files (six segments of 500 frames).
    assert.deepEqual(await digests({ ...picture, lanes: 2 }), whole);
    assert.deepEqual(await digests({ ...picture, lanes: 3 }), whole);
    assert.deepEqual(await digests({ ...picture, lanes: 2, segmentBytes: 2 * 2 ** 20 }), whole);
    const part = await digests({ ...picture, lanes: 2, start: 413, end: 2777 });
    assert.deepEqual(part, whole.slice(413, 2777), 'a range that starts and ends mid-GOP');
    // Planar RGB: ffmpeg writes G, B, R planes; the read from a segment file puts them in R, G, B order.
    const rgb = { width: 320, height: 180, pixelFormat: 'rgbp' as const, end: 1200 };
    assert.deepEqual(await digests({ ...rgb, lanes: 2 }), await digests({ ...rgb, lanes: 1 }));
    assert.deepEqual(segmentDirs(), [], 'the segment files are gone');
  });

  it('reads the true frame at every index through the reader, with and without sampling', async () => {
    const reader = new VideoReader(tools, source);
    let n = 0;
    for await (const f of reader.frames({ width: 320, height: 180, pixelFormat: 'gray' })) {
      assert.equal(f.index, n++);
      assert.equal(readBarcode(f.data as Uint8Array, 320, 180), f.index % 250, `frame ${f.index}`);
    }
    assert.equal(n, 3000);
    const sampled: number[] = [];
    for await (const f of reader.frames({ width: 320, height: 180, pixelFormat: 'gray', fps: 5, start: 7 })) {
      assert.equal(readBarcode(f.data as Uint8Array, 320, 180), f.index % 250, `frame ${f.index}`);
      sampled.push(f.index);
    }
    // 25 fps sampled at 5: the first frame of each fifth of a second (index divisible by 5), from frame 7 on.
    assert.deepEqual(
      sampled,
      Array.from({ length: 3000 / 5 }, (_, k) => k * 5).filter((i) => i >= 7),
    );
  });

  it('selects frames per segment, ffmpeg dropping the others', async () => {
    const wanted = new Set([0, 1, 499, 500, 1501, 1502, 2999]);
    const got: number[] = [];
    for await (const p of decodeFrames(tools, source, {
      start: 0,
      end: 3000,
      width: 320,
      height: 180,
      pixelFormat: 'gray',
      lanes: 2,
      selection: {
        keeps: (i) => wanted.has(i),
        filter: (start, end) =>
          `select='${[...wanted]
            .filter((w) => w >= start && w < end)
            .map((w) => `eq(n,${w - start})`)
            .join('+')}'`,
      },
    })) {
      assert.equal(readBarcode(p.data as Uint8Array, 320, 180), p.index % 250, `frame ${p.index}`);
      got.push(p.index);
    }
    assert.deepEqual(got, [...wanted]);
  });

  it('detects the same shots in one process and in several', async () => {
    const reader = new VideoReader(tools, source);
    const params = shotParams.parse({});
    const one = await detectShots(reader, params, { lanes: 1 });
    const two = await detectShots(reader, params, { lanes: 2 });
    assert.deepEqual(two, one);
  });

  it('stops every process when the reader leaves early or aborts', async () => {
    const frames = decodeFrames(tools, source, { start: 0, end: 3000, width: 64, height: 36, lanes: 2 });
    await frames.next();
    assert.equal(ffmpegChildren().length, 2, 'two processes decode at once');
    await frames.return(undefined);
    await sleep(200);
    assert.deepEqual(ffmpegChildren(), [], 'every ffmpeg is gone after the reader left');

    const ac = new AbortController();
    const aborted = decodeFrames(tools, source, {
      start: 0,
      end: 3000,
      width: 64,
      height: 36,
      lanes: 2,
      signal: ac.signal,
    });
    await aborted.next();
    ac.abort(new Error('enough'));
    await assert.rejects(
      (async () => {
        for await (const _ of aborted);
      })(),
      /enough/,
    );
    await sleep(200);
    assert.deepEqual(ffmpegChildren(), []);
    assert.deepEqual(segmentDirs(), [], 'no segment files are left behind');
  });

  it('sweeps the segment folders of processes that died, and only those', async () => {
    const dead = path.join(os.tmpdir(), 'mm-segments-4194305-abc');
    const alive = path.join(os.tmpdir(), `mm-segments-${process.ppid}-abc`);
    for (const d of [dead, alive]) fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(dead, '1.raw'), 'left by a killed worker');
    try {
      const removed = await sweepStaleSegmentDirs();
      assert.ok(removed.includes('mm-segments-4194305-abc'));
      assert.equal(fs.existsSync(dead), false);
      assert.equal(fs.existsSync(alive), true, 'a running process keeps its folder');
    } finally {
      fs.rmSync(alive, { recursive: true, force: true });
      fs.rmSync(dead, { recursive: true, force: true });
    }
  });

  it('fails clearly when the file has fewer frames than its source claims, in any segment', async () => {
    const claims = { ...source, frames: 3600 };
    const read = async () => {
      for await (const _ of decodeFrames(tools, claims, {
        start: 0,
        end: 3600,
        width: 64,
        height: 36,
        lanes: 2,
      }));
    };
    await assert.rejects(read, /ffmpeg gave 1200 frames between 1800 and 3600, fewer than the 1800 expected/);
  });
});
