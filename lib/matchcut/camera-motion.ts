// Camera motion between two gray frames from block matching: each block of a grid finds its shift (SAD search
// with a sub-pixel parabola fit), then a weighted least-squares fit of pan + zoom, flow(p) = t + s·(p − centre).
// Blocks without texture (sky, walls) say nothing about motion and get no weight.

export interface GrayFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface CameraStep {
  /** Content shift in pixels from the first frame to the second (a pan to the right moves content left). */
  tx: number;
  ty: number;
  /** Relative scale change (> 0: content grows, the camera zooms in). */
  s: number;
  /** Fraction of the frame's blocks with enough texture to be trusted (0: no estimate). */
  support: number;
}

export interface MotionGrid {
  cols: number;
  rows: number;
  /** Search radius in pixels. */
  radius: number;
}

export const DEFAULT_GRID: MotionGrid = { cols: 4, rows: 3, radius: 4 };
/** Mean absolute horizontal + vertical gradient below which a block is featureless. */
const MIN_TEXTURE = 2;

interface BlockFlow {
  cx: number;
  cy: number;
  fx: number;
  fy: number;
  w: number;
}

function texture(f: GrayFrame, x0: number, y0: number, bw: number, bh: number): number {
  const { width: w, data } = f;
  let sum = 0;
  for (let y = y0; y < y0 + bh - 1; y++) {
    for (let x = x0; x < x0 + bw - 1; x++) {
      const i = y * w + x;
      sum += Math.abs(data[i + 1]! - data[i]!) + Math.abs(data[i + w]! - data[i]!);
    }
  }
  return sum / ((bw - 1) * (bh - 1));
}

function sad(
  a: GrayFrame,
  b: GrayFrame,
  x0: number,
  y0: number,
  bw: number,
  bh: number,
  dx: number,
  dy: number,
) {
  const w = a.width;
  const A = a.data;
  const B = b.data;
  let sum = 0;
  for (let y = y0; y < y0 + bh; y++) {
    let ia = y * w + x0;
    let ib = (y + dy) * w + x0 + dx;
    for (let x = 0; x < bw; x++, ia++, ib++) sum += Math.abs(A[ia]! - B[ib]!);
  }
  return sum;
}

/** Vertex offset of the parabola through (−1, l), (0, c), (1, r), clamped to ±0.5. */
function subPixel(l: number, c: number, r: number): number {
  const d = l - 2 * c + r;
  if (!(d > 0)) return 0;
  return Math.max(-0.5, Math.min(0.5, (l - r) / (2 * d)));
}

function blockFlows(a: GrayFrame, b: GrayFrame, grid: MotionGrid): BlockFlow[] {
  const R = grid.radius;
  const bw = Math.floor((a.width - 2 * R) / grid.cols);
  const bh = Math.floor((a.height - 2 * R) / grid.rows);
  if (bw < 4 || bh < 4)
    throw new RangeError(`frames of ${a.width}×${a.height} are too small for the motion grid`);
  const side = 2 * R + 1;
  const costs = new Float64Array(side * side);
  const flows: BlockFlow[] = [];
  for (let gy = 0; gy < grid.rows; gy++) {
    for (let gx = 0; gx < grid.cols; gx++) {
      const x0 = R + gx * bw;
      const y0 = R + gy * bh;
      const tex = texture(a, x0, y0, bw, bh);
      if (tex < MIN_TEXTURE) continue;
      let best = Number.POSITIVE_INFINITY;
      let bx = 0;
      let by = 0;
      for (let dy = -R; dy <= R; dy++) {
        for (let dx = -R; dx <= R; dx++) {
          const c = sad(a, b, x0, y0, bw, bh, dx, dy);
          costs[(dy + R) * side + dx + R] = c;
          if (c < best || (c === best && Math.abs(dx) + Math.abs(dy) < Math.abs(bx) + Math.abs(by))) {
            best = c;
            bx = dx;
            by = dy;
          }
        }
      }
      // A minimum on the search border may lie beyond it: the block moved too far to measure.
      if (Math.abs(bx) === R || Math.abs(by) === R) continue;
      const at = (dx: number, dy: number) => costs[(dy + R) * side + dx + R]!;
      const fx = bx + subPixel(at(bx - 1, by), best, at(bx + 1, by));
      const fy = by + subPixel(at(bx, by - 1), best, at(bx, by + 1));
      flows.push({ cx: x0 + bw / 2 - a.width / 2, cy: y0 + bh / 2 - a.height / 2, fx, fy, w: tex });
    }
  }
  return flows;
}

/** Solves the 3×3 system m·x = v by Cramer's rule; undefined when singular. */
function solve3(m: number[][], v: number[]): number[] | undefined {
  const det = (k: number[][]) =>
    k[0]![0]! * (k[1]![1]! * k[2]![2]! - k[1]![2]! * k[2]![1]!) -
    k[0]![1]! * (k[1]![0]! * k[2]![2]! - k[1]![2]! * k[2]![0]!) +
    k[0]![2]! * (k[1]![0]! * k[2]![1]! - k[1]![1]! * k[2]![0]!);
  const d = det(m);
  if (Math.abs(d) < 1e-9) return undefined;
  return [0, 1, 2].map((c) => det(m.map((row, r) => row.map((x, j) => (j === c ? v[r]! : x)))) / d);
}

/** The camera's pan and zoom from frame `a` to frame `b` (same size, gray). */
export function cameraStep(a: GrayFrame, b: GrayFrame, grid: MotionGrid = DEFAULT_GRID): CameraStep {
  const flows = blockFlows(a, b, grid);
  const none = { tx: 0, ty: 0, s: 0, support: 0 };
  if (flows.length < 3) return { ...none, support: flows.length / (grid.cols * grid.rows) };
  // Unknowns (tx, ty, s): fx = tx + s·cx, fy = ty + s·cy, weighted by texture.
  let sw = 0;
  let scx = 0;
  let scy = 0;
  let sr2 = 0;
  let sfx = 0;
  let sfy = 0;
  let sproj = 0;
  for (const f of flows) {
    sw += f.w;
    scx += f.w * f.cx;
    scy += f.w * f.cy;
    sr2 += f.w * (f.cx * f.cx + f.cy * f.cy);
    sfx += f.w * f.fx;
    sfy += f.w * f.fy;
    sproj += f.w * (f.fx * f.cx + f.fy * f.cy);
  }
  const x = solve3(
    [
      [sw, 0, scx],
      [0, sw, scy],
      [scx, scy, sr2],
    ],
    [sfx, sfy, sproj],
  );
  if (!x) return none;
  return { tx: x[0]!, ty: x[1]!, s: x[2]!, support: flows.length / (grid.cols * grid.rows) };
}
