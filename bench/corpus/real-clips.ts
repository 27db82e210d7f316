// Ground truth for the real PySceneDetect clips, read off their standardized derivatives (video-360p-h264@1)
// frame by frame; indices are derivative frames. Only clips whose truth is unambiguous are listed.
import path from 'node:path';
import { projectRoot } from '../../lib/config/config.ts';
import type { TruthBoundary } from '../../lib/shots/evaluate.ts';

export const REAL_CLIPS_DIR = path.join(projectRoot, 'test', 'fixtures', 'media', 'pyscenedetect');

export interface RealClip {
  file: string;
  truth: TruthBoundary[];
  note: string;
}

const cut = (boundary: number): TruthBoundary => ({ type: 'hard', boundary, span: [boundary, boundary] });
const gradual = (span: [number, number], boundary: number): TruthBoundary => ({
  type: 'gradual',
  boundary,
  span,
});

export const REAL_CLIPS: RealClip[] = [
  {
    file: 'testvideo.mp4',
    // Stills of a leaf, a deer, a rock and a tyre between black cards: black | cut 30 | leaf | cut 180 | black |
    // fade-in 211–239 | deer | fade-out 331–359 | black | fade-in 394–422 | rock | dissolve 529–557 | tyre, which
    // fades out (661–692) to the black that ends the video: the end of the last shot, not a boundary. The
    // shipped CSV (201, 382) predates the current file.
    truth: [
      cut(30),
      cut(180),
      gradual([211, 240], 211),
      gradual([331, 360], 360),
      gradual([394, 423], 394),
      gradual([529, 558], 544),
    ],
    note: '720 frames at 29.97 fps: 2 cuts, 3 fades, 1 dissolve (and a fade-out at the end)',
  },
  {
    file: 'goldeneye-vfr-drop3.mp4',
    truth: [cut(90), cut(210)],
    note: 'film, 239 derivative frames (dropped frames filled): cuts at 90 and 210',
  },
  {
    file: 'issue-134-rotate.mp4',
    truth: [cut(90), cut(210)],
    note: 'the same film clip stored rotated: cuts at 90 and 210',
  },
  {
    file: 'counter.mp4',
    // The background colour changes under the frame counter at frames 10 and 20.
    truth: [cut(10), cut(20)],
    note: '30 frames at 10 fps: background cuts at 10 and 20',
  },
  {
    file: 'fades.mp4',
    truth: [],
    note: 'a uniform picture fading between black and white: no shot boundary',
  },
  {
    file: 'delayed_start.mp4',
    truth: [],
    note: 'a uniform picture brightening: no shot boundary',
  },
];

export const realClipPath = (clip: RealClip) => path.join(REAL_CLIPS_DIR, clip.file);
