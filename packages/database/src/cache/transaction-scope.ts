import { AsyncLocalStorage } from 'node:async_hooks';

class Frame {
  /** Set once the transaction has started and its client is known. */
  txId: string | undefined;
  readonly keys = new Set<string>();
  constructor(readonly parent: Frame | undefined) {}
}

/**
 * Holds back the invalidations of writes made inside a transaction until it commits: an interactive
 * one, and also a batch, because Prisma answers a batch's successful requests with their rows even
 * when a later request fails and the whole batch rolls back.
 * `run` wraps one `$transaction(async tx => ...)` call in an AsyncLocalStorage frame; writes inside
 * it `defer` their keys to the frame of their own transaction (matched by id, so a write through an
 * unrelated client inside the callback is not held back). A nested transaction hands its keys to
 * the outer frame, because the outer one can still roll back.
 */
export class TransactionScope {
  readonly #als = new AsyncLocalStorage<Frame>();

  /**
   * @param start runs the real `$transaction`; its callback calls `onStart` with the new transaction's id
   * @param nestedIn the id of the transaction this one is nested in (undefined at top level)
   * @param deliver sends the collected keys after the outermost commit
   */
  async run<R>(
    start: (onStart: (txId: string | undefined) => void) => Promise<R>,
    nestedIn: string | undefined,
    deliver: (keys: readonly string[]) => Promise<void>,
  ): Promise<R> {
    const parent = nestedIn === undefined ? undefined : this.#find(nestedIn);
    const frame = new Frame(parent);
    const result = await this.#als.run(frame, () =>
      start((txId) => {
        frame.txId = txId;
      }),
    );
    // Only reached when the transaction committed (or, nested, its savepoint was released).
    if (parent) for (const k of frame.keys) parent.keys.add(k);
    else if (frame.keys.size > 0) await deliver([...frame.keys]);
    return result;
  }

  /** Keeps the keys for after the commit of transaction `txId`; false if no frame of this scope runs it. */
  defer(txId: string, keys: readonly string[]): boolean {
    const frame = this.#find(txId);
    if (!frame) return false;
    // A batch learns its id from its first write (Prisma assigns it inside `$transaction`).
    frame.txId ??= txId;
    for (const k of keys) frame.keys.add(k);
    return true;
  }

  #find(txId: string): Frame | undefined {
    for (let f = this.#als.getStore(); f; f = f.parent) {
      // An unknown id (Prisma internals changed) matches the innermost frame: still after commit.
      if (f.txId === txId || f.txId === undefined) return f;
    }
    return undefined;
  }
}
