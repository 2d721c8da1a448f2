import { json, line, nullableText, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, type MonolithContext } from '../monolith-context.ts';
import { CURRENCIES, PAYMENT_STATUSES, PAYMENT_TYPES } from '../vocabulary.ts';

/**
 * Sales. Transaction.machineId has no FK in the monolith; `danglingTransactions` rows, spread
 * evenly over the table, name a machine that does not exist (a machine deleted long ago).
 */
export function transactionRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('Transaction');
  const count = ctx.counts.Transaction;
  const dangling = ctx.danglingTransactions;
  const createdAt = createdAtOf('Transaction', count, r);
  const id = ctx.idFactory('Transaction');
  const { Machine: machines } = ctx.ids;
  return {
    table: 'Transaction',
    columns: ['id', 'machineId', 'amount', 'currency', 'paymentType', 'status', 'reference', 'metadata', 'createdAt'],
    count,
    row(i) {
      r.at(i);
      const created = createdAt(i);
      const k = Math.floor((i * dangling) / count);
      const isDangling = Math.floor(((i + 1) * dangling) / count) > k;
      const currency = r.pick(CURRENCIES);
      const amount = currency === 'UZS' ? r.between(2, 40) * 1000 : currency === 'USD' ? r.amount(0.5, 5) : r.amount(40, 450);
      const paymentType = r.pick(PAYMENT_TYPES);
      return line([
        id(i),
        isDangling ? ctx.danglingMachineId(k) : r.pick(machines),
        String(amount),
        currency,
        paymentType,
        r.pick(PAYMENT_STATUSES),
        nullableText(i === 0 || paymentType === 'cash' ? null : `pay_${i.toString(36)}_${r.chars(10, '0123456789abcdef')}`),
        json(i === 1 || r.chance(0.4) ? null : { terminal: `T-${r.between(1000, 9999)}`, rrn: r.chars(12, '0123456789'), items: [{ slot: r.between(1, 10), price: amount }], receipt: r.chance(0.2) ? 'Чек отправлен в ОФД ✅' : null }),
        timestamp(created),
      ]);
    },
  };
}
