// Text tracks: subtitle streams inside an asset (through ffmpeg, as WebVTT) and sidecar .srt / .vtt files,
// parsed into cues with times in seconds.
import fs from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../features/definition.ts';
import { MediaToolError, type MediaTools, runTool } from './tools.ts';

export interface Cue {
  startSec: number;
  endSec: number;
  /** The cue's text, lines joined by \n, markup (<i>, {\an8}, …) removed. */
  text: string;
}

const TIME = /(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})/;
const ARROW = new RegExp(`^\\s*${TIME.source}\\s*-->\\s*${TIME.source}`);

function seconds(h: string | undefined, m: string, s: string, ms: string): number {
  return Number(h ?? 0) * 3600 + Number(m) * 60 + Number(s) + Number(ms.padEnd(3, '0')) / 1000;
}

const stripMarkup = (line: string) =>
  line
    .replace(/<[^>]*>/g, '')
    .replace(/\{\\[^}]*\}/g, '')
    .trim();

/** Parses SRT or WebVTT text (both are blocks of "start --> end" plus text lines). */
export function parseCues(text: string): Cue[] {
  const cues: Cue[] = [];
  const blocks = text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n?/g, '\n')
    .split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split('\n');
    const at = lines.findIndex((l) => ARROW.test(l));
    if (at < 0) continue; // header, NOTE, STYLE, REGION or garbage
    const m = ARROW.exec(lines[at]!)!;
    const startSec = seconds(m[1], m[2]!, m[3]!, m[4]!);
    const endSec = seconds(m[5], m[6]!, m[7]!, m[8]!);
    const body = lines
      .slice(at + 1)
      .map(stripMarkup)
      .filter(Boolean)
      .join('\n');
    if (endSec >= startSec) cues.push({ startSec, endSec, text: body });
  }
  return cues.sort((a, b) => a.startSec - b.startSec);
}

/** A sidecar subtitle file (.srt or .vtt). */
export async function readSubtitleFile(file: string): Promise<Cue[]> {
  const ext = path.extname(file).toLowerCase();
  if (ext !== '.srt' && ext !== '.vtt') {
    throw new BadInputError(
      `${file}: sidecar subtitles must be .srt or .vtt, not "${ext || 'no extension'}"`,
    );
  }
  const text = await fs.promises.readFile(file, 'utf8');
  if (ext === '.vtt' && !/^\uFEFF?WEBVTT/.test(text))
    throw new BadInputError(`${file}: not WebVTT (no WEBVTT header)`);
  return parseCues(text);
}

/** A text subtitle stream of a media file (by absolute stream index), converted by ffmpeg to WebVTT. */
export async function readSubtitleStream(
  tools: MediaTools,
  file: string,
  streamIndex: number,
  signal?: AbortSignal,
): Promise<Cue[]> {
  try {
    const out = await runTool(
      tools.ffmpeg,
      [
        '-v',
        'error',
        '-nostdin',
        '-i',
        file,
        '-map',
        `0:${streamIndex}`,
        '-c:s',
        'webvtt',
        '-f',
        'webvtt',
        'pipe:1',
      ],
      { signal, maxBuffer: 64 << 20 },
    );
    return parseCues(out.toString('utf8'));
  } catch (err) {
    if (err instanceof MediaToolError) {
      throw new BadInputError(`subtitle stream ${streamIndex} cannot be read as text: ${err.message}`);
    }
    throw err;
  }
}
