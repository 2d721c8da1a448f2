'use strict';
const { serve } = require('../../../common/serve');
const { getAuthClient, getMachinesClient, getTasksClient } = require('@vendhub/database');
const { tasksRoutes } = require('./routes');

serve('tasks', tasksRoutes, async () => {
  await Promise.all([getMachinesClient().close(), getTasksClient().close(), getAuthClient().close()]);
});
