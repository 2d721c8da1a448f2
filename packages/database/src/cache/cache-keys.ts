import { digest } from './canonical-args.ts';

/**
 * Redis key names, all under one prefix. Entries carry the schema version, so a deploy with changed
 * models never reads old shapes; generation keys do not, so a write from either side of a rolling
 * deploy invalidates both versions' entries. Tags are shared by all services: a write in one
 * service can invalidate a tagged read in another.
 *
 *   <prefix>seq                              sequence for fresh generation values
 *   <prefix>epoch                            bumped only when undelivered invalidations overflowed (or an
 *                                            invalidation rule failed): every service's reads depend on it,
 *                                            as the lost keys may include tags that cross services
 *   <prefix><service>:g:<Model>              any write to the model (lists, counts, related reads)
 *   <prefix><service>:u:<Model>              writes whose rows are unknown (updateMany...): all unique reads
 *   <prefix><service>:r:<Model>:<key>=<v>    one row, by one of its unique keys
 *   <prefix>t:<tag>                          a declared tag
 *   <prefix><service>:<version>:e:<Model>:<op>:<args>     an entry (":lease" appended: its fill lease);
 *                                                        <args> is the canonical text, or # + its SHA-1 if long
 */
export class CacheKeys {
  readonly seq: string;
  readonly epoch: string;
  readonly #prefix: string;
  readonly #service: string;

  constructor(prefix: string, service: string) {
    this.#prefix = prefix;
    this.#service = `${prefix}${service}:`;
    this.seq = `${prefix}seq`;
    this.epoch = `${prefix}epoch`;
  }

  list(model: string): string {
    return `${this.#service}g:${model}`;
  }

  anyUnique(model: string): string {
    return `${this.#service}u:${model}`;
  }

  /** `selector` is `<uniqueKeyName>=<normalized value>`; long ones are digested. */
  row(model: string, selector: string): string {
    return `${this.#service}r:${model}:${selector.length > 120 ? `#${digest(selector)}` : selector}`;
  }

  tag(tag: string): string {
    return `${this.#prefix}t:${tag}`;
  }

  /** Short argument texts are used as they are (readable in redis-cli, no hashing on the hot path); long ones are digested. */
  entry(version: string, model: string, operation: string, canonical: string): string {
    const args = canonical.length <= 160 ? canonical : `#${digest(canonical)}`;
    return `${this.#service}${version}:e:${model}:${operation}:${args}`;
  }

  lease(entryKey: string): string {
    return `${entryKey}:lease`;
  }

  /** Prefixes covering every generation key a read of this service can depend on (for Redis client tracking). */
  generationPrefixes(): string[] {
    return [`${this.#service}g:`, `${this.#service}u:`, `${this.#service}r:`, `${this.#prefix}t:`, this.epoch];
  }
}
