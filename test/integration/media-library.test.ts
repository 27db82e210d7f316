// Media access on real ffmpeg, without the mesh: metadata of the real clips, the corrupt-input suite, recipes
// (determinism, VFR, rotation, pixel aspect, offsets), and the reader (frame accuracy, sampling, backpressure,
// audio, keyframes, images, subtitles). The features run in-process exactly as the compute activity runs them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import audioRecipe from '../../activities/features/audio-16k-mono.ts';
import keyframesRecipe from '../../activities/features/keyframes.ts';
import mediaMetadata from '../../activities/features/media-metadata.ts';
import mediaQc from '../../activities/features/media-qc.ts';
import videoRecipe from '../../activities/features/video-360p-h264.ts';
import type { AnyFeature } from '../../lib/features/definition.ts';
import { scanDerivative } from '../../lib/media/derivative-scan.ts';
import { type MediaMetadata, probeMetadata } from '../../lib/media/metadata.ts';
import { decodeCheck, type QcVerdict, qcVerdict, worthDecoding } from '../../lib/media/qc.ts';
import { AudioReader, decodePictures, readImage, VideoReader } from '../../lib/media/reader.ts';
import { readSubtitleStream } from '../../lib/media/subtitles.ts';
import { parseRational } from '../../lib/media/timing.ts';
import { findMediaTools } from '../../lib/media/tools.ts';
import { FsObjectStore, sha256File } from '../../lib/objects/store.ts';
import { EXPECTED_VERDICTS, MediaFixtures, readBarcode, realClip } from '../support/media-fixtures.ts';
import { runLocally } from '../support/media-local.ts';
import { ffmpegChildren } from '../support/processes.ts';
import { assertRestRejects } from '../support/reads.ts';

const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!;
const fixtures = new MediaFixtures();
const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-media-store-'));
const objects = new FsObjectStore(storeDir);
const VIDEO: AnyFeature[] = [mediaMetadata, mediaQc, videoRecipe];
const ALL: AnyFeature[] = [...VIDEO, audioRecipe, keyframesRecipe];

type VideoValue = {
  object: { uri: string; sha256: string };
  frames: number;
  width: number;
  height: number;
} & {
  frameRate: string;
  gop: number;
};

async function standardize(file: string, features = VIDEO, store = objects) {
  const run = await runLocally(features, file, { objects: store, tools });
  const video = run.values['video-360p-h264']!.value as VideoValue;
  const reader = new VideoReader(tools, {
    file: await store.localPath(video.object),
    width: video.width,
    height: video.height,
    frameRate: parseRational(video.frameRate)!,
    frames: video.frames,
  });
  return { run, video, reader };
}

/** Barcodes of every frame of a reader, read at the barcode's own size. */
async function barcodes(reader: VideoReader, along: 'x' | 'y' = 'x', opts = {}): Promise<number[]> {
  const size = along === 'x' ? { width: 320, height: 180 } : { width: 180, height: 320 };
  const out: number[] = [];
  for await (const f of reader.frames({ ...size, pixelFormat: 'gray', ...opts })) {
    out.push(readBarcode(f.data as Uint8Array, f.width, f.height, along));
  }
  return out;
}

after(() => {
  fixtures.remove();
  fs.rmSync(storeDir, { recursive: true, force: true });
});

