'use strict';
// The one Prisma client every service shares, over the monolith's whole schema: what each service
// did before the split (`new PrismaClient()` there; Prisma 7 needs the driver adapter, which
// @vendhub/database/monolith sets up from MONOLITH_DATABASE_URL).
const { createMonolithClient } = require('@vendhub/database/monolith');

const prisma = createMonolithClient();

module.exports = { prisma };
