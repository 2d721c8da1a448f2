import type { ParsedConnection } from '../config/connection-url.ts';
import { NO_FILTERS, openSchemaEngine } from './schema-engine.ts';

/**
 * The SQL that takes a database from one schema.prisma to another, from the two texts alone: no
 * migration history is replayed, so no shadow database is needed (the engine still opens `pool`
 * for its version checks, and writes nothing there).
 */
export async function diffDatamodels(conn: ParsedConnection, searchPath: string, path: string, from: string, to: string): Promise<string> {
  const h = await openSchemaEngine(conn, searchPath, { path, content: to }, 'diff');
  try {
    const r = await h.engine.diff({
      from: { tag: 'schemaDatamodel', files: [{ path, content: from }] },
      to: { tag: 'schemaDatamodel', files: [{ path, content: to }] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    } as Parameters<typeof h.engine.diff>[0]);
    return r.stdout ?? '';
  } finally {
    await h.close();
  }
}
