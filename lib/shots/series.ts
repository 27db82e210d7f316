/** A growable Float32Array: one number per frame, without a JS array's per-element cost. */
export class Series {
  #data: Float32Array;
  #length = 0;

  constructor(initial = 1024) {
    this.#data = new Float32Array(initial);
  }

  get length(): number {
    return this.#length;
  }

  /** Sets index i (filling any gap with NaN). */
  set(i: number, v: number): void {
    if (i >= this.#data.length) {
      let size = this.#data.length * 2;
      while (size <= i) size *= 2;
      const next = new Float32Array(size);
      next.set(this.#data);
      this.#data = next;
    }
    if (i > this.#length) this.#data.fill(Number.NaN, this.#length, i);
    this.#data[i] = v;
    if (i >= this.#length) this.#length = i + 1;
  }

  get(i: number): number {
    return i >= 0 && i < this.#length ? this.#data[i]! : Number.NaN;
  }

  /** A copy of the first `length` values (NaN where nothing was set). */
  toArray(length = this.#length): Float32Array {
    const out = new Float32Array(length).fill(Number.NaN);
    out.set(this.#data.subarray(0, Math.min(length, this.#length)));
    return out;
  }
}
