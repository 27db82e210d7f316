import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  analyzeTimestamps,
  formatRational,
  parseRational,
  snapFrameRate,
  standardFrameRate,
} from '../../lib/media/timing.ts';

const ticks = (values: number[]) => Float64Array.from(values);

describe('frame timing', () => {
  it('parses rationals and refuses empty ones', () => {
    assert.deepEqual(parseRational('24000/1001'), { num: 24000, den: 1001 });
    assert.deepEqual(parseRational('16:9'), { num: 16, den: 9 });
    assert.deepEqual(parseRational('50/2'), { num: 25, den: 1 });
    for (const bad of ['0/0', '0/1', 'N/A', '', undefined, '1/0', 'abc'])
      assert.equal(parseRational(bad), null);
  });

  it('sees constant frame rate through B-frame reordering', () => {
    // 24000/1001 in a 1/24000 time base, decode order (pts out of order).
    const pts = [0, 3003, 1001, 2002, 6006, 4004, 5005].map((p) => p);
    const t = analyzeTimestamps(ticks(pts), { num: 1, den: 24000 });
    assert.equal(t.vfr, false);
    assert.equal(t.irregularIntervals, 0);
    assert.ok(Math.abs(t.medianIntervalSec! - 1001 / 24000) < 1e-12);
    assert.ok(Math.abs(t.spanSec! - (7 * 1001) / 24000) < 1e-12);
  });

  it('tolerates the rounding of a millisecond time base', () => {
    // 23.976 fps in Matroska: intervals of 41 and 42 ms.
    const pts = Array.from({ length: 500 }, (_, i) => Math.round((i * 1001) / 24));
    const t = analyzeTimestamps(ticks(pts), { num: 1, den: 1000 });
    assert.equal(t.vfr, false);
  });

  it('flags dropped frames as variable frame rate, but not a single glitch', () => {
    const dropped: number[] = [];
    for (let i = 0, p = 0; i < 160; i++, p += i % 2 ? 1001 : 2002) dropped.push(p);
    const t = analyzeTimestamps(ticks(dropped), { num: 1, den: 24000 });
    assert.equal(t.vfr, true);
    assert.ok(t.irregularIntervals > 70);
    const once = Array.from({ length: 1000 }, (_, i) => i * 40 + (i >= 500 ? 40 : 0));
    assert.equal(analyzeTimestamps(ticks(once), { num: 1, den: 1000 }).vfr, false, 'one dropped frame');
  });

  it('ignores missing timestamps and needs two to say anything', () => {
    const t = analyzeTimestamps(ticks([Number.NaN, 5]), { num: 1, den: 25 });
    assert.equal(t.timestamps, 1);
    assert.equal(t.medianIntervalSec, null);
    assert.equal(t.vfr, false);
  });

  it('snaps frame rates to integer and NTSC rates, keeping the two apart', () => {
    assert.equal(formatRational(snapFrameRate(23.976023976)), '24000/1001');
    assert.equal(formatRational(snapFrameRate(24)), '24/1');
    assert.equal(formatRational(snapFrameRate(29.97)), '30000/1001');
    assert.equal(formatRational(snapFrameRate(12.5)), '25/2');
    assert.equal(formatRational(snapFrameRate(23.81, 0.01)), '24000/1001', 'loose snap of a measured rate');
  });

  it('chooses the standard rate: declared when the timestamps agree, measured otherwise, ≤ 60 fps', () => {
    const rate = (s: Parameters<typeof standardFrameRate>[0]) => {
      const r = standardFrameRate(s);
      return r && `${formatRational(r.rate)} ÷${r.decimation}`;
    };
    assert.equal(
      rate({ medianIntervalSec: 1001 / 24000, realFps: 24000 / 1001, avgFps: 16.05 }),
      '24000/1001 ÷1',
    );
    assert.equal(rate({ medianIntervalSec: 0.042, realFps: 24000 / 1001, avgFps: null }), '24000/1001 ÷1');
    assert.equal(
      rate({ medianIntervalSec: 1 / 30, realFps: 90000, avgFps: 120 }),
      '30/1 ÷1',
      'declared disagrees',
    );
    assert.equal(rate({ medianIntervalSec: 1 / 120, realFps: 120, avgFps: 120 }), '60/1 ÷2');
    assert.equal(rate({ medianIntervalSec: null, realFps: 100, avgFps: null }), '50/1 ÷2');
    assert.equal(rate({ medianIntervalSec: null, realFps: 120000 / 1001, avgFps: null }), '60000/1001 ÷2');
    assert.equal(rate({ medianIntervalSec: null, realFps: null, avgFps: null }), null);
    assert.equal(rate({ medianIntervalSec: 2, realFps: 0.5, avgFps: 0.5 }), null, 'below 1 fps');
  });
});
