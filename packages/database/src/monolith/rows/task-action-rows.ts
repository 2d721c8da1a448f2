import { array, json, line, nullableText, text, timestamp } from '../copy-text.ts';
import type { RowSource } from '../copy-rows.ts';
import type { MonolithContext } from '../monolith-context.ts';
import { ACTIONS_PER_TASK } from '../monolith-counts.ts';
import { ACTIONS, COMMENTS } from '../vocabulary.ts';
import { covering, photoUrl } from './realistic-values.ts';
import { taskCreatedAt } from './task-rows.ts';

/** What field staff did on a task, with photos and GPS; ACTIONS_PER_TASK rows per task. */
export function taskActionRows(ctx: MonolithContext): RowSource {
  const r = ctx.random('TaskAction');
  const count = ctx.counts.TaskAction;
  const taskCreated = taskCreatedAt(ctx);
  const id = ctx.idFactory('TaskAction');
  const { Task: tasks, User: users } = ctx.ids;
  return {
    table: 'TaskAction',
    columns: ['id', 'taskId', 'userId', 'action', 'comment', 'location', 'photoUrls', 'metadata', 'createdAt'],
    count,
    row(i) {
      const task = Math.floor(i / ACTIONS_PER_TASK);
      const step = i % ACTIONS_PER_TASK;
      const created = taskCreated(task) + (step + 1) * 900_000;
      r.at(i);
      const photos = i === 1 ? null : i === 2 ? [] : Array.from({ length: r.int(4) }, () => photoUrl(r, 'task-photos'));
      return line([
        id(i),
        tasks[task] as string,
        r.pick(users),
        r.pick(ACTIONS),
        text(covering(COMMENTS, i, r)),
        nullableText(i === 0 || r.chance(0.4) ? null : `${r.amount(41.2, 55.9, 5)},${r.amount(37.4, 69.4, 5)}`),
        array(photos),
        json(i === 3 || r.chance(0.3) ? null : { device: r.pick(['iPhone 13', 'Redmi Note 12', 'Samsung A54']), app: '3.2.1', battery: r.int(101), offline: r.chance(0.1) }),
        timestamp(created + r.int(600_000)),
      ]);
    },
  };
}
