#!/usr/bin/env node
// The package ships TypeScript sources (and generated Prisma clients in TypeScript); tsx compiles
// them on load, so there is no build step between `npm ci` and running the tool.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
