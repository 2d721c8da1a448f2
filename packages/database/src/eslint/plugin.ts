import { relative } from 'node:path';
import { analyzeSource } from '../services-check/analyze-source.ts';
import { checkSetup, skipReason, type CheckSetup } from '../services-check/check-tree.ts';
import { KIND_INFO } from '../services-check/finding.ts';
import { fixEdits } from '../services-check/fix-source.ts';
import { serviceOfPath } from '../services-check/path-mapping.ts';

/** Options of `@vendhub/database/no-cross-service`, the same as `vendhub-db services check`'s. */
export interface RuleOptions {
  map?: string[];
  clientNames?: string[];
  prismaDir?: string;
  includeGenerated?: boolean;
}

// The narrow part of ESLint's rule API this rule uses (no dependency on ESLint's types).
interface RuleContext {
  readonly options: readonly RuleOptions[];
  readonly filename: string;
  readonly cwd?: string;
  readonly sourceCode: { readonly text: string; getIndexFromLoc?(loc: { line: number; column: number }): number };
  report(d: { loc: { start: { line: number; column: number }; end: { line: number; column: number } }; message: string; fix?: (fixer: RuleFixer) => unknown }): void;
}
interface RuleFixer {
  replaceTextRange(range: [number, number], text: string): unknown;
}

const setups = new Map<string, CheckSetup>();
function setupFor(o: RuleOptions): CheckSetup {
  const key = JSON.stringify(o);
  let s = setups.get(key);
  if (!s) setups.set(key, (s = checkSetup(o)));
  return s;
}

/**
 * The `services check` engine as an ESLint rule: the same findings, in the editor and in CI. The
 * file is analysed from its text with the same parser, so it works whatever parser ESLint uses
 * for the file; the autofix is the `services fix` codemod.
 */
export const noCrossServiceRule = {
  meta: {
    type: 'problem' as const,
    docs: { description: "Prisma calls that break or lose integrity once the monolith is split into services" },
    fixable: 'code' as const,
    schema: [
      {
        type: 'object',
        properties: {
          map: { type: 'array', items: { type: 'string' } },
          clientNames: { type: 'array', items: { type: 'string' } },
          prismaDir: { type: 'string' },
          includeGenerated: { type: 'boolean' },
        },
        additionalProperties: false,
      },
    ],
  },
  create(context: RuleContext) {
    return {
      Program() {
        const opts = context.options[0] ?? {};
        const setup = setupFor(opts);
        const file = context.filename;
        // Backup files and generated code: skipped as the CLI skips them (ESLint's ignores do the rest).
        const text = context.sourceCode.text;
        if (skipReason(file, file.replace(/\\/g, '/'), setup, Boolean(opts.includeGenerated), text)) return;
        const rel = context.cwd ? relative(context.cwd, file) : undefined;
        const service = serviceOfPath(file, setup.rules, setup.ownership.services, rel && !rel.startsWith('..') ? rel : undefined);
        const result = analyzeSource({ file, text, service, ownership: setup.ownership, clientNames: setup.clientNames });
        for (const f of result.findings) {
          if (f.kind === 'unparsable') continue; // ESLint reports its own parse errors
          const fix = result.fixes.find((x) => x.finding === f);
          context.report({
            loc: { start: { line: f.line, column: f.column - 1 }, end: { line: f.endLine, column: f.endColumn - 1 } },
            message: `${f.kind} (${KIND_INFO[f.kind].level}): ${f.message}. Fix: ${f.fix}`,
            ...(fix
              ? { fix: (fixer: RuleFixer) => fixEdits(text, file, [fix], result.module).map((e) => fixer.replaceTextRange([e.start, e.end], e.text)) }
              : {}),
          });
        }
      },
    };
  },
};

/**
 * The flat-config plugin.
 *
 * @example
 *   // eslint.config.js
 *   import vendhub from '@vendhub/database/eslint';
 *   export default [vendhub.configs.recommended];
 */
const plugin = {
  meta: { name: '@vendhub/database', version: '0.1.0' },
  rules: { 'no-cross-service': noCrossServiceRule },
  configs: {} as Record<string, unknown>,
};
plugin.configs.recommended = {
  files: ['**/*.{js,cjs,mjs,jsx,ts,cts,mts,tsx}'],
  plugins: { '@vendhub/database': plugin },
  rules: { '@vendhub/database/no-cross-service': 'error' },
};

export default plugin;
