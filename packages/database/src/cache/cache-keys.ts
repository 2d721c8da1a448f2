import { digest } from './canonical-args.ts';

/**
 * Redis key names, all under one prefix. A service's keys carry the identity of the database it
 * reads (`<service>@<database>`, the database as a short hash), so two deployments sharing a Redis
 * and a prefix (staging and production, a rehearsal on a restored copy) never read each other's
 * entries; tags and the epoch stay shared, as services in different databases invalidate each other. Entries carry the schema version, so a deploy with changed
 * models never reads old shapes; generation keys do not, so a write from either side of a rolling
 * deploy invalidates both versions' entries. Tags are shared by all services: a write in one
 * service can invalidate a tagged read in another.
 *
 *   <prefix>seq                              sequence for fresh generation values
 *   <prefix>epoch                            bumped only when undelivered invalidations overflowed (or an
 *                                            invalidation rule failed): every service's reads depend on it,
 *                                            as the lost keys may include tags that cross services
 *   (<ns> below is <prefix><service>@<database hash>)
 *   <ns>:g:<Model>              any write to the model (lists, counts, related reads)
 *   <ns>:u:<Model>              writes whose rows are unknown (updateMany...): all unique reads
 *   <ns>:r:<Model>:<key>=<v>    one row, by one of its unique keys
 *   <prefix>t:<tag>                          a declared tag
 *   <ns>:<version>:e:<Model>:<op>:<args>     an entry (":lease" appended: its fill lease);
 *                                                        <args> is the canonical text, or # + its SHA-1 if long
 */
export class CacheKeys {
  readonly seq: string;
  readonly epoch: string;
  readonly #prefix: string;
  readonly #service: string;
  readonly #serviceAnyDatabase: string;

  /** `database`: the database's identity (any text, e.g. host:port/name#schema); hashed into the namespace. */
  constructor(prefix: string, service: string, database: string) {
    this.#prefix = prefix;
    this.#serviceAnyDatabase = `${prefix}${service}@`;
    this.#service = `${this.#serviceAnyDatabase}${digest(database).slice(0, 12)}:`;
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

  /**
   * `canonical` is the argument text (canonical-args.ts), optionally followed by `|` and the
   * canonical text of the tags: an argument text is a complete value, so the split is unambiguous.
   * Short texts are used as they are (readable in redis-cli, no hashing on the hot path); long
   * ones are digested (`#` never starts an argument text, which begins with `{`).
   */
  entry(version: string, model: string, operation: string, canonical: string): string {
    const args = canonical.length <= 160 ? canonical : `#${digest(canonical)}`;
    return `${this.#service}${version}:e:${model}:${operation}:${args}`;
  }

  lease(entryKey: string): string {
    return `${entryKey}:lease`;
  }

  /**
   * Prefixes covering every generation key a read of this service can depend on, in any database
   * (for Redis client tracking; the tier is set up before the extension meets its clients).
   */
  generationPrefixes(): string[] {
    return [this.#serviceAnyDatabase, `${this.#prefix}t:`, this.epoch];
  }
}
