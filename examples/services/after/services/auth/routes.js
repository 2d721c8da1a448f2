'use strict';
const { getAuthClient, getTasksClient, attachRelated, relatedCount } = require('@vendhub/database');

/** GET /users/:id, PATCH /users/:id */
function usersRoutes(app) {
  app.get('/users/:id', async (req, reply) => {
    const { id } = req.params;
    const user = await getAuthClient().user.findUnique({
      where: { id },
      select: { id: true, name: true, email: true, roles: true, isActive: true },
      cache: true,
    });
    if (!user) return reply.code(404).send({ error: `user ${id} not found` });
    return attachRelated([user], { _count: { assignedTasks: relatedCount(getTasksClient().task, { on: 'assignedToId' }) } }).then(([u]) => u);
  });

  app.patch('/users/:id', async (req) => {
    const { id } = req.params;
    return getAuthClient().user.update({ where: { id }, data: { name: req.body.name }, select: { id: true, name: true } });
  });
}

module.exports = { usersRoutes };