describe('metadata snapshot of the real clips', () => {
  const probed: Record<string, MediaMetadata> = {};
  before(async () => {
    for (const clip of [
      'counter.mp4',
      'goldeneye-vfr-drop3.mp4',
      'issue-134-rotate.mp4',
      'delayed_start.mp4',
    ]) {
      probed[clip] = await probeMetadata(tools, realClip(clip));
    }
  });

  it('counts frames by demuxing and measures their timing', () => {
    const counter = probed['counter.mp4']!.video!;
    assert.deepEqual([counter.frameCount, counter.realFrameRate, counter.vfr], [30, '10/1', false]);
    const vfr = probed['goldeneye-vfr-drop3.mp4']!.video!;
    assert.equal(vfr.vfr, true);
    assert.equal(vfr.frameCount, 160);
    assert.equal(vfr.realFrameRate, '24000/1001');
    assert.notEqual(vfr.avgFrameRate, vfr.realFrameRate, 'avg and real frame rates differ on VFR');
    assert.ok(vfr.timing!.irregularIntervals > 70);
  });

  it('reads rotation, audio layout and start offsets', () => {
    const rotated = probed['issue-134-rotate.mp4']!;
    assert.equal(rotated.video!.rotation, 90);
    assert.deepEqual([rotated.video!.displayWidth, rotated.video!.displayHeight], [544, 1280]);
    assert.deepEqual(
      rotated.audio.map((a) => [a.codec, a.sampleRate, a.channels, a.channelLayout]),
      [['aac', 44100, 2, 'stereo']],
    );
    const delayed = probed['delayed_start.mp4']!;
    assert.equal(delayed.video!.startTimeSec, 1.075);
    assert.equal(delayed.video!.codec, 'mpeg4');
    assert.equal(delayed.signature, 'iso-bmff');
  });

  it('stays small: a frozen value, not a dump', () => {
    for (const m of Object.values(probed)) assert.ok(JSON.stringify(m).length < 4096);
  });
});

describe('the corrupt-input suite and the soft cases: one verdict each', () => {
  for (const [name, expected] of Object.entries(EXPECTED_VERDICTS)) {
    it(`${name} → ${expected.status} ${expected.codes.join(', ')}`, async () => {
      const file = await fixtures.get(name);
      const meta = await probeMetadata(tools, file);
      const verdict = qcVerdict(meta, worthDecoding(meta) ? await decodeCheck(tools, file, meta) : null);
      assert.equal(verdict.status, expected.status, JSON.stringify(verdict.reasons));
      // The feature's decode pass also writes the derivative: same verdict, and a derivative only for accepted input.
      const gate = (await runLocally([mediaMetadata, mediaQc], file, { objects, tools })).values['media-qc']!
        .value as QcVerdict;
      assert.deepEqual(
        gate.reasons.map((r) => r.code),
        verdict.reasons.map((r) => r.code),
      );
      assert.equal(gate.staged.length, expected.status === 'reject' ? 0 : 1);
      const severity = expected.status === 'reject' ? 'hard' : 'soft';
      assert.deepEqual(
        verdict.reasons.filter((r) => r.severity === severity).map((r) => r.code),
        expected.codes,
      );
      for (const r of verdict.reasons) assert.ok(r.message.length > 10, `a specific message: ${r.message}`);
    });
  }
  it('covers at least ten kinds of bad input, with at least ten distinct reasons', () => {
    const rejects = Object.values(EXPECTED_VERDICTS).filter((v) => v.status === 'reject');
    assert.ok(rejects.length >= 10, `${rejects.length} bad inputs`);
    const reasons = new Set(rejects.flatMap((v) => v.codes));
    assert.ok(reasons.size >= 10, [...reasons].join(', '));
  });
});

