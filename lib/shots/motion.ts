// Global motion between two thumbs: the whole-pixel shift (half size) that best maps one onto the other, found
// coarse to fine on luma (quarter size first, then ±1 at half size) with early exit, so a still camera costs one
// pass and a pan a few.
import type { Thumb, ThumbGeometry } from './thumb.ts';

const orders = new Map<number, Int8Array>();

/** The offsets within ±reach as (dx, dy) pairs, nearest first (ties in scan order): the order a search tries. */
function searchOrder(reach: number): Int8Array {
  let order = orders.get(reach);
  if (!order) {
    const pairs: [number, number][] = [];
    for (let dy = -reach; dy <= reach; dy++) for (let dx = -reach; dx <= reach; dx++) pairs.push([dx, dy]);
    pairs.sort((a, b) => Math.abs(a[0]) + Math.abs(a[1]) - (Math.abs(b[0]) + Math.abs(b[1])));
    order = Int8Array.from(pairs.flat());
    orders.set(reach, order);
  }
  return order;
}

/**
 * The shift (dx, dy) within ±radius minimising mean |to(x, y) − from(x + dx, y + dy)| over the inner region
 * (a `radius` margin, the same pixels for every shift), searched around (cx, cy) by ±search.
 */
function search(
  to: Float32Array,
  from: Float32Array,
  w: number,
  h: number,
  radius: number,
  cx: number,
  cy: number,
  reach: number,
): [number, number] {
  let best = Number.POSITIVE_INFINITY;
  let bx = cx;
  let by = cy;
  const order = searchOrder(reach);
  for (let o = 0; o < order.length; o += 2) {
    const dx = cx + order[o]!;
    const dy = cy + order[o + 1]!;
    if (Math.abs(dx) > radius || Math.abs(dy) > radius) continue;
    let sum = 0;
    for (let y = radius; y < h - radius && sum < best; y++) {
      let it = y * w + radius;
      let ifr = (y + dy) * w + radius + dx;
      const stop = it + w - 2 * radius;
      for (; it < stop; it++, ifr++) sum += Math.abs(to[it]! - from[ifr]!);
    }
    if (sum < best) {
      best = sum;
      bx = dx;
      by = dy;
    }
  }
  return [bx, by];
}

/** The whole-pixel (half size) shift within ±radius that best maps `from` onto `to`. */
export function shiftOnto(g: ThumbGeometry, to: Thumb, from: Thumb, radius: number): [number, number] {
  if (radius <= 1) return search(to.halfY, from.halfY, g.w2, g.h2, radius, 0, 0, radius);
  const coarse = search(
    to.quarterY,
    from.quarterY,
    g.w4,
    g.h4,
    Math.ceil(radius / 2),
    0,
    0,
    Math.ceil(radius / 2),
  );
  return search(to.halfY, from.halfY, g.w2, g.h2, radius, 2 * coarse[0], 2 * coarse[1], 1);
}
