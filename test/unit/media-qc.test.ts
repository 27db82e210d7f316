import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildSnapshot,
  type MediaMetadata,
  type PacketScan,
  unreadableSnapshot,
} from '../../lib/media/metadata.ts';
import { cleanDecodeCheck, type DecodeCheck, qcVerdict, rejectionMessage } from '../../lib/media/qc.ts';

type Stream = Record<string, unknown>;

const video = (over: Stream = {}): Stream => ({
  index: 0,
  codec_type: 'video',
  codec_name: 'h264',
  width: 1280,
  height: 720,
  sample_aspect_ratio: '1:1',
  pix_fmt: 'yuv420p',
  field_order: 'progressive',
  r_frame_rate: '25/1',
  avg_frame_rate: '25/1',
  time_base: '1/12800',
  start_time: '0.000000',
  duration: '4.000000',
  nb_frames: '100',
  disposition: { default: 1, attached_pic: 0 },
  ...over,
});

const cfrScan = (frames = 100, step = 512): PacketScan => ({
  pts: Float64Array.from({ length: frames }, (_, i) => i * step),
  keyframes: 1,
  packets: frames,
  timeBase: { num: 1, den: 12800 },
  warnings: [],
});

function snapshot(
  streams: Stream[],
  opts: { scan?: PacketScan | null; format?: Stream } = {},
): MediaMetadata {
  const json = {
    format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '4.0', start_time: '0.0', ...opts.format },
    streams,
  };
  return buildSnapshot(json, opts.scan === undefined ? cfrScan() : opts.scan, {
    sizeBytes: 1000,
    signature: 'iso-bmff',
  });
}

const cleanDecode = (frames = 100) => cleanDecodeCheck(frames);

const codes = (meta: MediaMetadata, decode: DecodeCheck | null = cleanDecode()) =>
  qcVerdict(meta, decode).reasons.map((r) => `${r.severity}:${r.code}`);

describe('metadata snapshot', () => {
  it('applies rotation (display matrix or legacy tag) and pixel aspect to the display size', () => {
    const turned = snapshot([
      video({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] }),
    ]);
    assert.equal(turned.video!.rotation, 90);
    assert.deepEqual([turned.video!.displayWidth, turned.video!.displayHeight], [720, 1280]);
    assert.equal(snapshot([video({ tags: { rotate: '180' } })]).video!.rotation, 180);
    const wide = snapshot([video({ width: 720, height: 576, sample_aspect_ratio: '64:45' })]).video!;
    assert.equal(Math.round(wide.displayWidth), 1024);
    assert.equal(snapshot([video({ sample_aspect_ratio: '0:1' })]).video!.sampleAspectRatio, '1/1');
  });

  it('skips cover art and classifies subtitle streams', () => {
    const meta = snapshot(
      [
        { index: 0, codec_type: 'audio', codec_name: 'mp3', sample_rate: '44100', channels: 2 },
        video({ index: 1, codec_name: 'mjpeg', disposition: { attached_pic: 1 } }),
        { index: 2, codec_type: 'subtitle', codec_name: 'subrip', tags: { language: 'eng' } },
        { index: 3, codec_type: 'subtitle', codec_name: 'hdmv_pgs_subtitle' },
      ],
      { scan: null },
    );
    assert.equal(meta.video, null);
    assert.equal(meta.audio[0]!.sampleRate, 44100);
    assert.deepEqual(
      meta.subtitles.map((s) => [s.streamIndex, s.text, s.language]),
      [
        [2, true, 'eng'],
        [3, false, null],
      ],
    );
  });

  it('reads bit depth, frame counts and VFR from the scan', () => {
    const meta = snapshot([video({ pix_fmt: 'yuv422p10le' })]);
    assert.equal(meta.video!.bitDepth, 10);
    assert.equal(meta.video!.frameCount, 100);
    assert.equal(meta.video!.headerFrameCount, 100);
    assert.equal(meta.video!.vfr, false);
  });
});

