// `mediamesh matchcut`: starts (or joins) the match-cut query workflow, shows its progress, prints the pairs.
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { MatchCutAnswer } from '../../activities/matchcut.ts';
import { readMatchCutAnswer, startMatchCut } from '../matchcut/client.ts';
import type { MatchCutProgress, MatchCutRequest } from '../matchcut/request.ts';
import type { Session } from './context.ts';
import { table } from './table.ts';

/** Runs the query through the mesh and returns the stored answer. */
export async function runMatchCut(
  s: Session,
  request: MatchCutRequest,
  showProgress: boolean,
): Promise<{ answer: MatchCutAnswer; valueId: string; memoHit: boolean }> {
  const handle = await startMatchCut(s.client, s.config, request);
  const bar = showProgress
    ? new cliProgress.SingleBar(
        { format: 'match cuts {bar} {phase} {value}/{total}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(1, 0, { phase: 'plan' });
  let finished = false;
  const poll = (async () => {
    while (!finished) {
      const p = await handle.query<MatchCutProgress>('progress').catch(() => undefined);
      if (p && bar) {
        bar.setTotal(Math.max(1, p.total));
        bar.update(p.done, { phase: p.phase === 'features' ? 'shots → representations' : p.phase });
      }
      await sleep(250);
    }
  })();
  try {
    const ref = await handle.result();
    return { answer: await readMatchCutAnswer(s.db, ref), valueId: ref.valueId, memoHit: ref.memoHit };
  } finally {
    finished = true;
    await poll;
    bar?.stop();
  }
}

/** 83.4 s → 01:23.40 (minutes:seconds.hundredths). */
export function timecode(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds - 60 * m;
  return `${String(m).padStart(2, '0')}:${s.toFixed(2).padStart(5, '0')}`;
}

export function renderMatchCut(answer: MatchCutAnswer, valueId: string, memoHit: boolean): string {
  const out = table([
    '#',
    'score',
    'shot A (title · shot · frames · time)',
    'shot B (title · shot · frames · time)',
  ]);
  const side = (x: MatchCutAnswer['pairs'][number]['a']) =>
    `${x.title} · #${x.shot} · [${x.frames[0]}, ${x.frames[1]}) · ${timecode(x.seconds[0])}–${timecode(x.seconds[1])}`;
  answer.pairs.forEach((p, i) => {
    out.push([String(i + 1), p.score.toFixed(4), side(p.a), side(p.b)]);
  });
  const lines = [
    out.toString(),
    `${answer.pairs.length} pairs (k=${answer.k}) by ${answer.feature}@${answer.version} over ${answer.shots} shots of ` +
      `${answer.titles.length} title(s), ${answer.method}, ${answer.ms.toFixed(0)} ms; value ${valueId}` +
      `${memoHit ? ' (memo hit)' : ''}`,
  ];
  for (const s of answer.skipped)
    lines.push(`skipped ${s.titleId} asset ${s.asset.slice(0, 12)}: ${s.reason}`);
  return lines.join('\n');
}
