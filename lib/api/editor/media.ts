// Pictures and previews for the editor page, all from the standardized derivative (video-360p-h264) of assets
// named by content hash: a frame as a JPEG (read through the reader API, kept in an in-memory LRU), and the
// transition between two shots as a short MP4 with their sound (transition.ts), content-addressed in the object
// store with a small index from the request to the object.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config/config.ts';
import type { Logger } from '../../config/log.ts';
import { NotComputedError, openAsset } from '../../media/assets.ts';
import type { Picture, VideoReader } from '../../media/reader.ts';
import { findMediaTools, type MediaTools, runTool } from '../../media/tools.ts';
import { type ObjectRef, type ObjectStore, objectRefSchema } from '../../objects/store.ts';
import type { Db } from '../../store/db.ts';
import { badRequest, HttpError, notFound } from './http-util.ts';
import { ByteLru, SingleFlight, Slots } from './lru.ts';
import { type TransitionSide, transitionArgs } from './transition.ts';

export interface EditorMediaDeps {
  db: Db;
  objects: ObjectStore;
  config: Config;
  log: Logger;
}

/** Frames [start, end) of one asset's derivative. */
export interface Span {
  asset: string;
  start: number;
  end: number;
}

/** Seconds of each shot a preview shows: the end of shot A, then the start of shot B. */
export const PREVIEW_SIDE_SECONDS = 1.5;
/** Bump when the preview recipe changes: the cache key includes it. */
const PREVIEW_VERSION = 2;
const VIDEO_TTL_MS = 60_000;

export class EditorMedia {
  readonly #frames = new ByteLru(64 * 1024 * 1024);
  readonly #frameFlight = new SingleFlight<Buffer>();
  readonly #previewFlight = new SingleFlight<ObjectRef>();
  /** Decodes at once (each is one ffmpeg), and preview encodes (x264 uses the cores). */
  readonly #decodeSlots = new Slots(4);
  readonly #encodeSlots = new Slots(1);
  readonly #videos = new Map<string, { at: number; reader: Promise<VideoReader> }>();
  #tools: MediaTools | undefined;

  constructor(readonly deps: EditorMediaDeps) {}

  get tools(): MediaTools {
    this.#tools ??= findMediaTools(this.deps.config);
    if (!this.#tools) throw new Error('ffmpeg/ffprobe not found: run scripts/setup.sh');
    return this.#tools;
  }

  /** Frames cached, and their bytes (for tests and logs). */
  get frameCache(): { entries: number; bytes: number } {
    return { entries: this.#frames.size, bytes: this.#frames.bytes };
  }

  /**
   * The derivative of an ingested asset. `label` names the parameter in messages. Unknown asset → 404; no
   * derivative (not computed yet, or an asset without video) → 409.
   */
  async video(hash: string, label: string): Promise<VideoReader> {
    const now = Date.now();
    const cached = this.#videos.get(hash);
    if (cached && now - cached.at < VIDEO_TTL_MS) return cached.reader;
    const reader = (async () => {
      const row = await this.deps.db.asset.findUnique({ where: { hash }, select: { hash: true } });
      if (!row) throw notFound(`${label}: no asset with content hash ${hash}`);
      try {
        return await (await openAsset({ ...this.deps, tools: this.tools }, hash)).video();
      } catch (err) {
        if (err instanceof NotComputedError) throw new HttpError(409, `${label}: ${err.message}`);
        throw err;
      }
    })();
    if (this.#videos.size >= 1000) this.#videos.clear();
    this.#videos.set(hash, { at: now, reader });
    reader.catch(() => this.#videos.delete(hash));
    return reader;
  }

  /** Frame `index` of an asset's derivative as a JPEG `width` pixels wide (the height keeps the aspect). */
  async frameJpeg(hash: string, index: number, width: number): Promise<Buffer> {
    const key = `${hash}/${index}/${width}`;
    const hit = this.#frames.get(key);
    if (hit) return hit;
    const video = await this.video(hash, 'asset');
    if (index >= video.frameCount) {
      throw badRequest(
        `frame: ${index} is past the end: asset ${hash} has ${video.frameCount} frames (0–${video.frameCount - 1})`,
      );
    }
    return this.#frameFlight.run(key, async () => {
      const jpeg = await this.#decodeSlots.run(async () =>
        encodeJpeg(this.tools, await video.frame(index, { width, pixelFormat: 'rgb24' })),
      );
      this.#frames.set(key, jpeg);
      return jpeg;
    });
  }

  /** Checks a span against its asset's derivative; `label` names the parameter in messages. */
  async checkSpan(span: Span, label: string): Promise<VideoReader> {
    const video = await this.video(span.asset, label);
    if (span.end > video.frameCount) {
      throw badRequest(
        `${label}: end frame ${span.end} is past the end: asset ${span.asset} has ${video.frameCount} frames ` +
          `(end ≤ ${video.frameCount})`,
      );
    }
    return video;
  }

  /** An asset's audio derivative, or undefined while audio-16k-mono has not been computed for it. */
  async #audio(hash: string): Promise<TransitionSide['audio']> {
    try {
      const audio = await (await openAsset({ ...this.deps, tools: this.tools }, hash)).audio();
      return { file: audio.source.file, sampleRate: audio.source.sampleRate };
    } catch (err) {
      if (err instanceof NotComputedError) return undefined;
      throw err;
    }
  }

