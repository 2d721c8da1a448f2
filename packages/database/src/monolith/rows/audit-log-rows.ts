import { json, line, nullableText, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, type MonolithContext } from '../monolith-context.ts';
import { AUDIT_ACTIONS, AUDIT_ENTITIES, USER_AGENTS } from '../vocabulary.ts';
import { ipAddress } from './realistic-values.ts';

/** Who changed what: the entity ids are soft references (no FK), as in the monolith. */
export function auditLogRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('AuditLog');
  const count = ctx.counts.AuditLog;
  const createdAt = createdAtOf('AuditLog', count, r);
  const id = ctx.idFactory('AuditLog');
  const transactionId = ctx.idFactory('Transaction');
  const { User: users } = ctx.ids;
  const entityIds: Record<string, readonly string[]> = { Machine: ctx.ids.Machine, Task: ctx.ids.Task, User: users, InventoryItem: ctx.ids.InventoryItem, Location: ctx.ids.Location };
  return {
    table: 'AuditLog',
    columns: ['id', 'userId', 'action', 'entity', 'entityId', 'changes', 'ipAddress', 'userAgent', 'createdAt'],
    count,
    row(i) {
      r.at(i);
      const created = createdAt(i);
      const system = i === 0 || r.chance(0.1);
      const action = r.pick(AUDIT_ACTIONS);
      const entity = r.pick(AUDIT_ENTITIES);
      const ids = entityIds[entity];
      const changes =
        i === 1 || action === 'LOGIN' || action === 'LOGOUT'
          ? null
          : { before: { status: 'OFFLINE', note: null }, after: { status: r.pick(['ONLINE', 'MAINTENANCE']), note: 'Изменено через админку «VendHub»' }, fields: ['status', 'note'] };
      return line([
        id(i),
        nullableText(system ? null : r.pick(users)),
        action,
        entity,
        ids ? r.pick(ids) : transactionId(r.int(ctx.counts.Transaction)),
        json(changes),
        nullableText(system || i === 2 ? null : ipAddress(r)),
        nullableText(system || i === 3 || r.chance(0.05) ? null : r.pick(USER_AGENTS)),
        timestamp(created),
      ]);
    },
  };
}
