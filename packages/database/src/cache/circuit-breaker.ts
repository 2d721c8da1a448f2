export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through. */
  readonly openMs: number;
}

/**
 * Stops calls to a store that keeps failing. Closed: every call goes through. After
 * `failureThreshold` failures in a row it opens: calls are refused without touching the store.
 * After `openMs` exactly one call (the probe) is allowed; its success closes the circuit, its
 * failure opens it again for another `openMs`.
 */
export class CircuitBreaker {
  readonly #opts: CircuitBreakerOptions;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probing = false;
  #opens = 0;

  constructor(opts: CircuitBreakerOptions, now: () => number = Date.now) {
    this.#opts = opts;
    this.#now = now;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#opts.openMs) return 'half-open';
    return this.#state;
  }

  /** How many times the circuit has opened since start. */
  get opens(): number {
    return this.#opens;
  }

  /** True if a call may go to the store now; in half-open state only the first caller gets true. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probing) return false;
    this.#state = 'half-open';
    this.#probing = true;
    return true;
  }

  success(): void {
    // A late reply to a call sent before the circuit opened proves little; only the probe closes it.
    if (this.#state !== 'closed' && !this.#probing) return;
    this.#failures = 0;
    this.#probing = false;
    this.#state = 'closed';
  }

  failure(): void {
    this.#failures++;
    const wasProbe = this.#probing;
    this.#probing = false;
    if (wasProbe || (this.#state === 'closed' && this.#failures >= this.#opts.failureThreshold)) {
      this.#state = 'open';
      this.#openedAt = this.#now();
      this.#opens++;
    }
  }
}
