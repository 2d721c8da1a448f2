import { Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
import plugin from '../src/eslint/plugin.ts';
import { analyzeSource } from '../src/services-check/analyze-source.ts';
import { applyEdits, fixEdits } from '../src/services-check/fix-source.ts';
import { loadOwnership } from '../src/services-check/ownership.ts';

const SOURCE = `const prisma = require('../../lib/prisma');

async function list(request) {
  const open = await prisma.task.count({ where: { machineId: request.params.id } });
  await prisma.auditLog.create({ data: { action: 'list', entity: 'Machine', entityId: request.params.id } });
  return prisma.machine.findMany({ include: { tasks: true } });
}
module.exports = { list };
`;
const FILE = '/repo/services/machines/routes.js';
const config = [{ files: ['**/*.js'], languageOptions: { sourceType: 'commonjs' as const, ecmaVersion: 2024 as const }, ...(plugin.configs.recommended as object) }];

describe('the ESLint flat-config plugin', () => {
  it('reports what services check reports, at the same places', () => {
    const linter = new Linter({ configType: 'flat', cwd: '/repo' });
    const messages = linter.verify(SOURCE, config as Linter.Config[], { filename: FILE });
    const engine = analyzeSource({ file: FILE, text: SOURCE, service: 'machines', ownership: loadOwnership() }).findings;
    expect(messages.map((m) => `${m.line}:${m.column} ${m.ruleId}`)).toEqual(engine.map((f) => `${f.line}:${f.column} @vendhub/database/no-cross-service`));
    expect(messages.map((m) => m.message.split(' ')[0])).toEqual(['foreign-model', 'foreign-model', 'cross-service-include']);
    expect(messages[0]!.message).toContain('Task belongs to the tasks service');
    expect(messages.every((m) => m.severity === 2)).toBe(true);
  });

  it("autofix = the codemod: eslint --fix gives the same text as services fix, and a second pass changes nothing", () => {
    const linter = new Linter({ configType: 'flat', cwd: '/repo' });
    const fixed = linter.verifyAndFix(SOURCE, config as Linter.Config[], { filename: FILE });
    const a = analyzeSource({ file: FILE, text: SOURCE, service: 'machines', ownership: loadOwnership() });
    const codemod = applyEdits(SOURCE, fixEdits(SOURCE, FILE, a.fixes, a.module));
    expect(fixed.fixed).toBe(true);
    expect(fixed.output).toBe(codemod);
    expect(fixed.output).toContain("const { getTasksClient, getAuthClient } = require('@vendhub/database');");
    expect(fixed.messages.map((m) => m.message.split(' ')[0])).toEqual(['cross-service-include']);
    expect(linter.verifyAndFix(fixed.output, config as Linter.Config[], { filename: FILE }).fixed).toBe(false);
  });

  it('the path mapping is a rule option', () => {
    const linter = new Linter({ configType: 'flat', cwd: '/repo' });
    const cfg = [{ ...config[0], rules: { '@vendhub/database/no-cross-service': ['error', { map: ['apps/telemetry/**=machines'] }] } }];
    const messages = linter.verify('prisma.user.count();', cfg as unknown as Linter.Config[], { filename: '/repo/apps/telemetry/a.js' });
    expect(messages.map((m) => m.message.split(':')[0])).toEqual(['foreign-model (error)']);
  });
});
