import { createRequire } from 'node:module';
import type * as TS from 'typescript';

/**
 * The TypeScript compiler API, loaded with `require`. `import ts from 'typescript'` from an ES
 * module makes Node run its CommonJS export scanner (cjs-module-lexer) over typescript.js (9 MB)
 * before evaluating it: about 0.5 s of CPU at every `services check` start, for nothing (the
 * analyzer uses the namespace, not named exports). Types come from `import type * as TS`.
 */
export const ts: typeof TS = createRequire(import.meta.url)('typescript');
