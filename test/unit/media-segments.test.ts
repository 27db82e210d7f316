// Planning of segmented decoding (pure): how a frame range is cut for several ffmpeg processes, or in chunks for
// in-process decoders.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planChunks } from '../../lib/media/in-process.ts';
import { inProcessLanes, MIN_SEGMENT_FRAMES, planSegments } from '../../lib/media/segments.ts';

const MiB = 2 ** 20;

describe('planSegments', () => {
  it('cuts a long range of small frames into one segment per lane, on keyframes, covering every frame once', () => {
    const s = planSegments(0, 14_400, { lanes: 2, frameBytes: 3456, segmentBytes: 256 * MiB, gop: 48 });
    assert.equal(s.length, 2);
    assert.equal(s[0]!.start, 0);
    assert.equal(s.at(-1)!.end, 14_400);
    for (let k = 1; k < s.length; k++) {
      assert.equal(s[k]!.start, s[k - 1]!.end, 'contiguous');
      assert.equal(s[k]!.start % 48, 0, 'starts on a keyframe');
    }
    assert.deepEqual(
      s.map((x) => x.kept),
      s.map((x) => x.end - x.start),
    );
  });

  it('makes more segments, a multiple of the lanes, when one would outgrow its file bound', () => {
    const frameBytes = 320 * 180 * 3;
    const s = planSegments(0, 14_400, { lanes: 2, frameBytes, segmentBytes: 256 * MiB, gop: 48 });
    assert.equal(s.length % 2, 0);
    for (const x of s) assert.ok(x.kept * frameBytes <= 1.5 * 256 * MiB, `segment of ${x.kept} frames`);
    assert.ok(s.length >= 10);
  });

  it('keeps one segment when segments would be too short or too big, or with one lane', () => {
    const one = (p: Parameters<typeof planSegments>[2], end = 14_400) => planSegments(0, end, p).length;
    assert.equal(one({ lanes: 2, frameBytes: 3456, segmentBytes: 256 * MiB }, 2 * MIN_SEGMENT_FRAMES - 1), 1);
    assert.equal(one({ lanes: 1, frameBytes: 3456, segmentBytes: 256 * MiB }), 1);
    // 1080p RGB: 6 MB a frame, so a segment within 256 MiB would be a few dozen frames long.
    assert.equal(one({ lanes: 2, frameBytes: 1920 * 1080 * 3, segmentBytes: 256 * MiB }), 1);
  });

  it('keeps segments short enough that the reader never waits long for one (a 2-hour film)', () => {
    const s = planSegments(0, 180_000, { lanes: 2, frameBytes: 3456, segmentBytes: 256 * MiB, gop: 50 });
    assert.ok(s.length >= 18 && s.length % 2 === 0, `${s.length} segments`);
    for (const x of s) assert.ok(x.end - x.start <= 10_050, `segment of ${x.end - x.start} frames`);
  });

  it('counts what a selection keeps, and sizes segments by it', () => {
    const keeps = (i: number) => i % 10 === 0;
    const s = planSegments(1000, 9000, { lanes: 2, frameBytes: 172_800, segmentBytes: 256 * MiB, keeps });
    assert.equal(
      s.reduce((n, x) => n + x.kept, 0),
      800,
    );
    assert.equal(s[0]!.start, 1000);
    assert.equal(s.at(-1)!.end, 9000);
  });
});

describe('planChunks (in-process decoding)', () => {
  const gop48 = (frames: number) => Array.from({ length: Math.ceil(frames / 48) }, (_, k) => k * 48);

  it('cuts a range on keyframes into chunks of about 16 MiB of frames, covering every frame once', () => {
    const frameBytes = 320 * 180 * 3;
    const c = planChunks(413, 14_400, { frameBytes, keyframes: gop48(14_400) })!;
    assert.equal(c[0]!.start, 413);
    assert.equal(c.at(-1)!.end, 14_400);
    for (let k = 1; k < c.length; k++) {
      assert.equal(c[k]!.start, c[k - 1]!.end, 'contiguous');
      assert.equal(c[k]!.start % 48, 0, 'starts on a keyframe');
    }
    for (const x of c.slice(0, -1)) {
      assert.ok(x.kept * frameBytes >= 16 * MiB && x.kept * frameBytes < 16 * MiB + 48 * frameBytes);
    }
  });

  it('sizes chunks by the frames a selection keeps, spanning 2,000 frames at most', () => {
    const c = planChunks(0, 14_400, {
      frameBytes: 3456,
      keyframes: gop48(14_400),
      keeps: (i) => i % 100 === 0,
    })!;
    assert.equal(
      c.reduce((n, x) => n + x.kept, 0),
      144,
    );
    for (const x of c) assert.ok(x.end - x.start <= 2000 + 48);
  });

  it('leaves the range whole when it fits one chunk or keyframes are too far apart for the frame size', () => {
    assert.equal(planChunks(0, 40, { frameBytes: 3456, keyframes: gop48(14_400) }), undefined);
    const fullHd = 1920 * 1080 * 3;
    assert.equal(planChunks(0, 14_400, { frameBytes: fullHd, keyframes: gop48(14_400) }), undefined);
    assert.equal(planChunks(0, 14_400, { frameBytes: 3456, keyframes: [0] }), undefined);
  });
});

describe('inProcessLanes', () => {
  const withPool = (size: string | undefined, fn: () => void) => {
    const before = process.env.UV_THREADPOOL_SIZE;
    if (size === undefined) delete process.env.UV_THREADPOOL_SIZE;
    else process.env.UV_THREADPOOL_SIZE = size;
    try {
      fn();
    } finally {
      if (before === undefined) delete process.env.UV_THREADPOOL_SIZE;
      else process.env.UV_THREADPOOL_SIZE = before;
    }
  };

  it('runs one decoder more than the cores, leaving one thread of libuv’s pool free', () => {
    withPool(undefined, () => {
      assert.equal(inProcessLanes(1), 2);
      assert.equal(inProcessLanes(2), 3);
      assert.equal(inProcessLanes(16), 3, 'the default pool has 4 threads');
    });
    withPool('16', () => assert.equal(inProcessLanes(16), 4, 'at most 4'));
    withPool('2', () => assert.equal(inProcessLanes(2), 1));
    withPool('1', () => assert.equal(inProcessLanes(2), 1, 'always one'));
  });
});
