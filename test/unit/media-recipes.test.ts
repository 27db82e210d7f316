import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { audioPlan } from '../../activities/features/audio-16k-mono.ts';
import { buildSnapshot } from '../../lib/media/metadata.ts';
import { geometry } from '../../lib/media/reader.ts';
import { videoPlan } from '../../lib/media/video-plan.ts';

const meta = (video: Record<string, unknown> | null, extra: Record<string, unknown>[] = [], format = {}) =>
  buildSnapshot(
    {
      format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '2', start_time: '0', ...format },
      streams: [
        ...(video
          ? [
              {
                index: 0,
                codec_type: 'video',
                codec_name: 'h264',
                width: 1920,
                height: 1080,
                pix_fmt: 'yuv420p',
                r_frame_rate: '24000/1001',
                avg_frame_rate: '24000/1001',
                time_base: '1/24000',
                start_time: '0',
                duration: '2',
                ...video,
              },
            ]
          : []),
        ...extra,
      ],
    },
    null,
    { sizeBytes: 1, signature: 'iso-bmff' },
  );

describe('recipe plans', () => {
  it('video: 360 high, width from the display aspect, 2 s GOP, bit-exact', () => {
    const p = videoPlan(meta({}));
    assert.deepEqual([p.width, p.height, p.gop], [640, 360, 48]);
    assert.equal(
      p.filters,
      [
        'setpts=PTS-STARTPTS',
        'fps=24000/1001',
        'scale=w=640:h=360:flags=bicubic:in_color_matrix=bt709:in_range=limited:out_color_matrix=bt709:out_range=limited',
        'setsar=1',
        'format=yuv420p',
      ].join(','),
    );
    const args = p.args('in.mov', 'out.mp4');
    for (const flag of [
      '+bitexact',
      'keyint=48:min-keyint=48:scenecut=0:open-gop=0:threads=4',
      '-map_metadata',
    ]) {
      assert.ok(args.includes(flag), flag);
    }
    assert.equal(args.at(-1), 'out.mp4');
  });

  it('video: rotation turns the frame, pixel aspect widens it, SD untagged is BT.601, interlace and HDR filtered', () => {
    assert.equal(
      videoPlan(meta({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] })).width,
      202,
    );
    const pal = videoPlan(meta({ width: 720, height: 576, sample_aspect_ratio: '16:15', field_order: 'tt' }));
    assert.equal(pal.width, 480);
    assert.match(pal.filters, /^bwdif=mode=send_frame:deint=interlaced,/);
    assert.match(pal.filters, /in_color_matrix=smpte170m/);
    const hdr = videoPlan(meta({ color_transfer: 'smpte2084', pix_fmt: 'yuv420p10le' }));
    assert.match(hdr.filters, /tonemap=tonemap=hable/);
    assert.equal(videoPlan(meta({ r_frame_rate: '120/1', avg_frame_rate: '120/1' })).gop, 120);
    assert.throws(() => videoPlan(meta(null)), /no video stream/);
  });

  it('audio: aligned to the first video frame; silence as long as the video when there is no audio', () => {
    const tone = { index: 1, codec_type: 'audio', codec_name: 'aac', start_time: '0', duration: '3' };
    const late = audioPlan(meta({ start_time: '1.000000' }, [tone]));
    assert.equal(late.sourceStream, 1);
    const af = late.args('in', 'out');
    assert.match(af[af.indexOf('-af') + 1]!, /aresample=async=1:first_pts=0,atrim=start=1\.000000,asetpts/);
    const silent = audioPlan(meta({}));
    assert.equal(silent.sourceStream, null);
    assert.ok(silent.args('in', 'out').includes('anullsrc=r=16000:cl=mono'));
  });
});

describe('reader geometry', () => {
  it('keeps the aspect ratio when one side is given and builds fit filters', () => {
    assert.deepEqual(geometry(640, 360, { width: 320 }), {
      width: 320,
      height: 180,
      pixelFormat: 'rgb24',
      filters: ['scale=320:180:flags=area', 'format=rgb24'],
    });
    assert.deepEqual(geometry(640, 360, {}).filters, ['format=rgb24']);
    assert.match(geometry(640, 360, { width: 300, height: 300, fit: 'contain' }).filters[1]!, /^pad=300:300/);
    assert.match(geometry(640, 360, { width: 300, height: 300, fit: 'cover' }).filters[1]!, /^crop=300:300/);
    assert.match(geometry(640, 360, { width: 1280 }).filters[0]!, /flags=bicubic/);
  });

  it('refuses odd sizes for yuv420p, unknown formats and silly sizes', () => {
    assert.throws(
      () => geometry(640, 360, { width: 321, height: 181, pixelFormat: 'yuv420p' }),
      /even width/,
    );
    assert.throws(
      () => geometry(640, 360, { pixelFormat: 'rgb48' as 'rgb24' }),
      /unknown pixel format "rgb48"/,
    );
    assert.throws(() => geometry(640, 360, { width: 0 }), /width must be an integer/);
    assert.equal(
      geometry(640, 360, { width: 322, pixelFormat: 'yuv420p' }).height,
      182,
      'derived side rounded to even',
    );
  });
});
