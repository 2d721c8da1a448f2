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
