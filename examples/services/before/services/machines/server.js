'use strict';
const { serve } = require('../../../common/serve');
const { prisma } = require('../../lib/prisma');
const { closeCache } = require('../../lib/cache');
const { machinesRoutes } = require('./routes');

serve('machines', machinesRoutes, async () => {
  await prisma.close();
  await closeCache();
});
