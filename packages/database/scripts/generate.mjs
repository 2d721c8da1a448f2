#!/usr/bin/env node
// Generates every Prisma client (one per service, plus the monolith's) without network access.
// `prisma generate` insists on locating a schema-engine binary, which it would otherwise download;
// it never runs it for generation, so any existing executable satisfies the check.
// `node scripts/generate.mjs auth tasks` generates only those (what `split scaffold` touched).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const stub = process.env.PRISMA_SCHEMA_ENGINE_BINARY || ['/bin/true', '/usr/bin/true'].find(existsSync);
if (!stub) {
  console.error('generate: no executable to stand in for the schema engine; set PRISMA_SCHEMA_ENGINE_BINARY');
  process.exit(1);
}
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: stub,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
  PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1',
};
const schemas = readdirSync(join(root, 'prisma'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'prisma', d.name, 'schema.prisma')))
  .map((d) => d.name)
  .filter((name) => process.argv.length <= 2 || process.argv.slice(2).includes(name))
  .sort();
for (const name of schemas) {
  const schema = join('prisma', name, 'schema.prisma');
  const r = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', schema], { cwd: root, env, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    console.error(`generate: prisma generate failed for ${schema}`);
    process.exit(1);
  }
  console.log(`generated ${name} client`);
}
