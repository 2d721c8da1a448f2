'use strict';
const { prisma } = require('../../lib/prisma');
const { cached, invalidate } = require('../../lib/cache');

/** GET /tasks/:id, PATCH /tasks/:id */
function tasksRoutes(app) {
  app.get('/tasks/:id', async (req, reply) => {
    const { id } = req.params;
    const task = await cached(`tasks:task:${id}`, 60, () =>
      prisma.task.findUnique({
        where: { id },
        select: {
          id: true,
          title: true,
          status: true,
          priority: true,
          dueDate: true,
          machineId: true,
          assignedToId: true,
          machine: { select: { id: true, code: true, status: true, location: { select: { id: true, name: true } } } },
          assignedTo: { select: { id: true, name: true } },
        },
      }),
    );
    if (!task) return reply.code(404).send({ error: `task ${id} not found` });
    return task;
  });

  app.patch('/tasks/:id', async (req) => {
    const { id } = req.params;
    const { status, actorId } = req.body;
    const task = await prisma.task.update({ where: { id }, data: { status }, select: { id: true, status: true, machineId: true } });
    await prisma.auditLog.create({ data: { userId: actorId, action: 'task.status', entity: 'Task', entityId: id, changes: { status } } });
    // The machine page lists its tasks and counts them; user pages count theirs.
    await invalidate(`tasks:task:${id}`, `machines:machine:${task.machineId}`, 'machines:location:*', 'auth:user:*');
    return task;
  });
}

module.exports = { tasksRoutes };