describe('QC verdict', () => {
  it('passes a clean 720p H.264 file', () => {
    const v = qcVerdict(snapshot([video()]), cleanDecode());
    assert.deepEqual([v.status, v.reasons], ['pass', []]);
  });

  it('names the hard failure of unreadable inputs by what their bytes are', () => {
    const file = (signature: string | null) => ({ sizeBytes: 10, signature });
    assert.deepEqual(
      codes(unreadableSnapshot('the file is empty (0 bytes)', { sizeBytes: 0, signature: null })),
      ['hard:zero-byte'],
    );
    assert.deepEqual(codes(unreadableSnapshot('Invalid data found', file(null))), ['hard:not-media']);
    assert.deepEqual(codes(unreadableSnapshot('moov atom not found', file('iso-bmff'))), ['hard:truncated']);
    assert.deepEqual(codes(unreadableSnapshot('error reading header', file('iso-bmff'))), ['hard:corrupt']);
    assert.deepEqual(codes(snapshot([], { format: { duration: '10' }, scan: null }), null), ['hard:corrupt']);
    assert.deepEqual(codes(snapshot([], { format: { duration: '0' }, scan: null }), null), [
      'hard:no-video-stream',
    ]);
    assert.deepEqual(codes(snapshot([video()], { format: { format_name: 'png_pipe' } })), [
      'hard:still-image',
    ]);
  });

  it('rejects unknown codecs, absurd sizes, empty streams and missing frames', () => {
    assert.deepEqual(codes(snapshot([video({ codec_name: undefined })])), ['hard:unsupported-codec']);
    assert.deepEqual(codes(snapshot([video({ width: 8, height: 8 })])), ['hard:absurd-dimensions']);
    assert.deepEqual(codes(snapshot([video({ width: 9000 })])), ['hard:absurd-dimensions']);
    assert.deepEqual(codes(snapshot([video({ width: 1600, height: 100 })])), ['hard:absurd-dimensions']);
    assert.deepEqual(codes(snapshot([video()], { scan: cfrScan(0) }), null), ['hard:zero-duration']);
    assert.deepEqual(codes(snapshot([video()], { scan: cfrScan(60) }), cleanDecode(60)), ['hard:truncated']);
    const warned = { ...cfrScan(), warnings: ['[mov] stream 0, offset 0x6f4e: partial file'] };
    assert.deepEqual(codes(snapshot([video()], { scan: warned })), ['hard:truncated']);
    assert.deepEqual(
      codes(snapshot([video({ r_frame_rate: '0/0', avg_frame_rate: '0/0' })], { scan: null })),
      ['hard:absurd-frame-rate'],
    );
  });

  it('judges the decode check: a few errors are concealed, many are corruption', () => {
    const meta = snapshot([video(), { index: 1, codec_type: 'audio', codec_name: 'aac' }]);
    assert.deepEqual(codes(meta, { ...cleanDecode(), videoErrors: 1 }), ['soft:decode-errors']);
    assert.deepEqual(codes(meta, { ...cleanDecode(), videoErrors: 30 }), ['hard:corrupt']);
    assert.deepEqual(codes(meta, { ...cleanDecode(80) }), ['hard:corrupt'], 'a fifth of the frames lost');
    assert.deepEqual(codes(meta, { ...cleanDecode(0), fatal: 'ffmpeg failed: boom' }), ['hard:corrupt']);
    assert.deepEqual(codes(meta, { ...cleanDecode(), missingDecoder: true }), ['hard:unsupported-codec']);
    assert.deepEqual(codes(meta, { ...cleanDecode(), truncationErrors: 2 }), ['hard:truncated']);
    assert.deepEqual(codes(meta, { ...cleanDecode(), audioErrors: 3 }), ['soft:audio-errors']);
  });

  it('records every soft issue the recipes normalize', () => {
    const gappy = {
      ...cfrScan(),
      pts: Float64Array.from({ length: 100 }, (_, i) => i * 512 + (i > 50 ? 5120 : 0) + (i > 70 ? 5120 : 0)),
    };
    assert.deepEqual(codes(snapshot([video()], { scan: gappy })), ['soft:vfr']);
    const all = snapshot(
      [
        video({
          side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }],
          sample_aspect_ratio: '4:3',
          field_order: 'tt',
          start_time: '1.5',
          pix_fmt: 'yuv422p10le',
          color_space: 'bt470bg',
          r_frame_rate: '120/1',
          avg_frame_rate: '120/1',
        }),
      ],
      { scan: { ...cfrScan(), pts: Float64Array.from({ length: 100 }, (_, i) => (i * 12800) / 120) } },
    );
    assert.deepEqual(codes(all).sort(), [
      'soft:color-space',
      'soft:high-frame-rate',
      'soft:interlaced',
      'soft:non-square-pixels',
      'soft:pixel-format',
      'soft:rotation',
      'soft:start-offset',
    ]);
    const hdr = snapshot([
      video({ color_transfer: 'smpte2084', color_space: 'bt2020nc', pix_fmt: 'yuv420p10le' }),
    ]);
    assert.deepEqual(codes(hdr), ['soft:pixel-format', 'soft:hdr']);
    assert.equal(qcVerdict(hdr, cleanDecode()).status, 'normalize');
  });

  it('says every hard reason in one line', () => {
    const v = qcVerdict(snapshot([video({ width: 8, height: 8, codec_name: undefined })]), null);
    assert.equal(v.status, 'reject');
    assert.match(rejectionMessage(v), /^unsupported-codec: .+; absurd-dimensions: 8×8/);
  });
});
