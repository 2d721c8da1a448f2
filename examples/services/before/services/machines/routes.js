'use strict';
const { prisma } = require('../../lib/prisma');
const { cached, invalidate } = require('../../lib/cache');

/** GET /machines/:id, GET /locations/:id/machines, PATCH /machines/:id */
function machinesRoutes(app) {
  app.get('/machines/:id', async (req, reply) => {
    const { id } = req.params;
    const machine = await cached(`machines:machine:${id}`, 60, async () => {
      const m = await prisma.machine.findUnique({
        where: { id },
        select: {
          id: true,
          code: true,
          name: true,
          type: true,
          status: true,
          location: { select: { id: true, name: true, address: true } },
          tasks: {
            where: { status: { not: 'CANCELLED' } },
            orderBy: [{ dueDate: 'asc' }, { id: 'asc' }],
            select: {
              id: true,
              title: true,
              status: true,
              priority: true,
              dueDate: true,
              assignedToId: true,
              assignedTo: { select: { id: true, name: true } },
            },
          },
          _count: { select: { tasks: true } },
        },
      });
      if (!m) return null;
      const openTasks = await prisma.task.count({ where: { machineId: id, status: { in: ['ASSIGNED', 'IN_PROGRESS'] } } });
      return { ...m, openTasks };
    });
    if (!machine) return reply.code(404).send({ error: `machine ${id} not found` });
    return machine;
  });

  app.get('/locations/:id/machines', async (req) => {
    const { id } = req.params;
    return cached(`machines:location:${id}`, 60, () =>
      prisma.machine.findMany({
        where: { locationId: id },
        orderBy: { code: 'asc' },
        select: { id: true, code: true, status: true, _count: { select: { tasks: true } } },
      }),
    );
  });

  app.patch('/machines/:id', async (req) => {
    const { id } = req.params;
    const machine = await prisma.machine.update({ where: { id }, data: { status: req.body.status }, select: { id: true, status: true } });
    // Task pages embed the machine: drop theirs too.
    await invalidate('machines:*', 'tasks:*');
    return machine;
  });
}

module.exports = { machinesRoutes };
