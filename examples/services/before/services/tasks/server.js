'use strict';
const { serve } = require('../../../common/serve');
const { prisma } = require('../../lib/prisma');
const { closeCache } = require('../../lib/cache');
const { tasksRoutes } = require('./routes');

serve('tasks', tasksRoutes, async () => {
  await prisma.close();
  await closeCache();
});
