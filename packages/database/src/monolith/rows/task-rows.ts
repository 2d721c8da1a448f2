import { line, nullableText, nullableTimestamp, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import { createdAtOf, DAY, type MonolithContext } from '../monolith-context.ts';
import { TASK_PRIORITIES, TASK_STATUSES } from '../monolith-enums.ts';
import { TASK_TITLES } from '../vocabulary.ts';
import { covering } from './realistic-values.ts';

/**
 * Creation time of task t. It is the first draw of the task's row, so task actions can recompute
 * it with their own generator instance and stay after their task.
 */
export function taskCreatedAt(ctx: MonolithContext): (task: number) => number {
  const r = ctx.random('Task');
  const createdAt = createdAtOf('Task', ctx.counts.Task, r);
  return (task) => {
    r.at(task);
    return createdAt(task);
  };
}

/** Work orders: refills, collections, repairs; unassigned while CREATED, completed ones timestamped. */
export function taskRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('Task');
  const count = ctx.counts.Task;
  const createdAt = createdAtOf('Task', count, r);
  const { User: users, Machine: machines } = ctx.ids;
  return {
    table: 'Task',
    columns: ['id', 'title', 'description', 'status', 'priority', 'dueDate', 'completedAt', 'machineId', 'assignedToId', 'createdById', 'createdAt', 'updatedAt'],
    count,
    row(i) {
      r.at(i);
      const created = createdAt(i);
      const status = covering(TASK_STATUSES, i, r);
      const completed = status === 'COMPLETED' ? created + r.between(600_000, 3 * DAY) : null;
      const title = r.pick(TASK_TITLES);
      return line([
        ctx.ids.Task[i] as string,
        text(title),
        text(i === 0 || r.chance(0.2) ? '' : `${title}. Адрес уточнить у диспетчера; ключ — у охраны.`),
        status,
        covering(TASK_PRIORITIES, i, r),
        nullableTimestamp(i === 1 || r.chance(0.3) ? null : created + r.between(1, 7) * DAY),
        nullableTimestamp(completed),
        nullableText(i === 2 || r.chance(0.1) ? null : r.pick(machines)),
        nullableText(status === 'CREATED' ? null : r.pick(users)),
        r.pick(users),
        timestamp(created),
        timestamp(completed ?? created + r.int(DAY)),
      ]);
    },
  };
}
