import type pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';

/**
 * The one place a logical replication stream is opened. `config` comes from `replicationConfig`
 * (the password travels as a function there, so the library's own `{ ...config }` keeps it).
 * Acknowledgements are the caller's: `auto: false`, and no timer (answer keepalives yourself).
 */
export function openReplicationStream(config: Readonly<pg.ClientConfig>): LogicalReplicationService {
  return new LogicalReplicationService({ ...config }, { acknowledge: { auto: false, timeoutSeconds: 0 } });
}

/** The pgoutput decoder for the given publication (protocol 1, logical messages on). */
export function pgoutputPlugin(publication: string): PgoutputPlugin {
  return new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication], messages: true });
}
