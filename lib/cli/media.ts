// `mediamesh media` (ingest, QC, standardize through the mesh, show the result) and `mediamesh frames` (stream
// raw frames of an asset's standardized video to a file or stdout).

import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { runFeature } from '../features/client.ts';
import { BadInputError } from '../features/definition.ts';
import { type AssetMedia, openAsset } from '../media/assets.ts';
import { ingestFile } from '../media/ingest.ts';
import { isPixelFormat } from '../media/pixels.ts';
import { type QcVerdict, rejectionMessage } from '../media/qc.ts';
import type { FrameOptions } from '../media/reader.ts';
import { findMediaTools, type MediaTools } from '../media/tools.ts';
import { FsObjectStore } from '../objects/store.ts';
import { recordTrigger } from '../store/triggers.ts';
import type { Session } from './context.ts';
import { table } from './table.ts';

export const RECIPES = ['video-360p-h264', 'audio-16k-mono', 'keyframes'] as const;

function mediaTools(s: Session): MediaTools {
  const tools = findMediaTools(s.config);
  if (!tools)
    throw new BadInputError(
      'ffmpeg/ffprobe not found: install Debian ffmpeg or set FFMPEG_PATH/FFPROBE_PATH',
    );
  return tools;
}

function access(s: Session) {
  return {
    db: s.db,
    objects: new FsObjectStore(path.join(s.config.dataDir, 'objects')),
    tools: mediaTools(s),
  };
}

/** A file path (ingested first) or the sha256 of an ingested asset → the asset's content hash. */
async function resolveAsset(s: Session, target: string, titleId: string): Promise<string> {
  if (/^[0-9a-f]{64}$/.test(target)) return target;
  const file = path.resolve(target);
  if (!fs.existsSync(file))
    throw new BadInputError(`${target} is neither an existing file nor a sha256 content hash`);
  return (await ingestFile(s.db, access(s).objects, file, titleId)).hash;
}

export interface MediaReport {
  asset: string;
  verdict: QcVerdict;
  derivatives: { recipe: string; object: string; sizeBytes: number; detail: string }[];
}

/**
 * Ingests (when given a file), runs media-qc and then every recipe through the mesh, and reports the verdict
 * and the derivatives. A rejected asset reports its reasons and computes no derivative.
 */
export async function mediaCommand(
  s: Session,
  target: string,
  opts: { title?: string; recipes?: string[] } = {},
): Promise<MediaReport> {
  const titleId = opts.title ?? 'untitled';
  const asset = await resolveAsset(s, target, titleId);
  const recipes = opts.recipes ?? [...RECIPES];
  for (const r of recipes) {
    if (!(RECIPES as readonly string[]).includes(r)) {
      throw new BadInputError(`unknown recipe "${r}" (one of ${RECIPES.join(', ')})`);
    }
  }
  await recordTrigger(s.db, { source: 'cli', titleId, entityKey: asset, features: ['media-qc', ...recipes] });
  const run = (feature: string) =>
    runFeature(s.client, s.config, s.registry, { feature, entityKey: asset, titleId });
  await run('media-qc');
  const media = await openAsset(access(s), asset);
  const verdict = await media.verdict();
  const report: MediaReport = { asset, verdict, derivatives: [] };
  if (verdict.status === 'reject') return report;
  await Promise.all(recipes.map(run));
  for (const recipe of recipes) report.derivatives.push(await describeDerivative(s, media, recipe));
  return report;
}

async function describeDerivative(s: Session, media: AssetMedia, recipe: string) {
  const row = await s.db.featureValue.findFirstOrThrow({
    where: { featureName: recipe, entityKey: media.hash },
    orderBy: [{ featureVersion: 'desc' }, { attempt: 'desc' }],
  });
  const v = row.value as Record<string, unknown>;
  const detail =
    recipe === 'video-360p-h264'
      ? `${v.width}×${v.height} ${v.frameRate} fps, ${v.frames} frames, gop ${v.gop}`
      : recipe === 'audio-16k-mono'
        ? `${v.sampleRate} Hz mono, ${v.samples} samples${v.silent ? ' (silence: no audio stream)' : ''}`
        : `${v.count} thumbnails, one every ${v.gop} frames`;
  return {
    recipe: `${recipe}@${row.featureVersion}`,
    object: row.objectUri ?? '',
    sizeBytes: Number(row.sizeBytes ?? 0),
    detail,
  };
}

export function renderMedia(r: MediaReport): string {
  const lines = [`asset ${r.asset}: ${r.verdict.status}`];
  for (const reason of r.verdict.reasons)
    lines.push(`  ${reason.severity} ${reason.code}: ${reason.message}`);
  if (r.verdict.status === 'reject') {
    lines.push(`quarantined (no derivatives): ${rejectionMessage(r.verdict)}`);
    return lines.join('\n');
  }
  const t = table(['recipe', 'object', 'bytes', 'detail']);
  for (const d of r.derivatives) t.push([d.recipe, d.object, String(d.sizeBytes), d.detail]);
  return [...lines, t.toString()].join('\n');
}

export interface FramesCommandOptions {
  start?: number;
  end?: number;
  width?: number;
  height?: number;
  fps?: number;
  pixFmt?: string;
  /** File to write the raw frames to, or '-' for stdout. */
  out: string;
}

/**
 * Streams the raw frames of an asset's standardized video (computing it first if needed) to a file or stdout,
 * frame after frame, honouring the destination's backpressure.
 */
export async function framesCommand(
  s: Session,
  asset: string,
  opts: FramesCommandOptions,
): Promise<{ frames: number; bytes: number; width: number; height: number; pixelFormat: string }> {
  if (opts.pixFmt !== undefined && !isPixelFormat(opts.pixFmt)) {
    throw new BadInputError(`unknown pixel format "${opts.pixFmt}"`);
  }
  await runFeature(s.client, s.config, s.registry, { feature: 'video-360p-h264', entityKey: asset });
  const video = await (await openAsset(access(s), asset)).video();
  const sink = opts.out === '-' ? process.stdout : fs.createWriteStream(opts.out);
  const frameOpts: FrameOptions = {
    start: opts.start,
    end: opts.end,
    width: opts.width,
    height: opts.height,
    fps: opts.fps,
    pixelFormat: opts.pixFmt as FrameOptions['pixelFormat'],
  };
  const summary = { frames: 0, bytes: 0, width: 0, height: 0, pixelFormat: '' };
  for await (const f of video.frames(frameOpts)) {
    const bytes = new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    if (!sink.write(bytes)) await once(sink, 'drain');
    Object.assign(summary, { width: f.width, height: f.height, pixelFormat: f.pixelFormat });
    summary.frames++;
    summary.bytes += bytes.byteLength;
  }
  if (sink !== process.stdout)
    await new Promise<void>((resolve, reject) => sink.end((err?: Error) => (err ? reject(err) : resolve())));
  return summary;
}
