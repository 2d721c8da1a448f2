'use strict';
const { serve } = require('../../../common/serve');
const { prisma } = require('../../lib/prisma');
const { closeCache } = require('../../lib/cache');
const { usersRoutes } = require('./routes');

serve('auth', usersRoutes, async () => {
  await prisma.close();
  await closeCache();
});
