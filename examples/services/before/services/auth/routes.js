'use strict';
const { prisma } = require('../../lib/prisma');
const { cached, invalidate } = require('../../lib/cache');

/** GET /users/:id, PATCH /users/:id */
function usersRoutes(app) {
  app.get('/users/:id', async (req, reply) => {
    const { id } = req.params;
    const user = await cached(`auth:user:${id}`, 60, () =>
      prisma.user.findUnique({
        where: { id },
        select: { id: true, name: true, email: true, roles: true, isActive: true, _count: { select: { assignedTasks: true } } },
      }),
    );
    if (!user) return reply.code(404).send({ error: `user ${id} not found` });
    return user;
  });

  app.patch('/users/:id', async (req) => {
    const { id } = req.params;
    const user = await prisma.user.update({ where: { id }, data: { name: req.body.name }, select: { id: true, name: true } });
    // Machine and task pages show the assignee's name.
    await invalidate(`auth:user:${id}`, 'machines:machine:*', 'tasks:task:*');
    return user;
  });
}

module.exports = { usersRoutes };
