/**
 * Every place the cache relies on Prisma Client behaviour that is not public API, in one file,
 * each with a fallback. Checked against @prisma/client 7.10; the cache tests exercise each one
 * (transactions, nested transactions, the client's own schema), so an upgrade that changes them
 * fails there first.
 */

export interface TransactionRef {
  readonly kind: 'itx' | 'batch';
  readonly id: string;
}

/**
 * The transaction a query extension call belongs to. Prisma passes its request parameters to
 * query extensions as `__internalParams`; `transaction` is `{ kind: 'itx', id }` inside
 * `$transaction(async tx => ...)` and `{ kind: 'batch', id }` inside `$transaction([...])`.
 * Fallback (property gone): undefined, i.e. the write is treated as committed when it returns,
 * which is wrong only for interactive transactions; the extension then invalidates again later.
 */
export function transactionOf(params: unknown): TransactionRef | undefined {
  const tx = (params as { __internalParams?: { transaction?: { kind?: unknown; id?: unknown } } }).__internalParams?.transaction;
  if (!tx || (tx.kind !== 'itx' && tx.kind !== 'batch')) return undefined;
  return { kind: tx.kind, id: String(tx.id) };
}

const SCOPE = Symbol.for('prisma.client.transaction.scope_context');

/** The interactive transaction a `tx` client belongs to (nested transactions share their parent's id); undefined for a top-level client. */
export function transactionIdOfClient(client: unknown): string | undefined {
  if (client === null || typeof client !== 'object') return undefined;
  const ctx = (client as Record<symbol, { txId?: unknown } | undefined>)[SCOPE];
  return typeof ctx?.txId === 'string' ? ctx.txId : undefined;
}

/** The schema.prisma text the client was generated from (the generated client embeds it). */
export function inlineSchemaOf(client: unknown): string | undefined {
  const schema = (client as { _engineConfig?: { inlineSchema?: unknown } } | null)?._engineConfig?.inlineSchema;
  return typeof schema === 'string' && schema.length > 0 ? schema : undefined;
}

/**
 * The database a client reads, as `host:port/database#schema`, from its driver adapter's
 * connection settings (`@prisma/adapter-pg` keeps the pool's options, or the config it was given,
 * in `config`, and its own options, with `schema`, in `options`). Never includes user or password.
 * Undefined when the adapter does not show them.
 */
export function databaseIdentityOf(client: unknown): string | undefined {
  const adapter = (client as { _engineConfig?: { adapter?: { config?: unknown; options?: { schema?: unknown } } } } | null)?._engineConfig?.adapter;
  const id = connectionIdentity(adapter?.config);
  if (id === undefined) return undefined;
  const schema = typeof adapter?.options?.schema === 'string' ? adapter.options.schema : '';
  return `${id}#${schema}`;
}

/** `host:port/database` of pg connection settings (`{ host, port, database }` or `{ connectionString }`). */
export function connectionIdentity(config: unknown): string | undefined {
  if (config === null || typeof config !== 'object') return undefined;
  const c = config as { host?: unknown; port?: unknown; database?: unknown; connectionString?: unknown };
  let host = typeof c.host === 'string' ? c.host : undefined;
  let port = c.port === undefined ? undefined : String(c.port);
  let database = typeof c.database === 'string' ? c.database : undefined;
  if (typeof c.connectionString === 'string') {
    try {
      const u = new URL(c.connectionString);
      host ??= decodeURIComponent(u.hostname) || u.searchParams.get('host') || undefined;
      port ??= u.port || undefined;
      database ??= decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined;
    } catch {
      return undefined;
    }
  }
  if (host === undefined && database === undefined) return undefined;
  return `${host ?? 'localhost'}:${port ?? '5432'}/${database ?? ''}`;
}

/**
 * Whether query-extension callbacks run after `own` for this call, i.e. extensions applied after
 * the cache that see (and may change) the query below it. Prisma calls each callback as
 * `callbacks[i](params)`, so a callback's `this` is the list of callbacks of the calling client
 * for this model and operation, in order (outermost first). Fallback (not a list holding `own`):
 * undefined, unknown; the cache then relies on checking arguments and results below it.
 */
export function callbacksAfter(self: unknown, own: unknown): boolean | undefined {
  if (!Array.isArray(self)) return undefined;
  const i = self.lastIndexOf(own);
  return i < 0 ? undefined : i < self.length - 1;
}

/**
 * The client's global `omit` option (`new PrismaClient({ omit: { user: { passwordHash: true } } })`).
 * Prisma applies it below every extension, so it is not in a read's arguments; two clients with
 * different global omits must not share entries (one would be served fields it omitted).
 * Fallback: undefined (no global omit known).
 */
export function globalOmitOf(client: unknown): unknown {
  const omit = (client as { _globalOmit?: unknown } | null)?._globalOmit;
  return omit !== null && typeof omit === 'object' && Object.keys(omit).length > 0 ? omit : undefined;
}
