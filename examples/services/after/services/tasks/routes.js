'use strict';
const { getAuthClient, getMachinesClient, getTasksClient, attachRelated, relatedOne } = require('@vendhub/database');

const CACHED = { cache: true };

/** GET /tasks/:id, PATCH /tasks/:id */
function tasksRoutes(app) {
  app.get('/tasks/:id', async (req, reply) => {
    const { id } = req.params;
    const task = await getTasksClient().task.findUnique({
      where: { id },
      select: { id: true, title: true, status: true, priority: true, dueDate: true, machineId: true, assignedToId: true },
      ...CACHED,
    });
    if (!task) return reply.code(404).send({ error: `task ${id} not found` });
    await attachRelated([task], {
      machine: relatedOne(getMachinesClient().machine, {
        by: 'machineId',
        select: { id: true, code: true, status: true, location: { select: { id: true, name: true } } },
        args: CACHED,
      }),
      assignedTo: relatedOne(getAuthClient().user, { by: 'assignedToId', select: { id: true, name: true }, args: CACHED }),
    });
    return task;
  });

  app.patch('/tasks/:id', async (req) => {
    const { id } = req.params;
    const { status, actorId } = req.body;
    const task = await getTasksClient().task.update({ where: { id }, data: { status }, select: { id: true, status: true, machineId: true } });
    // Two services, two databases (option 2): no transaction spans them, as before (two statements).
    await getAuthClient().auditLog.create({ data: { userId: actorId, action: 'task.status', entity: 'Task', entityId: id, changes: { status } } });
    return task;
  });
}

module.exports = { tasksRoutes };
