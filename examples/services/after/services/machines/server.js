'use strict';
const { serve } = require('../../../common/serve');
const { getAuthClient, getMachinesClient, getTasksClient } = require('@vendhub/database');
const { machinesRoutes } = require('./routes');

serve('machines', machinesRoutes, async () => {
  await Promise.all([getMachinesClient().close(), getTasksClient().close(), getAuthClient().close()]);
});