describe('standardization recipes', () => {
  it('are deterministic: same input and recipe → the same bytes, in a different store', async () => {
    const file = await fixtures.get('barcode.mp4');
    const other = new FsObjectStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mm-media-store2-')));
    try {
      const [a, b] = [
        await runLocally(ALL, file, { objects, tools }),
        await runLocally(ALL, file, { objects: other, tools }),
      ];
      for (const recipe of ['video-360p-h264', 'audio-16k-mono', 'keyframes']) {
        const ra = a.values[recipe]!.value as { object: { sha256: string; uri: string } };
        const rb = b.values[recipe]!.value as { object: { sha256: string } };
        assert.equal(ra.object.sha256, rb.object.sha256, `${recipe} is bit-exact`);
        assert.equal((await sha256File(await objects.localPath(ra.object))).sha256, ra.object.sha256);
      }
      const v = a.values['video-360p-h264']!.value as VideoValue & {
        args: string[];
        ffmpeg: string;
        object: { sha256: string };
      };
      assert.ok(v.args.includes('{input}') && v.args.includes('{output}'), 'provenance without local paths');
      assert.match(v.ffmpeg, /^ffmpeg version /);
      const verdict = a.values['media-qc']!.value as QcVerdict;
      assert.deepEqual(
        verdict.staged.map((d) => [d.recipe, d.object.sha256, d.args]),
        [['video-360p-h264@1', v.object.sha256, v.args]],
        'the QC decode pass wrote the derivative the recipe adopted',
      );
      assert.ok(a.heartbeats.some((h) => (h as { stage?: string }).stage === 'decode+video-360p-h264@1'));
      // The recipe's own transcode (no staged derivative) makes the same bytes.
      const unstaged = { ...a.values['media-qc']!, value: { ...verdict, staged: [] } };
      const alone = await runLocally(
        [videoRecipe],
        file,
        { objects: other, tools },
        { ...a.values, 'media-qc': unstaged },
      );
      const made = alone.values['video-360p-h264']!.value as { object: { sha256: string } };
      assert.equal(made.object.sha256, v.object.sha256, 'transcoding alone gives the staged bytes');
      assert.ok(
        alone.heartbeats.some((h) => (h as { stage?: string }).stage?.startsWith('video-360p-h264@1')),
      );
      assert.deepEqual(fs.readdirSync(objects.scratchDir), [], 'no work files left');
    } finally {
      fs.rmSync(path.dirname(other.scratchDir), { recursive: true, force: true });
    }
  });

  it('keep every frame of a constant-rate source, in order, at 360p', async () => {
    const { video, reader } = await standardize(await fixtures.get('barcode.mp4'));
    assert.deepEqual(
      [video.width, video.height, video.frameRate, video.frames, video.gop],
      [640, 360, '25/1', 250, 50],
    );
    assert.deepEqual(
      await barcodes(reader),
      Array.from({ length: 250 }, (_, i) => i),
    );
  });

  it('turn variable frame rate into constant: a gap repeats the frame before it', async () => {
    const { video, reader } = await standardize(await fixtures.get('barcode-vfr.mkv'));
    assert.equal(video.frames, 262);
    const expected = Array.from({ length: 262 }, (_, i) =>
      i < 50 ? i : i < 56 ? 49 : i < 106 ? i - 6 : i < 112 ? 99 : i - 12,
    );
    assert.deepEqual(await barcodes(reader), expected);
  });

  it('apply rotation, square the pixels and decimate above 60 fps', async () => {
    const rotated = await standardize(await fixtures.get('barcode-rotated.mp4'));
    assert.deepEqual([rotated.video.width, rotated.video.height], [202, 360]);
    assert.deepEqual((await barcodes(rotated.reader, 'y')).slice(0, 5), [0, 1, 2, 3, 4], 'turned clockwise');
    const wide = await standardize(await fixtures.get('barcode-anamorphic.mp4'));
    assert.equal(wide.video.width, 1280, '320×180 at 2:1 pixels shows as 640×180');
    const fast = await standardize(await fixtures.get('barcode-120fps.mp4'));
    assert.equal(fast.video.frameRate, '60/1');
    assert.deepEqual((await barcodes(fast.reader)).slice(0, 6), [0, 2, 4, 6, 8, 10]);
  });

  it('map the real clips: VFR → CFR at the real rate, rotation, counter frames stay in place', async () => {
    const vfr = await standardize(realClip('goldeneye-vfr-drop3.mp4'));
    assert.deepEqual([vfr.video.frameRate, vfr.video.frames, vfr.video.width], ['24000/1001', 239, 848]);
    const rotated = await standardize(realClip('issue-134-rotate.mp4'));
    assert.deepEqual([rotated.video.width, rotated.video.height], [154, 360]);
    const counter = await standardize(realClip('counter.mp4'));
    assert.equal(counter.video.frames, 30);
    // Each derivative frame is closest to the source frame with the same index (each shows its own number).
    const source = await VideoReader.open(tools, realClip('counter.mp4'));
    const tiny = { width: 64, height: 36, pixelFormat: 'gray' as const };
    const src: Uint8Array[] = [];
    for await (const f of source.frames(tiny)) src.push(f.data as Uint8Array);
    for await (const f of counter.reader.frames(tiny)) {
      const d = f.data as Uint8Array;
      const dist = src.map((s) => s.reduce((acc, v, i) => acc + Math.abs(v - d[i]!), 0));
      assert.equal(dist.indexOf(Math.min(...dist)), f.index, `derivative frame ${f.index}`);
    }
  });
});

