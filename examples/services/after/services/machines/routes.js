'use strict';
const { getAuthClient, getMachinesClient, getTasksClient, attachRelated, relatedCount, relatedMany, relatedOne } = require('@vendhub/database');

// Every read opts into the service clients' Redis cache (`cache: true`, the per-model policies of
// cache-policies.ts). A read of Task goes through the tasks client even here, so a write in the
// tasks service invalidates it: both depend on the tasks service's generation keys in Redis.
const CACHED = { cache: true };

/** GET /machines/:id, GET /locations/:id/machines, PATCH /machines/:id */
function machinesRoutes(app) {
  app.get('/machines/:id', async (req, reply) => {
    const { id } = req.params;
    const m = await getMachinesClient().machine.findUnique({
      where: { id },
      select: {
        id: true,
        code: true,
        name: true,
        type: true,
        status: true,
        location: { select: { id: true, name: true, address: true } },
      },
      ...CACHED,
    });
    if (!m) return reply.code(404).send({ error: `machine ${id} not found` });
    await attachRelated([m], {
      tasks: relatedMany(getTasksClient().task, {
        on: 'machineId',
        where: { status: { not: 'CANCELLED' } },
        orderBy: [{ dueDate: 'asc' }, { id: 'asc' }],
        select: { id: true, title: true, status: true, priority: true, dueDate: true, assignedToId: true },
        args: CACHED,
      }),
      _count: { tasks: relatedCount(getTasksClient().task, { on: 'machineId' }) },
    });
    await attachRelated(m.tasks, { assignedTo: relatedOne(getAuthClient().user, { by: 'assignedToId', select: { id: true, name: true }, args: CACHED }) });
    const openTasks = await getTasksClient().task.count({ where: { machineId: id, status: { in: ['ASSIGNED', 'IN_PROGRESS'] } }, ...CACHED });
    return { ...m, openTasks };
  });

  app.get('/locations/:id/machines', async (req) => {
    const { id } = req.params;
    const machines = await getMachinesClient().machine.findMany({
      where: { locationId: id },
      orderBy: { code: 'asc' },
      select: { id: true, code: true, status: true },
      ...CACHED,
    });
    return attachRelated(machines, { _count: { tasks: relatedCount(getTasksClient().task, { on: 'machineId' }) } });
  });

  app.patch('/machines/:id', async (req) => {
    const { id } = req.params;
    // No invalidation to write by hand: the cache extension bumps Machine's keys, in every service.
    return getMachinesClient().machine.update({ where: { id }, data: { status: req.body.status }, select: { id: true, status: true } });
  });
}

module.exports = { machinesRoutes };
