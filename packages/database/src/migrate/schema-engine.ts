import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParsedConnection } from '../config/connection-url.ts';
import { openDatabase } from '../db/database-handle.ts';
import type { VendhubError } from '../errors/vendhub-error.ts';
import { shadowAwareFactory } from './shadow-database.ts';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine as WasmSchemaEngine } from '@prisma/schema-engine-wasm';

type WasmModule = typeof import('@prisma/schema-engine-wasm');

let loaded: Promise<WasmModule> | undefined;

/**
 * Loads Prisma's schema engine compiled to WebAssembly, so migrations need no downloaded binary.
 * The package's own entry imports a `.wasm` file, which Node cannot import; we instantiate the
 * module by hand with the JS glue as its import object (the glue is what wasm-bindgen generated).
 */
function loadWasm(): Promise<WasmModule> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const dir = dirname(gluePath);
    const glue = (await import(pathToFileURL(gluePath).href)) as WasmModule & {
      __wbg_set_wasm(exports: WebAssembly.Exports): void;
    };
    const module = await WebAssembly.compile(await readFile(join(dir, 'schema_engine_bg.wasm')));
    // The engine arms timers (connection-idle bookkeeping) that would keep a finished CLI process
    // alive for ~10 s; they are housekeeping only, so they must not hold the event loop open.
    const imports: Record<string, unknown> = { ...glue };
    for (const key of Object.keys(imports)) {
      const fn = imports[key];
      if (key.startsWith('__wbg_setTimeout_') && typeof fn === 'function') {
        imports[key] = (...args: unknown[]) => {
          const t = (fn as (...a: unknown[]) => NodeJS.Timeout)(...args);
          t?.unref?.();
          return t;
        };
      }
    }
    const instance = await WebAssembly.instantiate(module, { './schema_engine_bg.js': imports as WebAssembly.ModuleImports });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return loaded;
}

export type SchemaEngine = WasmSchemaEngine;

/** A schema engine plus the pool it owns; `close()` frees both and is safe to call twice. */
export interface EngineHandle {
  readonly engine: SchemaEngine;
  /** Diff engines: why a shadow database could not be created, if that is what failed. */
  shadowFailure(): VendhubError | undefined;
  close(): Promise<void>;
}

/**
 * Opens a schema engine on its own small pool. `searchPath` decides where Prisma's
 * `_prisma_migrations` table lives (the first schema of the connection's search_path): we always
 * pass the service's own schema, so services sharing a database never share a history table.
 */
export async function openSchemaEngine(
  conn: ParsedConnection,
  searchPath: string,
  datamodel?: { path: string; content: string },
  purpose: 'apply' | 'diff' = 'apply',
): Promise<EngineHandle> {
  const wasm = await loadWasm();
  const label = `schema engine on ${conn.databaseKey}`;
  const pgPool = openDatabase(conn, { label, max: 2, searchPath: `"${searchPath}"` }).pool;
  const shadow = purpose === 'diff' ? shadowAwareFactory(conn, pgPool, `"${searchPath}"`, label) : undefined;
  let engine: SchemaEngine;
  try {
    engine = await wasm.SchemaEngine.new(
      { datamodels: datamodel ? [[datamodel.path, datamodel.content]] : undefined },
      () => {},
      // Applying: the engine looks for `_prisma_migrations` in the adapter's schema and creates it
      // in the search_path, so both must name the service's schema. Diffing: the adapter's schema
      // would strip the @@schema qualification from the rendered SQL, so it is left unset.
      // Diffing against a history also needs a shadow database: see shadow-database.ts.
      bindMigrationAwareSqlAdapterFactory((shadow?.factory ?? new PrismaPg(pgPool, { schema: searchPath })) as unknown as Parameters<typeof bindMigrationAwareSqlAdapterFactory>[0]),
    );
  } catch (e) {
    await pgPool.end();
    throw e;
  }
  let closed = false;
  return {
    engine,
    shadowFailure: () => shadow?.failure(),
    async close() {
      if (closed) return;
      closed = true;
      engine.free();
      await shadow?.dropAll();
      await pgPool.end();
    },
  };
}

export const NO_FILTERS = Object.freeze({ externalTables: [] as string[], externalEnums: [] as string[] });

/** Renders the SQL that creates `datamodel` from nothing. */
export async function diffFromEmpty(conn: ParsedConnection, searchPath: string, datamodel: { path: string; content: string }): Promise<string> {
  const h = await openSchemaEngine(conn, searchPath, datamodel, 'diff');
  try {
    const r = await h.engine.diff({
      from: { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [datamodel] },
      script: true,
      exitCode: null,
      filters: NO_FILTERS,
    });
    return r.stdout ?? '';
  } finally {
    await h.close();
  }
}
