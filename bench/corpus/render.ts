// Renders a title plan with ffmpeg: each shot is a virtual camera move over a photo (zoompan) rendered losslessly
// to its own segment (near-duplicates re-encoded lossy from it), then the pieces of the timeline — segment ranges,
// blends (dissolves; fades are blends with black) and black — are concatenated in one filter graph and encoded.
// Every step counts frames, never seconds, so the ground truth is exact.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MediaTools } from '../../lib/media/tools.ts';
import type { ShotSpec, TitlePlan } from './plan.ts';
import type { Piece, Source } from './timeline.ts';

const exec = promisify(execFile);

async function ffmpeg(tools: MediaTools, args: string[]): Promise<void> {
  try {
    await exec(tools.ffmpeg, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ffmpeg failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/** Frames in a file, counted by demuxing (exact, fast). */
export async function countFrames(tools: MediaTools, file: string): Promise<number> {
  const { stdout } = await exec(tools.ffprobe, [
    ...['-v', 'error', '-select_streams', 'v:0', '-count_packets'],
    ...['-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file],
  ]);
  return Number(stdout.trim());
}

/** Writes `out` through a temporary name so an interrupted run never leaves a partial file behind. */
async function atomically(out: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (fs.existsSync(out)) return out;
  const tmp = `${out}.partial${path.extname(out)}`;
  await make(tmp);
  fs.renameSync(tmp, out);
  return out;
}

export interface RenderDirs {
  /** Shared across titles: photo canvases. */
  cache: string;
  /** Per title work files (segments). */
  work: string;
}

/** The photo cropped to the output's aspect at 3× its size (at most 2560 wide): room to pan and zoom sharply. */
function canvas(tools: MediaTools, photo: string, w: number, h: number, dir: string): Promise<string> {
  const scale = Math.min(3, 2560 / w);
  const cw = 2 * Math.round((w * scale) / 2);
  const ch = 2 * Math.round((h * scale) / 2);
  const out = path.join(dir, `${path.parse(photo).name}-${cw}x${ch}.png`);
  return atomically(out, (tmp) =>
    ffmpeg(tools, [
      ...[
        '-i',
        photo,
        '-vf',
        `scale=${cw}:${ch}:force_original_aspect_ratio=increase:flags=lanczos,crop=${cw}:${ch}`,
      ],
      ...['-frames:v', '1', tmp],
    ]),
  );
}

const num = (v: number) => v.toFixed(6);

function zoompan(spec: ShotSpec, w: number, h: number, rate: string): string {
  const { from: a, to: b, frames: n } = spec;
  const t = n > 1 ? `on/${n - 1}` : '0';
  const lerp = (x: number, y: number) => `(${num(x)}+${num(y - x)}*${t})`;
  const z = lerp(a.z, b.z);
  const x = `${lerp(a.cx, b.cx)}*iw-iw/zoom/2`;
  const y = `${lerp(a.cy, b.cy)}*ih-ih/zoom/2`;
  return `zoompan=z='${z}':x='${x}':y='${y}':d=${n}:s=${w}x${h}:fps=${rate}`;
}

const segmentName = (spec: ShotSpec) =>
  spec.variant ? `shot-${spec.id}-crf${spec.variant.crf}-x${spec.variant.scale}.mp4` : `shot-${spec.id}.mp4`;

/** Timestamps renumbered from frame counts in a time base of one frame: nothing to round, drop or repeat. */
function renumber(rate: string): string {
  const [num, den = '1'] = rate.split('/');
  return `settb=${den}/${num},setpts=N`;
}

// Frames pass through as they are: ffmpeg must not duplicate or drop any to make the rate constant.
const PASSTHROUGH = ['-fps_mode', 'passthrough'];

/** One shot's frames: lossless, or for a near-duplicate the lossless original re-encoded lossy. */
async function segment(
  tools: MediaTools,
  plan: TitlePlan,
  spec: ShotSpec,
  dirs: RenderDirs,
): Promise<string> {
  const { width: w, height: h, rate } = plan;
  const out = path.join(dirs.work, segmentName(spec));
  if (spec.variant) {
    const base = await segment(tools, plan, { ...spec, variant: undefined }, dirs);
    const { crf, scale } = spec.variant;
    const small = `scale=${2 * Math.round((w * scale) / 2)}:-2:flags=bilinear,scale=${w}:${h}:flags=bicubic`;
    return atomically(out, (tmp) =>
      ffmpeg(tools, [
        ...['-i', base, '-vf', `${small},setsar=1,${renumber(rate)}`, ...PASSTHROUGH],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(crf), '-pix_fmt', 'yuv420p', tmp],
      ]),
    );
  }
  const photo = await canvas(tools, spec.photo, w, h, dirs.cache);
  const flashes = spec.flashes.map(
    (f) => `eq=brightness=${num(f.gain)}:enable='between(n,${f.at},${f.at + f.length - 1})'`,
  );
  const filters = [zoompan(spec, w, h, rate), 'format=yuv420p', 'setsar=1', ...flashes, renumber(rate)].join(
    ',',
  );
  return atomically(out, (tmp) =>
    ffmpeg(tools, [
      ...['-i', photo, '-vf', filters, '-frames:v', String(spec.frames), ...PASSTHROUGH],
      ...['-c:v', 'libx264', '-qp', '0', '-preset', 'ultrafast', tmp],
    ]),
  );
}

/** The filter graph that concatenates the pieces; input i is content shot i's segment. */
export function compositionGraph(plan: TitlePlan, pieces: Piece[]): string {
  const { width: w, height: h, rate } = plan;
  const uses = new Map<number, number>();
  const sources = (p: Piece): Source[] =>
    p.kind === 'segment' ? [{ shot: p.shot, from: p.from }] : p.kind === 'blend' ? [p.a, p.b] : [];
  for (const p of pieces) {
    for (const s of sources(p)) if (s !== 'black') uses.set(s.shot, (uses.get(s.shot) ?? 0) + 1);
  }
  const lines: string[] = [];
  const taken = new Map<number, number>();
  for (const [shot, n] of uses) {
    const outs = Array.from({ length: n }, (_, k) => `[s${shot}_${k}]`).join('');
    lines.push(`[${shot}:v]setsar=1,split=${n}${outs}`);
  }
  const take = (shot: number) => {
    const k = taken.get(shot) ?? 0;
    taken.set(shot, k + 1);
    return `[s${shot}_${k}]`;
  };
  const pts = renumber(rate);
  const range = (src: Source, frames: number, label: string) =>
    src === 'black'
      ? `color=c=black:s=${w}x${h}:r=${rate},format=yuv420p,setsar=1,trim=end_frame=${frames},${pts}${label}`
      : `${take(src.shot)}trim=start_frame=${src.from}:end_frame=${src.from + frames},${pts}${label}`;
  pieces.forEach((p, m) => {
    if (p.kind === 'segment') lines.push(range({ shot: p.shot, from: p.from }, p.to - p.from, `[p${m}]`));
    else if (p.kind === 'black') lines.push(range('black', p.frames, `[p${m}]`));
    else {
      lines.push(range(p.a, p.frames, `[p${m}a]`), range(p.b, p.frames, `[p${m}b]`));
      lines.push(`[p${m}a][p${m}b]blend=all_expr='A+(B-A)*(N+1)/${p.frames + 1}':shortest=1[p${m}]`);
    }
  });
  const all = pieces.map((_, m) => `[p${m}]`).join('');
  lines.push(`${all}concat=n=${pieces.length}:v=1:a=0,${pts},format=yuv420p[out]`);
  return lines.join(';\n');
}

/** Renders the title to `out` (H.264 MP4) and checks its frame count against the plan. */
export async function renderTitle(
  tools: MediaTools,
  plan: TitlePlan,
  pieces: Piece[],
  frames: number,
  out: string,
  dirs: RenderDirs,
): Promise<void> {
  fs.mkdirSync(dirs.cache, { recursive: true });
  fs.mkdirSync(dirs.work, { recursive: true });
  const inputs: string[] = [];
  for (const shot of plan.shots) inputs.push(await segment(tools, plan, shot.spec, dirs));
  const graphFile = path.join(dirs.work, 'composition.txt');
  fs.writeFileSync(graphFile, compositionGraph(plan, pieces));
  await atomically(out, (tmp) =>
    ffmpeg(tools, [
      ...inputs.flatMap((f) => ['-i', f]),
      ...['-filter_complex_script', graphFile, '-map', '[out]', '-an', ...PASSTHROUGH],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(plan.crf), '-pix_fmt', 'yuv420p'],
      ...['-movflags', '+faststart', tmp],
    ]),
  );
  const got = await countFrames(tools, out);
  if (got !== frames) {
    fs.rmSync(out, { force: true });
    throw new Error(`${plan.name}: rendered ${got} frames, the timeline has ${frames}`);
  }
}
