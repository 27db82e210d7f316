import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseCues, readSubtitleFile } from '../../lib/media/subtitles.ts';

describe('subtitle text', () => {
  it('parses SRT with a BOM, CRLF line ends, markup and multi-line cues', () => {
    const srt =
      '\uFEFF1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> {\\an8}there\r\n\r\n2\r\n01:02:03,040 --> 01:02:04,000\r\nline one\r\nline two\r\n';
    assert.deepEqual(parseCues(srt), [
      { startSec: 1, endSec: 2.5, text: 'Hello there' },
      { startSec: 3723.04, endSec: 3724, text: 'line one\nline two' },
    ]);
  });

  it('parses WebVTT: header, NOTE blocks, cue ids, short timestamps and cue settings', () => {
    const vtt = [
      'WEBVTT - a title',
      '',
      'NOTE this is a comment',
      '',
      'intro',
      '00:05.250 --> 00:06.000 align:start position:10%',
      '<v Roger>Who is there?',
      '',
      '00:00:01.000 --> 00:00:02.000',
      'earlier',
    ].join('\n');
    assert.deepEqual(parseCues(vtt), [
      { startSec: 1, endSec: 2, text: 'earlier' },
      { startSec: 5.25, endSec: 6, text: 'Who is there?' },
    ]);
  });

  it('skips blocks that are not cues and cues that end before they start', () => {
    assert.deepEqual(parseCues('garbage\n\n00:00:05,000 --> 00:00:04,000\nbackwards\n'), []);
  });

  it('reads sidecar files by extension and refuses anything else', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-text-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.vtt'), 'WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n');
      fs.writeFileSync(path.join(dir, 'b.vtt'), '00:01.000 --> 00:02.000\nhi\n');
      fs.writeFileSync(path.join(dir, 'c.txt'), 'hi');
      assert.deepEqual(await readSubtitleFile(path.join(dir, 'a.vtt')), [
        { startSec: 1, endSec: 2, text: 'hi' },
      ]);
      await assert.rejects(readSubtitleFile(path.join(dir, 'b.vtt')), /not WebVTT/);
      await assert.rejects(readSubtitleFile(path.join(dir, 'c.txt')), /must be \.srt or \.vtt/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