describe('one pass over a derivative for chosen frames (scanDerivative)', () => {
  it('hands out exactly the wanted frames, the same pixels whether ffmpeg selects them or all come through', async () => {
    const { run } = await standardize(await fixtures.get('barcode.mp4'));
    const video = run.values['video-360p-h264']!;
    const ctx = { tools, objects, signal: new AbortController().signal, heartbeat: () => {} };
    const scan = async (wanted: number[]) => {
      const got = new Map<number, Uint8Array>();
      const n = await scanDerivative(
        ctx,
        video,
        { width: 320, height: 180, pixelFormat: 'gray', wanted, stage: 'test' },
        (i, px) => void got.set(i, px),
      );
      assert.equal(n, got.size);
      return got;
    };
    const few = await scan([200, 3, 77, 77, 150]); // 4 of 201 frames: ffmpeg's select picks them
    assert.deepEqual([...few.keys()], [3, 77, 150, 200]);
    for (const [i, px] of few) assert.equal(readBarcode(px, 320, 180), i, `frame ${i}`);
    const many = await scan(Array.from({ length: 201 }, (_, i) => i)); // every frame comes through
    for (const [i, px] of few) assert.deepEqual(px, many.get(i), `frame ${i}: the same pixels`);
    await assert.rejects(
      scan([5, 400]),
      /the derivative \(250 frames\) ended before frame 400, which was wanted/,
    );
  });

  it('selects hundreds of frames of a long derivative (a shallow select expression)', async () => {
    const long = path.join(fixtures.dir, 'scan-long.mp4');
    await promisify(execFile)(tools.ffmpeg, [
      ...['-v', 'error', '-y', '-stream_loop', '11', '-i', await fixtures.get('barcode.mp4')],
      ...['-map', '0:v', '-c', 'copy', long],
    ]);
    const { run } = await standardize(long);
    const wanted = Array.from({ length: 300 }, (_, i) => i * 10 + (i % 7));
    const seen: number[] = [];
    await scanDerivative(
      { tools, objects, signal: new AbortController().signal, heartbeat: () => {} },
      run.values['video-360p-h264']!,
      { width: 320, height: 180, pixelFormat: 'gray', wanted, stage: 'test' },
      (i, px) => {
        assert.equal(readBarcode(px, 320, 180), i % 250, `frame ${i}`);
        seen.push(i);
      },
    );
    assert.deepEqual(seen, wanted);
  });
});

