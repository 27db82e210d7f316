// Asset-level media access: finds an asset's stored metadata, QC verdict and derivatives in the feature store
// and opens readers on them. Frame indices and times are those of the standardized timeline (the derivative).
import type { z } from 'zod';
import audioRecipe from '../../activities/features/audio-16k-mono.ts';
import keyframesRecipe from '../../activities/features/keyframes.ts';
import mediaMetadata from '../../activities/features/media-metadata.ts';
import mediaQc from '../../activities/features/media-qc.ts';
import videoRecipe from '../../activities/features/video-360p-h264.ts';
import { type AnyFeature, BadInputError } from '../features/definition.ts';
import { normalizeParams } from '../features/params.ts';
import type { ObjectStore } from '../objects/store.ts';
import type { Db } from '../store/db.ts';
import { findCurrentValue } from '../store/values.ts';
import type { MediaMetadata } from './metadata.ts';
import type { QcVerdict } from './qc.ts';
import {
  AudioReader,
  decodePictures,
  derivativeSource,
  type Frame,
  type PictureOptions,
  VideoReader,
} from './reader.ts';
import { type Cue, readSubtitleStream } from './subtitles.ts';
import type { MediaTools } from './tools.ts';

export interface MediaAccess {
  db: Db;
  objects: ObjectStore;
  tools: MediaTools;
}

/** A value the caller needs has not been computed (yet) for this asset. */
export class NotComputedError extends BadInputError {
  override name = 'NotComputedError';
}

type Value<F extends AnyFeature> = z.infer<F['output']>;

async function stored<F extends AnyFeature>(
  db: Db,
  feature: F,
  hash: string,
): Promise<{ value: Value<F>; objectUri: string | null }> {
  const ref = await findCurrentValue(db, {
    feature: feature.name,
    version: feature.version,
    entityKey: hash,
    paramsHash: normalizeParams(feature, {}).paramsHash,
  });
  if (!ref) {
    throw new NotComputedError(
      `${feature.name}@${feature.version} has not been computed for asset ${hash}: ` +
        `run \`mediamesh run ${feature.name} --asset ${hash}\` first`,
    );
  }
  const row = await db.featureValue.findUniqueOrThrow({ where: { id: BigInt(ref.valueId) } });
  return { value: row.value as Value<F>, objectUri: row.objectUri };
}

export class AssetMedia {
  constructor(
    readonly access: MediaAccess,
    readonly hash: string,
    readonly objectUri: string,
  ) {}

  async metadata(): Promise<MediaMetadata> {
    return (await stored(this.access.db, mediaMetadata, this.hash)).value;
  }

  async verdict(): Promise<QcVerdict> {
    return (await stored(this.access.db, mediaQc, this.hash)).value;
  }

  async #derivativePath(objectUri: string | null): Promise<string> {
    return this.access.objects.localPath({ uri: objectUri! });
  }

  /** The standardized video (video-360p-h264): frame i here is frame i everywhere. */
  async video(): Promise<VideoReader> {
    const { value, objectUri } = await stored(this.access.db, videoRecipe, this.hash);
    return new VideoReader(this.access.tools, derivativeSource(await this.#derivativePath(objectUri), value));
  }

  /** The standardized audio (audio-16k-mono): sample 0 is at frame 0 of the video. */
  async audio(): Promise<AudioReader> {
    const { value, objectUri } = await stored(this.access.db, audioRecipe, this.hash);
    return new AudioReader(this.access.tools, {
      file: await this.#derivativePath(objectUri),
      sampleRate: value.sampleRate,
      samples: value.samples,
    });
  }

  /** The keyframe thumbnails (keyframes), each with the index of the derivative frame it shows. */
  async *keyframes(opts: PictureOptions = {}): AsyncGenerator<Frame> {
    const [{ value, objectUri }, video] = await Promise.all([
      stored(this.access.db, keyframesRecipe, this.hash),
      this.video(),
    ]);
    let k = 0;
    const file = await this.#derivativePath(objectUri);
    for await (const p of decodePictures(this.access.tools, file, value, opts)) {
      const index = k++ * value.gop;
      yield { ...p, index, timeSec: video.timeOf(index) };
    }
  }

  /**
   * Cues of a text subtitle stream (default: the default one, else the first), on the standardized timeline
   * (times shifted so that 0 is the first video frame).
   */
  async text(opts: { stream?: number; signal?: AbortSignal } = {}): Promise<Cue[]> {
    const meta = await this.metadata();
    const text = meta.subtitles.filter((s) => s.text);
    const chosen =
      opts.stream === undefined
        ? (text.find((s) => s.default) ?? text[0])
        : meta.subtitles.find((s) => s.streamIndex === opts.stream);
    if (!chosen) {
      const what =
        opts.stream === undefined ? 'no text subtitle stream' : `no subtitle stream ${opts.stream}`;
      throw new BadInputError(`asset ${this.hash} has ${what}`);
    }
    if (!chosen.text) {
      throw new BadInputError(`subtitle stream ${chosen.streamIndex} (${chosen.codec}) is bitmaps, not text`);
    }
    const file = await this.access.objects.localPath({ uri: this.objectUri });
    const origin = Math.max(0, (meta.video?.startTimeSec ?? 0) - (meta.container?.startTimeSec ?? 0));
    const cues = await readSubtitleStream(this.access.tools, file, chosen.streamIndex, opts.signal);
    return cues.map((c) => ({ ...c, startSec: c.startSec - origin, endSec: c.endSec - origin }));
  }
}

/** Opens an ingested asset by content hash. */
export async function openAsset(access: MediaAccess, hash: string): Promise<AssetMedia> {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new BadInputError(`not a sha256 content hash: "${hash}"`);
  const asset = await access.db.asset.findUnique({ where: { hash } });
  if (!asset) throw new BadInputError(`no asset with content hash ${hash} has been ingested`);
  return new AssetMedia(access, hash, asset.objectUri);
}
