import type { CacheCounters, CacheStats } from './cache-metrics.ts';

/** Counter name suffix and help text for each counter, in the order they are printed. */
const COUNTERS: readonly (readonly [keyof CacheCounters, string, string])[] = [
  ['hits', 'hits_total', 'Reads answered from a fresh entry.'],
  ['localHits', 'local_hits_total', "Reads answered from the process's local tier (also in hits_total)."],
  ['misses', 'misses_total', 'Reads that found no valid entry.'],
  ['staleServed', 'stale_served_total', 'Reads answered from an entry past its ttl, within swr.'],
  ['coalescedWaits', 'coalesced_waits_total', "Reads that waited for another caller's database read."],
  ['loads', 'loads_total', 'Database reads made on behalf of cached queries.'],
  ['fills', 'fills_total', 'Entries stored.'],
  ['staleFillsRejected', 'stale_fills_rejected_total', 'Fills refused because a write invalidated the data meanwhile.'],
  ['bypassed', 'bypassed_total', 'Reads that skipped the cache.'],
  ['invalidations', 'invalidations_total', 'Generation keys bumped by writes.'],
  ['invalidationsReplayed', 'invalidations_replayed_total', 'Invalidations delivered after Redis came back.'],
  ['untrackedTransactionWrites', 'untracked_transaction_writes_total', 'Transaction writes invalidated twice (commit not seen).'],
  ['redisErrors', 'redis_errors_total', 'Failed Redis calls, timeouts included.'],
  ['redisTimeouts', 'redis_timeouts_total', 'Redis calls abandoned after the timeout.'],
  ['encodeErrors', 'encode_errors_total', 'Results that could not be encoded.'],
  ['uncacheable', 'uncacheable_total', 'Reads that asked for the cache but had no derivable key or dependencies (read from the database).'],
];

const CIRCUIT_STATES = ['closed', 'open', 'half-open', 'off'] as const;

/**
 * The stats of one or more service clients in the Prometheus text exposition format (0.0.4), for a
 * `/metrics` endpoint: counters, the circuit state as a 0/1 gauge per state, pending invalidations,
 * reads in flight and, when known, the pool's total, idle and waiting connections.
 *
 * @example
 *   res.setHeader('content-type', 'text/plain; version=0.0.4');
 *   res.end(prometheusText([machines.$cache.stats(), inventory.$cache.stats()]));
 */
export function prometheusText(stats: readonly CacheStats[], prefix = 'vendhub_cache_'): string {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge', help: string, samples: readonly string[]) => {
    out.push(`# HELP ${prefix}${name} ${help}`, `# TYPE ${prefix}${name} ${type}`, ...samples);
  };
  const label = (s: CacheStats, extra = '') => `{service="${escapeLabel(s.service)}"${extra}}`;
  for (const [key, name, help] of COUNTERS) family(name, 'counter', help, stats.map((s) => `${prefix}${name}${label(s)} ${s[key]}`));
  family('circuit_opens_total', 'counter', 'Times the circuit breaker opened.', stats.map((s) => `${prefix}circuit_opens_total${label(s)} ${s.circuitOpens}`));
  family('circuit_state', 'gauge', 'Circuit breaker state (1 for the current state).',
    stats.flatMap((s) => CIRCUIT_STATES.map((st) => `${prefix}circuit_state${label(s, `,state="${st}"`)} ${s.circuit === st ? 1 : 0}`)));
  family('enabled', 'gauge', '1 when a Redis is configured and the cache is open.', stats.map((s) => `${prefix}enabled${label(s)} ${s.enabled ? 1 : 0}`));
  family('pending_invalidations', 'gauge', 'Generation keys waiting to be bumped once Redis answers.', stats.map((s) => `${prefix}pending_invalidations${label(s)} ${s.pendingInvalidations}`));
  family('in_flight', 'gauge', 'Database reads in flight on behalf of the cache.', stats.map((s) => `${prefix}in_flight${label(s)} ${s.inFlight}`));
  family('local_entries', 'gauge', 'Copies held by the local tier (0 when it is off).', stats.map((s) => `${prefix}local_entries${label(s)} ${s.localEntries}`));
  const pooled = stats.filter((s) => s.pool !== undefined);
  if (pooled.length > 0) {
    family('pool_connections', 'gauge', "The service pool's open connections, all (total) and unused (idle).",
      pooled.flatMap((s) => [`${prefix}pool_connections${label(s, ',state="total"')} ${s.pool?.total}`, `${prefix}pool_connections${label(s, ',state="idle"')} ${s.pool?.idle}`]));
    family('pool_waiting', 'gauge', 'Queries waiting for a free connection of the service pool.', pooled.map((s) => `${prefix}pool_waiting${label(s)} ${s.pool?.waiting}`));
  }
  return `${out.join('\n')}\n`;
}

/** Label values escape backslash, double quote and newline (the exposition format's rule). */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
