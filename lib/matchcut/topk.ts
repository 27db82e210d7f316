// A bounded top-K of pairs with a total order: higher score first, then lower i, then lower j. The order is
// what makes results deterministic when scores tie.

export interface Pair {
  /** Integer keys of the two sides (global row indices, or any key < 2^53 that orders them), i < j. */
  i: number;
  j: number;
  score: number;
}

/** True when (s1, i1, j1) ranks before (s2, i2, j2). */
export function ranksBefore(s1: number, i1: number, j1: number, s2: number, i2: number, j2: number): boolean {
  if (s1 !== s2) return s1 > s2;
  if (i1 !== i2) return i1 < i2;
  return j1 < j2;
}

export function comparePairs(a: Pair, b: Pair): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.i !== b.i) return a.i - b.i;
  return a.j - b.j;
}

/** Min-heap of the K best pairs; the root is the worst kept pair (the one the next better pair evicts). */
export class TopKHeap {
  readonly k: number;
  size = 0;
  private readonly s: Float64Array;
  private readonly a: Float64Array;
  private readonly b: Float64Array;

  constructor(k: number) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
    this.k = k;
    this.s = new Float64Array(k);
    this.a = new Float64Array(k);
    this.b = new Float64Array(k);
  }

  get full(): boolean {
    return this.size === this.k;
  }

  /** Score of the worst kept pair; -Infinity while the heap is not full. */
  get worstScore(): number {
    return this.full ? this.s[0]! : Number.NEGATIVE_INFINITY;
  }

  /** Offers a pair; returns whether it was kept. */
  offer(score: number, i: number, j: number): boolean {
    if (this.size < this.k) {
      let n = this.size++;
      while (n > 0) {
        const p = (n - 1) >> 1;
        // Sift up while the new pair ranks below its parent (the root must be the worst).
        if (!ranksBefore(this.s[p]!, this.a[p]!, this.b[p]!, score, i, j)) break;
        this.move(p, n);
        n = p;
      }
      this.set(n, score, i, j);
      return true;
    }
    if (!ranksBefore(score, i, j, this.s[0]!, this.a[0]!, this.b[0]!)) return false;
    let n = 0;
    const size = this.size;
    for (;;) {
      const l = 2 * n + 1;
      if (l >= size) break;
      const r = l + 1;
      // The child that ranks last (the worse one) moves up.
      let w = l;
      if (r < size && ranksBefore(this.s[l]!, this.a[l]!, this.b[l]!, this.s[r]!, this.a[r]!, this.b[r]!))
        w = r;
      if (!ranksBefore(score, i, j, this.s[w]!, this.a[w]!, this.b[w]!)) break;
      this.move(w, n);
      n = w;
    }
    this.set(n, score, i, j);
    return true;
  }

  /** The kept pairs, best first. */
  sorted(): Pair[] {
    const out: Pair[] = [];
    for (let n = 0; n < this.size; n++) out.push({ i: this.a[n]!, j: this.b[n]!, score: this.s[n]! });
    return out.sort(comparePairs);
  }

  private move(from: number, to: number): void {
    this.s[to] = this.s[from]!;
    this.a[to] = this.a[from]!;
    this.b[to] = this.b[from]!;
  }

  private set(n: number, score: number, i: number, j: number): void {
    this.s[n] = score;
    this.a[n] = i;
    this.b[n] = j;
  }
}
