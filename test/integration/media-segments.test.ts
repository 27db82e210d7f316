// Segmented decoding on real ffmpeg: several processes, each on its own segment of a derivative, hand out the same
// frames, in the same order, with the same pixels as one process decoding the whole file; leaving early stops them
// all; a derivative shorter than its frame count fails with a clear error. And the in-process decoder (libav through
// native/libav): the same frames and pixels as the ffmpeg processes, byte for byte, and the same errors.
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
import { loadLibav } from '../../lib/media/libav.ts';
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
import { assertRestRejects } from '../support/reads.ts';

/** Frames from ffmpeg processes, and from the in-process decoder. */
const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined, decoder: 'ffmpeg' } })!;
const inProcess = findMediaTools({
  media: { ffmpeg: undefined, ffprobe: undefined, decoder: 'in-process' },
})!;
const bothDecoders = [
  ['ffmpeg processes', tools],
  ['in-process', inProcess],
] as const;
const fixtures = new MediaFixtures();
const objects = new FsObjectStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mm-segments-store-')));

/** 3,000 frames (the 250-frame barcode clip 12 times), standardized: frame i shows the number i % 250. */
let source: VideoSource;
/** The same 3,000 frames before standardization (its keyframes known only to the container's index). */
const long = path.join(fixtures.dir, 'segments-long.mp4');
before(async () => {
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
    standardized: true,
  };
  assert.equal(source.frames, 3000);
});

/** This process's temporary folders of segment files. */
const segmentDirs = () =>
  fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith(`mm-segments-${process.pid}-`));

/** Index and a digest of the pixels of every frame handed out. */
async function digests(
  opts: Omit<DecodeFramesOptions, 'start' | 'end'> & { start?: number; end?: number },
  using = tools,
  from = source,
) {
  const out: [number, string][] = [];
  for await (const p of decodeFrames(using, from, { start: 0, end: from.frames, ...opts })) {
    out.push([p.index, crypto.createHash('sha1').update(p.data).digest('hex')]);
  }
  return out;
}

