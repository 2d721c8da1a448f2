import { array, bool, line, nullableText, nullableTimestamp, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, DAY, HISTORY_END, type MonolithContext } from '../monolith-context.ts';
import { USER_ROLES } from '../monolith-enums.ts';
import { RowRandom, salt, seedKey } from '../row-random.ts';
import { LATIN_HANDLES } from '../vocabulary.ts';
import { fullName, phone } from './realistic-values.ts';

type Role = (typeof USER_ROLES)[number];

/** The first rows cover single, multiple, empty and NULL role lists; later rows are mostly single. */
const FIRST_ROLES: readonly (readonly Role[] | null)[] = [
  ['ADMIN'], ['MANAGER', 'WAREHOUSE'], ['WAREHOUSE', 'OPERATOR', 'DRIVER'], ['OPERATOR'], ['TECHNICIAN'], ['DRIVER'], [], null,
];
const WEIGHTED_ROLES: readonly Role[] = ['OPERATOR', 'OPERATOR', 'OPERATOR', 'TECHNICIAN', 'TECHNICIAN', 'DRIVER', 'WAREHOUSE', 'MANAGER'];
const BCRYPT = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function rolesOf(i: number, r: ReturnType<MonolithContext['random']>): readonly Role[] | null {
  if (i < FIRST_ROLES.length) return FIRST_ROLES[i] as readonly Role[] | null;
  if (r.chance(0.08)) return [...new Set([r.pick(USER_ROLES), r.pick(USER_ROLES), r.pick(USER_ROLES)])];
  if (r.chance(0.02)) return [];
  return [r.pick(WEIGHTED_ROLES)];
}

/** E-mail of user i; its own generator, so Supabase's auth.users can mirror the first users. */
export function userEmail(ctx: MonolithContext): (i: number) => string {
  const r = new RowRandom(ctx.seed, salt('User.email'));
  return (i) => `${r.at(i).pick(LATIN_HANDLES)}.${i}${r.chance(0.1) ? '+ops' : ''}@vendhub.uz`;
}

/** Staff accounts: operators, technicians, drivers, a few managers and admins. */
export function userRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('User');
  const count = ctx.counts.User;
  const createdAt = createdAtOf('User', count, r);
  const email = userEmail(ctx);
  const telegramBase = 100_000_000 + (seedKey(ctx.seed) % 9973);
  return {
    table: 'User',
    columns: ['id', 'email', 'name', 'passwordHash', 'roles', 'phoneNumber', 'telegramId', 'isActive', 'lastLogin', 'createdAt', 'updatedAt'],
    count,
    row(i) {
      r.at(i);
      const created = createdAt(i);
      const roles = rolesOf(i, r);
      const lastLogin = i === 5 || r.chance(0.15) ? null : created + r.int(HISTORY_END - created);
      return line([
        ctx.ids.User[i] as string,
        text(email(i)),
        text(i === 1 ? 'Алия 🌸 Нурматова' : fullName(r)),
        `$2b$10$${r.chars(53, BCRYPT)}`,
        array(roles),
        nullableText(i === 7 || r.chance(0.2) ? null : phone(r)),
        nullableText(i === 6 || r.chance(0.3) ? null : String(telegramBase + i * 9973)),
        bool(i !== 4 && !r.chance(0.08)),
        nullableTimestamp(lastLogin),
        timestamp(created),
        timestamp(Math.max(created, lastLogin ?? created) + r.int(30 * DAY)),
      ]);
    },
  };
}
