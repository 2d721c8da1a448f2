import type pg from 'pg';
import type { LogicalReplicationService, Pgoutput } from 'pg-logical-replication';
import { openReplicationStream, pgoutputPlugin } from '../db/replication-stream.ts';
import type { FollowNames } from './follow-names.ts';
import { bigIntToLsn, lsnToBigInt } from './lsn.ts';

/** Where a change stream comes from: the database that holds the slot and the publication. */
export interface StreamSource {
  /** Connection settings for the replication connection (a direct one: not through PgBouncer). */
  readonly connection: Readonly<pg.PoolConfig>;
  /** For status queries on that database. */
  readonly pool: pg.Pool;
  readonly label: string;
  readonly names: FollowNames;
}

export interface ReceiverEvents {
  /** One pgoutput message; handled before the next one is parsed. */
  message(msg: Pgoutput.Message): void;
  /** A keepalive: the server's position; `shouldRespond`: answer now or the server ends the stream. */
  heartbeat(lsn: string, shouldRespond: boolean): void;
  /** The stream ended, with the error that ended it, or without one. Called once; not after `close()`. */
  end(error?: Error): void;
}

/**
 * The receive stage of a change stream: the replication connection on the slot, its messages,
 * pausing (backpressure) and acknowledgements. Every way the connection ends (an error event, the
 * subscription ending or failing) reaches `end` once.
 */
export class ChangeReceiver {
  readonly #from: StreamSource;
  readonly #events: ReceiverEvents;
  readonly #service: LogicalReplicationService;
  #ended = false;

  constructor(from: StreamSource, events: ReceiverEvents) {
    this.#from = from;
    this.#events = events;
    this.#service = openReplicationStream(from.connection);
    this.#service.on('data', (_lsn: string, msg: Pgoutput.Message) => events.message(msg));
    this.#service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => events.heartbeat(lsn, shouldRespond));
    this.#service.on('error', (e: Error) => this.#end(e));
  }

  start(): void {
    const plugin = pgoutputPlugin(this.#from.names.publication);
    this.#service.subscribe(plugin, this.#from.names.slot).then(() => this.#end(), (e: Error) => this.#end(e));
  }

  /**
   * Tells the slot that everything up to `lsn` (a commit's end) is applied. The library reports
   * `lsn + 1` as flushed (it takes the LSN for a last byte); ours are end positions already.
   * Without the -1 the slot would confirm one byte past a commit, and a transaction whose commit
   * record starts exactly there would be skipped after a restart.
   */
  acknowledge(lsn: string, ping = false): Promise<boolean> {
    return this.#service.acknowledge(bigIntToLsn(lsnToBigInt(lsn) - 1n), ping);
  }

  /** Stops reading from the socket (the server then stops sending), or reads again. */
  pause(paused: boolean): void {
    // The socket under the library (it offers no public handle).
    const socket = (this.#service as unknown as { _connection?: { stream?: { pause(): void; resume(): void } } })._connection?.stream;
    if (paused) socket?.pause();
    else socket?.resume();
  }

  async close(): Promise<void> {
    this.#ended = true;
    await this.#service.destroy().catch(() => {});
  }

  #end(e?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#events.end(e);
  }
}
