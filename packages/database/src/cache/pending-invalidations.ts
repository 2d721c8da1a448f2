/**
 * Generation keys whose bump could not be delivered (Redis down, slow, circuit open). They are
 * bumped again, all at once, before this process reads from the cache again. Memory is bounded:
 * past `limit` keys the set collapses into the `fallback` keys (the service-wide epoch), which
 * invalidate everything the lost keys would have.
 */
export class PendingInvalidations {
  readonly #keys = new Set<string>();
  readonly #limit: number;
  readonly #fallback: readonly string[];

  constructor(limit: number, fallback: readonly string[]) {
    this.#limit = limit;
    this.#fallback = fallback;
  }

  get size(): number {
    return this.#keys.size;
  }

  add(keys: Iterable<string>): void {
    for (const k of keys) this.#keys.add(k);
    if (this.#keys.size > this.#limit) {
      this.#keys.clear();
      for (const k of this.#fallback) this.#keys.add(k);
    }
  }

  /** Takes every pending key; on a failed delivery the caller adds them back. */
  drain(): string[] {
    const keys = [...this.#keys];
    this.#keys.clear();
    return keys;
  }
}
