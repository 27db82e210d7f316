/** A least-recently-used cache of byte buffers under a total size budget. */
export class ByteLru {
  readonly #items = new Map<string, Buffer>();
  #bytes = 0;

  constructor(readonly budgetBytes: number) {}

  get(key: string): Buffer | undefined {
    const v = this.#items.get(key);
    if (v) {
      this.#items.delete(key);
      this.#items.set(key, v);
    }
    return v;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.budgetBytes) return;
    const old = this.#items.get(key);
    if (old) {
      this.#bytes -= old.length;
      this.#items.delete(key);
    }
    this.#items.set(key, value);
    this.#bytes += value.length;
    for (const [k, v] of this.#items) {
      if (this.#bytes <= this.budgetBytes) break;
      this.#items.delete(k);
      this.#bytes -= v.length;
    }
  }

  get size(): number {
    return this.#items.size;
  }

  get bytes(): number {
    return this.#bytes;
  }
}

/** At most `n` holders at once; the rest wait in order. */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(n: number) {
    this.#free = n;
  }

  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await f();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** Concurrent calls for the same key share one promise until it settles. */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  run(key: string, f: () => Promise<T>): Promise<T> {
    let p = this.#inflight.get(key);
    if (!p) {
      p = f().finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }
}
