// The editor preview's ffmpeg command on generated derivatives: each side's sound is the audio derivative's samples
// at that side's frames (a tone placed in time tells where they came from), a side without audio is silent, and
// with no audio on either side the MP4 has no sound track. Real ffmpeg.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type TransitionSide, transitionArgs } from '../../lib/api/editor/transition.ts';
import { findMediaTools } from '../../lib/media/tools.ts';

const run = promisify(execFile);
const tools = findMediaTools({ media: { ffmpeg: undefined, ffprobe: undefined } })!;
const RATE = 16_000;
let dir: string;
const file = (name: string) => path.join(dir, name);

async function ffmpeg(args: string[]): Promise<void> {
  await run(tools.ffmpeg, ['-hide_banner', '-v', 'error', ...args, '-y']);
}

/** Loudness (RMS) of the preview's sound in [from, to) seconds, decoded back to 16 kHz mono. */
async function rms(mp4: string, from: number, to: number): Promise<number> {
  const { stdout } = await run(
    tools.ffmpeg,
    ['-v', 'error', '-i', mp4, '-map', '0:a:0', '-ac', '1', '-ar', String(RATE), '-f', 'f32le', '-'],
    { encoding: 'buffer', maxBuffer: 64 * 2 ** 20 },
  );
  const pcm = new Float32Array(stdout.buffer, stdout.byteOffset, stdout.byteLength / 4);
  const window = pcm.subarray(Math.round(from * RATE), Math.round(to * RATE));
  assert.ok(window.length > 0, `the sound ends before ${from} s (${pcm.length / RATE} s long)`);
  return Math.sqrt(window.reduce((s, x) => s + x * x, 0) / window.length);
}

async function streams(mp4: string): Promise<{ codec_type: string; duration: string }[]> {
  const { stdout } = await run(tools.ffprobe, [
    ...['-v', 'error', '-show_entries', 'stream=codec_type,duration', '-of', 'json', mp4],
  ]);
  return (JSON.parse(stdout) as { streams: { codec_type: string; duration: string }[] }).streams;
}

async function transition(a: TransitionSide, b: TransitionSide, name: string): Promise<string> {
  const out = file(name);
  await run(
    tools.ffmpeg,
    transitionArgs(a, b, { width: 320, height: 180, frameRate: { num: 24, den: 1 } }, out),
  );
  return out;
}

describe('editor preview: the transition command', () => {
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-transition-'));
    const video = (out: string, seconds: number, size: string, fps: number) =>
      ffmpeg([
        ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}:duration=${seconds}`],
        ...[
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-g',
          String(fps * 2),
          '-pix_fmt',
          'yuv420p',
          file(out),
        ],
      ]);
    // A: 10 s at 24 fps, a tone from 8 s on; B: 5 s at 25 fps and another size, a tone in its first second.
    const tone = (out: string, seconds: number, when: string) =>
      ffmpeg([
        ...['-f', 'lavfi', '-i', `aevalsrc='if(${when},0.5*sin(2*PI*440*t),0)':s=${RATE}:d=${seconds}`],
        ...['-ac', '1', '-c:a', 'pcm_s16le', file(out)],
      ]);
    await Promise.all([
      video('a.mp4', 10, '320x180', 24),
      video('b.mp4', 5, '640x360', 25),
      tone('a.wav', 10, 'gte(t,8)'),
      tone('b.wav', 5, 'lt(t,1)'),
    ]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const a = (start: number, audio = true): TransitionSide => ({
    file: file('a.mp4'),
    start,
    count: 36,
    fps: 24,
    ...(audio ? { audio: { file: file('a.wav'), sampleRate: RATE } } : {}),
  });
  const b = (audio = true): TransitionSide => ({
    file: file('b.mp4'),
    start: 0,
    count: 38,
    fps: 25,
    ...(audio ? { audio: { file: file('b.wav'), sampleRate: RATE } } : {}),
  });

  it("plays each side's own sound at its frames", async () => {
    // A's frames 204–239 are 8.5–10 s (the tone); B's first 1.52 s hold its tone for 1 s, then silence.
    const mp4 = await transition(a(204), b(), 'both.mp4');
    const kinds = await streams(mp4);
    assert.deepEqual(kinds.map((s) => s.codec_type).sort(), ['audio', 'video']);
    const sound = kinds.find((s) => s.codec_type === 'audio')!;
    assert.ok(Math.abs(Number(sound.duration) - (1.5 + 1.52)) < 0.1, `sound lasts ${sound.duration} s`);
    assert.ok((await rms(mp4, 0.1, 1.4)) > 0.2, "A's tone");
    assert.ok((await rms(mp4, 1.6, 2.4)) > 0.2, "B's tone");
    assert.ok((await rms(mp4, 2.6, 2.95)) < 0.01, "B's silence after its first second");
  });

  it('takes the sound at the seek point, and a side without audio is silent', async () => {
    // A's frames 144–179 are 6–7.5 s: before its tone. B has no audio derivative.
    const mp4 = await transition(a(144), b(false), 'silent.mp4');
    assert.deepEqual((await streams(mp4)).map((s) => s.codec_type).sort(), ['audio', 'video']);
    assert.ok((await rms(mp4, 0.1, 1.4)) < 0.01, 'A is silent before 8 s');
    assert.ok((await rms(mp4, 1.6, 2.9)) < 0.01, 'B has no sound');
    // Only B with sound: A's side is silence of its length, B's tone comes right after it.
    const onlyB = await transition(a(204, false), b(), 'only-b.mp4');
    assert.ok((await rms(onlyB, 0.1, 1.4)) < 0.01);
    assert.ok((await rms(onlyB, 1.6, 2.4)) > 0.2);
  });

  it('makes a video-only MP4 when neither side has audio', async () => {
    const mp4 = await transition(a(204, false), b(false), 'mute.mp4');
    assert.deepEqual(
      (await streams(mp4)).map((s) => s.codec_type),
      ['video'],
    );
  });
});
