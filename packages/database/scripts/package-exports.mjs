#!/usr/bin/env node
// The package's `exports` map, derived from the services (every prisma/<service>/ with a
// schema.prisma, as generate.mjs finds them): "." and one "./<service>" entry per service client,
// each pointing at the built JavaScript in dist/ with its .d.ts, plus "./monolith" (one client over
// the monolith's whole schema, for services not yet moved) and "./eslint". `--write` updates package.json,
// `--check` exits 1 when package.json differs (a service was added without regenerating).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = (path) => ({ types: `./dist/${path}.d.ts`, default: `./dist/${path}.js` });

export function packageExports() {
  const services = readdirSync(join(root, 'prisma'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'monolith' && existsSync(join(root, 'prisma', d.name, 'schema.prisma')))
    .map((d) => d.name)
    .sort();
  return {
    '.': entry('index'),
    ...Object.fromEntries(services.map((s) => [`./${s}`, entry(`clients/${s}.client`)])),
    './monolith': entry('clients/monolith.client'),
    './eslint': entry('eslint/plugin'),
    './package.json': './package.json',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = join(root, 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  const want = packageExports();
  if (process.argv.includes('--write')) {
    pkg.exports = want;
    writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
  } else if (JSON.stringify(pkg.exports) !== JSON.stringify(want)) {
    console.error('package.json exports differ from the services; run: node scripts/package-exports.mjs --write');
    if (process.argv.includes('--check')) process.exit(1);
  } else console.log(JSON.stringify(want, null, 2));
}