  /**
   * The last ~1.5 s of span `a` cut to the first ~1.5 s of span `b` as an H.264 MP4 (faststart) with their sound
   * (AAC; a side whose audio derivative is not computed yet is silent, none → no sound track), made once and kept
   * in the object store.
   */
  async preview(a: Span, b: Span): Promise<{ ref: ObjectRef; seconds: number; sound: boolean }> {
    const [va, vb] = await Promise.all([this.checkSpan(a, 'a'), this.checkSpan(b, 'b')]);
    // After the spans are checked: an unknown asset is their 404, not a failure of the audio lookup.
    const [audioA, audioB] = await Promise.all([this.#audio(a.asset), this.#audio(b.asset)]);
    const na = Math.min(a.end - a.start, Math.max(1, Math.round(PREVIEW_SIDE_SECONDS * va.fps)));
    const nb = Math.min(b.end - b.start, Math.max(1, Math.round(PREVIEW_SIDE_SECONDS * vb.fps)));
    const from = { file: va.source.file, start: a.end - na, count: na, fps: va.fps, audio: audioA };
    const to = { file: vb.source.file, start: b.start, count: nb, fps: vb.fps, audio: audioB };
    const side = (s: TransitionSide, asset: string) => ({
      asset,
      file: path.basename(s.file),
      audio: s.audio ? path.basename(s.audio.file) : null,
      start: s.start,
      count: s.count,
    });
    const plan = { v: PREVIEW_VERSION, a: side(from, a.asset), b: side(to, b.asset) };
    const key = crypto.createHash('sha256').update(JSON.stringify(plan)).digest('hex');
    const seconds = na / va.fps + nb / vb.fps;
    const ref = await this.#previewFlight.run(key, async () => {
      const known = await this.#indexed(key);
      if (known) return known;
      const made = await this.#encodeSlots.run(() => this.#encodePreview(from, to, va));
      await this.#index(key, made);
      this.deps.log.info({ key, object: made.uri, bytes: made.sizeBytes }, 'editor preview made');
      return made;
    });
    return { ref, seconds, sound: audioA !== undefined || audioB !== undefined };
  }

  #indexFile(key: string): string {
    return path.join(this.deps.config.dataDir, 'editor', 'previews', `${key}.json`);
  }

  async #indexed(key: string): Promise<ObjectRef | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.#indexFile(key), 'utf8');
    } catch {
      return undefined;
    }
    const ref = objectRefSchema.safeParse(JSON.parse(text));
    return ref.success && (await this.deps.objects.has(ref.data.sha256)) ? ref.data : undefined;
  }

  async #index(key: string, ref: ObjectRef): Promise<void> {
    const file = this.#indexFile(key);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    await fs.promises.writeFile(tmp, JSON.stringify(ref));
    await fs.promises.rename(tmp, file);
  }

  async #encodePreview(from: TransitionSide, to: TransitionSide, first: VideoReader): Promise<ObjectRef> {
    await fs.promises.mkdir(this.deps.objects.scratchDir, { recursive: true });
    const out = path.join(
      this.deps.objects.scratchDir,
      `preview-${process.pid}-${crypto.randomBytes(6).toString('hex')}.mp4`,
    );
    try {
      await runTool(this.tools.ffmpeg, transitionArgs(from, to, first.source, out));
      return await this.deps.objects.putFile(out, { move: true });
    } finally {
      await fs.promises.rm(out, { force: true });
    }
  }
}

/** One raw rgb24 picture → a JPEG, through ffmpeg's mjpeg encoder (stdin in, stdout out). */
export function encodeJpeg(tools: MediaTools, p: Picture, quality = 3): Promise<Buffer> {
  if (p.pixelFormat !== 'rgb24') throw new Error(`encodeJpeg takes rgb24, got ${p.pixelFormat}`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      tools.ffmpeg,
      [
        ...['-hide_banner', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24'],
        ...['-s', `${p.width}x${p.height}`, '-i', 'pipe:0', '-frames:v', '1'],
        ...['-c:v', 'mjpeg', '-q:v', String(quality), '-pix_fmt', 'yuvj420p', '-f', 'image2pipe', 'pipe:1'],
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && out.length) return resolve(Buffer.concat(out));
      reject(new Error(`ffmpeg (jpeg) failed: ${Buffer.concat(err).toString('utf8').trim().slice(-500)}`));
    });
    child.stdin.end(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  });
}