/** Starts a read with a signal, takes one frame, aborts: the rest of the read must fail with the abort's reason. */
async function abortMidRead(using: typeof tools) {
  const ac = new AbortController();
  const frames = decodeFrames(using, source, {
    start: 0,
    end: 3000,
    width: 64,
    height: 36,
    lanes: 2,
    signal: ac.signal,
  });
  await frames.next();
  ac.abort(new Error('enough'));
  await assertRestRejects(frames, /enough/);
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

  for (const [name, using] of bothDecoders)
    it(`reads the true frame at every index through the reader, with and without sampling (${name})`, async () => {
      const reader = new VideoReader(using, source);
      let n = 0;
      for await (const f of reader.frames({ width: 320, height: 180, pixelFormat: 'gray' })) {
        assert.equal(f.index, n++);
        assert.equal(readBarcode(f.data as Uint8Array, 320, 180), f.index % 250, `frame ${f.index}`);
      }
      assert.equal(n, 3000);
      const sampled: number[] = [];
      for await (const f of reader.frames({
        width: 320,
        height: 180,
        pixelFormat: 'gray',
        fps: 5,
        start: 7,
      })) {
        assert.equal(readBarcode(f.data as Uint8Array, 320, 180), f.index % 250, `frame ${f.index}`);
        sampled.push(f.index);
      }
      // 25 fps sampled at 5: the first frame of each fifth of a second (index divisible by 5), from frame 7 on.
      assert.deepEqual(
        sampled,
        Array.from({ length: 3000 / 5 }, (_, k) => k * 5).filter((i) => i >= 7),
      );
    });

  for (const [name, using] of bothDecoders)
    it(`selects frames per segment, the decoder dropping the others (${name})`, async () => {
      const wanted = new Set([0, 1, 499, 500, 1501, 1502, 2999]);
      const got: number[] = [];
      for await (const p of decodeFrames(using, source, {
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

  for (const [name, using] of bothDecoders)
    it(`detects the same shots in one lane and in several (${name})`, async () => {
      const reader = new VideoReader(using, source);
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

    await abortMidRead(tools);
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

  for (const [name, using] of bothDecoders)
    it(`fails clearly when the file has fewer frames than its source claims, in any segment (${name})`, async () => {
      const claims = { ...source, frames: 3600 };
      const read = async () => {
        for await (const _ of decodeFrames(using, claims, {
          start: 0,
          end: 3600,
          width: 64,
          height: 36,
          lanes: 2,
        }));
      };
      await assert.rejects(read, /decoded \d+ frames between \d+ and 3600, fewer than the \d+ expected/);
    });
});

describe('in-process decoding', () => {
  it('is built (npm run setup builds it)', () => {
    assert.ok(inProcess.libav, loadLibav().why);
    assert.equal(tools.libav, undefined, 'MEDIAMESH_DECODER=ffmpeg turns it off');
  });

  it('hands out the frames and pixels of the ffmpeg processes, byte for byte', async () => {
    const cases: (Omit<DecodeFramesOptions, 'start' | 'end'> & { start?: number; end?: number })[] = [
      { width: 64, height: 36, pixelFormat: 'yuv420p', decoderArgs: ANALYSIS_DECODER_ARGS },
      { width: 320, height: 180, pixelFormat: 'rgbp', start: 413, end: 2777 },
      { pixelFormat: 'rgb24', start: 1195, end: 1210 },
      { width: 100, height: 100, fit: 'contain', pixelFormat: 'gray', start: 7, end: 400 },
      { width: 100, height: 100, fit: 'cover', pixelFormat: 'rgbpf32', start: 950, end: 1100 },
      { width: 320, height: 180, pixelFormat: 'rgbp', start: 1777, end: 1778 },
    ];
    for (const c of cases) {
      const want = await digests({ ...c, lanes: 1 });
      assert.deepEqual(
        await digests({ ...c, lanes: 1 }, inProcess),
        want,
        `one decoder: ${JSON.stringify(c)}`,
      );
      assert.deepEqual(await digests({ ...c, lanes: 3 }, inProcess), want, `three: ${JSON.stringify(c)}`);
    }
  });

  it('leaves any file but a standardized derivative to ffmpeg processes', async () => {
    const original = { ...source, file: long, gop: undefined, standardized: undefined };
    const frames = decodeFrames(inProcess, original, {
      start: 0,
      end: 3000,
      width: 64,
      height: 36,
      lanes: 2,
    });
    await frames.next();
    assert.equal(ffmpegChildren().length, 2, 'the original is decoded by ffmpeg processes');
    await frames.return(undefined);
    const derivative = decodeFrames(inProcess, source, {
      start: 0,
      end: 3000,
      width: 64,
      height: 36,
      lanes: 2,
    });
    await derivative.next();
    assert.deepEqual(ffmpegChildren(), [], 'the derivative is decoded in this process');
    await derivative.return(undefined);
  });

  it('decodes a bounded distance ahead of a slow reader', async () => {
    // 3,000 frames of 320×180 RGB are 518 MB; two decoders two chunks ahead hold about 64 MiB.
    const before = process.memoryUsage().arrayBuffers;
    const frames = decodeFrames(inProcess, source, {
      start: 0,
      end: 3000,
      width: 320,
      height: 180,
      lanes: 2,
    });
    await frames.next();
    await sleep(1500);
    const held = process.memoryUsage().arrayBuffers - before;
    await frames.return(undefined);
    assert.ok(held < 100 * 2 ** 20, `${(held / 2 ** 20).toFixed(0)} MiB of frames decoded ahead`);
  });

  it('stops when the reader leaves early or aborts, and reads on afterwards', async () => {
    const frames = decodeFrames(inProcess, source, { start: 0, end: 3000, width: 64, height: 36, lanes: 2 });
    await frames.next();
    await frames.return(undefined);
    await abortMidRead(inProcess);
    const again = await digests({ width: 64, height: 36, lanes: 2, start: 2990 }, inProcess);
    assert.equal(again.length, 10);
  });

  it('fails with the file and the cause on a missing file, noise, a file with no video and a torn one', async () => {
    const read = async (file: string) => {
      for await (const _ of decodeFrames(
        inProcess,
        { ...source, file },
        { start: 0, end: 10, width: 64, height: 36 },
      ));
    };
    await assert.rejects(read(path.join(fixtures.dir, 'nowhere.mp4')), /libav: .*nowhere\.mp4: No such file/);
    const noise = path.join(fixtures.dir, 'noise.mp4');
    fs.writeFileSync(noise, crypto.randomBytes(64 * 1024));
    await assert.rejects(read(noise), /libav: .*noise\.mp4: Invalid data found/);
    const sound = path.join(fixtures.dir, 'only-sound.m4a');
    await promisify(execFile)(tools.ffmpeg, [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=1', sound],
    ]);
    await assert.rejects(read(sound), /libav: .*only-sound\.m4a: no video stream/);
    const torn = path.join(fixtures.dir, 'torn.mp4');
    fs.writeFileSync(torn, fs.readFileSync(source.file).subarray(0, 4096));
    await assert.rejects(
      read(torn),
      /decoded \d frames between 0 and 10, fewer than the 10 expected|libav: .*torn\.mp4/,
    );
  });
});