describe('reader', () => {
  let reader: VideoReader;
  before(async () => {
    ({ reader } = await standardize(await fixtures.get('barcode.mp4')));
  });

  it('reads single frames by index and by time, frame-accurately, across GOP boundaries', async () => {
    const gray = { width: 320, height: 180, pixelFormat: 'gray' as const };
    for (const i of [0, 1, 48, 49, 50, 51, 99, 100, 137, 200, 248, 249]) {
      const f = await reader.frame(i, gray);
      assert.equal(readBarcode(f.data as Uint8Array, 320, 180), i, `frame ${i}`);
      assert.equal(f.timeSec, i / 25);
    }
    assert.equal((await reader.frameAt(3.999, gray)).index, 99);
    assert.equal((await reader.frameAt(4, gray)).index, 100);
    await assert.rejects(reader.frame(250), /past the end/);
    await assert.rejects(reader.frame(-1), /start must be a frame index/);
  });

  it('reads ranges and lower rates with the true index of every frame', async () => {
    const range = await barcodes(reader, 'x', { start: 37, end: 142 });
    assert.deepEqual(
      range,
      Array.from({ length: 105 }, (_, i) => 37 + i),
    );
    const sampled: number[] = [];
    for await (const f of reader.frames({
      start: 10,
      end: 110,
      fps: 2,
      width: 320,
      height: 180,
      pixelFormat: 'gray',
    })) {
      assert.equal(readBarcode(f.data as Uint8Array, 320, 180), f.index);
      sampled.push(f.index);
    }
    assert.deepEqual(sampled, [13, 25, 38, 50, 63, 75, 88, 100], 'the first frame of each half second');
    await assert.rejects(reader.frames({ fps: 30 }).next(), /fps must be > 0 and ≤ the video's 25/);
  });

  it('hands out typed arrays in every pixel format, sized and fitted as asked', async () => {
    const at = async (o: Parameters<VideoReader['frame']>[1]) => reader.frame(60, o);
    const rgb = await at({ width: 320 });
    assert.deepEqual(
      [rgb.width, rgb.height, rgb.data.length, rgb.data.constructor],
      [320, 180, 320 * 180 * 3, Uint8Array],
    );
    assert.equal((await at({ pixelFormat: 'yuv420p' })).data.length, 640 * 360 * 1.5);
    const f32 = await at({ width: 64, height: 36, pixelFormat: 'grayf32le' });
    assert.ok(f32.data instanceof Float32Array && f32.data.length === 64 * 36);
    assert.ok(Math.max(...f32.data) <= 1.0001 && Math.min(...f32.data) >= 0);
    assert.ok((await at({ width: 32, height: 18, pixelFormat: 'gray16le' })).data instanceof Uint16Array);
    // Planar RGB (CHW) holds the same picture as interleaved RGB (HWC), planes in R, G, B order.
    const planar = (await at({ width: 320, pixelFormat: 'rgbp' })).data;
    const plane = 320 * 180;
    let worst = 0;
    for (let i = 0; i < plane; i += 97) {
      for (let c = 0; c < 3; c++)
        worst = Math.max(worst, Math.abs(planar[c * plane + i]! - rgb.data[i * 3 + c]!));
    }
    assert.ok(worst <= 3, `planar and interleaved RGB differ by ${worst}`);
    const floats = (await at({ width: 32, height: 18, pixelFormat: 'rgbpf32' })).data;
    assert.ok(floats instanceof Float32Array && floats.length === 3 * 32 * 18);
    const boxed = await at({ width: 100, height: 100, fit: 'contain', pixelFormat: 'gray' });
    assert.ok(boxed.data[0]! <= 16, 'letterbox bars are black');
    assert.equal(boxed.data.length, 100 * 100);
  });

  it('applies backpressure: a slow consumer holds ffmpeg to a few frames ahead, and leaving stops it', async () => {
    const frameBytes = 320 * 180 * 3;
    const it = reader.frames({ width: 320, height: 180 });
    await it.next();
    await it.next();
    await sleep(1500);
    const ff = ffmpegChildren();
    assert.equal(ff.length, 1, 'one ffmpeg running');
    const written = Number(/wchar: (\d+)/.exec(fs.readFileSync(`/proc/${ff[0]}/io`, 'utf8'))![1]);
    assert.ok(
      written < 12 * frameBytes,
      `ffmpeg wrote ${written / frameBytes} frames for 2 consumed (of 250)`,
    );
    await it.return(undefined);
    await sleep(200);
    assert.deepEqual(ffmpegChildren(), [], 'ffmpeg is gone after the consumer left');
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    const frames = reader.frames({ width: 160, signal: ac.signal });
    await frames.next();
    ac.abort(new Error('enough'));
    await assertRestRejects(frames, /enough/);
  });
});

describe('audio, keyframes, images and text', () => {
  it('aligns audio to the first frame and reads it as float32', async () => {
    const run = await runLocally(
      [mediaMetadata, mediaQc, audioRecipe],
      await fixtures.get('late-video.mkv'),
      {
        objects,
        tools,
      },
    );
    const audio = run.values['audio-16k-mono']!.value as {
      object: { uri: string };
      samples: number;
      sampleRate: number;
    };
    assert.equal(audio.sampleRate, 16000);
    const reader = new AudioReader(tools, {
      file: await objects.localPath(audio.object),
      sampleRate: 16000,
      samples: audio.samples,
    });
    const pcm = await reader.read();
    assert.equal(pcm.length, audio.samples);
    const onset = pcm.findIndex((s) => Math.abs(s) > 0.05);
    assert.ok(Math.abs(onset / 16000 - 0.2) < 0.01, `tone starts at ${onset / 16000} s, expected 0.2 s`);
    const chunks = [];
    for await (const c of reader.chunks({ start: 1, end: 1.5, chunkSamples: 3000, sampleRate: 8000 }))
      chunks.push(c);
    assert.deepEqual(
      chunks.map((c) => [c.startSample, c.samples.length]),
      [
        [8000, 3000],
        [11000, 1000],
      ],
    );
  });

  it('makes silence for an asset without audio, as long as the video', async () => {
    const run = await runLocally([mediaMetadata, mediaQc, audioRecipe], realClip('counter.mp4'), {
      objects,
      tools,
    });
    const audio = run.values['audio-16k-mono']!.value as { silent: boolean; samples: number };
    assert.deepEqual([audio.silent, audio.samples], [true, 48000]);
  });

  it('keyframe thumbnails show the derivative frames k · gop', async () => {
    const run = await runLocally(ALL, await fixtures.get('barcode.mp4'), { objects, tools });
    const kf = run.values.keyframes!.value as { object: { uri: string }; count: number; gop: number };
    assert.deepEqual([kf.count, kf.gop], [5, 50]);
    const frames: number[] = [];
    const file = await objects.localPath(kf.object);
    for await (const p of decodePictures(
      tools,
      file,
      { width: 640, height: 360 },
      { width: 320, pixelFormat: 'gray' },
    )) {
      frames.push(readBarcode(p.data as Uint8Array, 320, 180));
    }
    assert.deepEqual(frames, [0, 50, 100, 150, 200]);
  });

  it('reads images and refuses what is not one', async () => {
    const img = await readImage(tools, await fixtures.get('still.png'), { pixelFormat: 'rgba' });
    assert.deepEqual([img.width, img.height, img.data.length], [320, 180, 320 * 180 * 4]);
    await assert.rejects(readImage(tools, await fixtures.get('text.mp4')), /not a readable image/);
  });

  it('reads a subtitle stream as cues', async () => {
    const file = await fixtures.get('subtitled.mkv');
    const meta = await probeMetadata(tools, file);
    assert.deepEqual(
      meta.subtitles.map((s) => [s.codec, s.language, s.text]),
      [['subrip', 'eng', true]],
    );
    const cues = await readSubtitleStream(tools, file, meta.subtitles[0]!.streamIndex);
    assert.deepEqual(cues, [
      { startSec: 0.5, endSec: 1.25, text: 'first cue' },
      { startSec: 2, endSec: 3, text: 'second cue\ntwo lines' },
    ]);
  });
});
