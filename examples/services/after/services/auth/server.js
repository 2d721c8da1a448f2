'use strict';
const { serve } = require('../../../common/serve');
const { getAuthClient, getTasksClient } = require('@vendhub/database');
const { usersRoutes } = require('./routes');

serve('auth', usersRoutes, async () => {
  await Promise.all([getAuthClient().close(), getTasksClient().close()]);
});
