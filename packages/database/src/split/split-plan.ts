import type { ServiceName } from '../services.ts';
import type { SoftReference } from '../schema/soft-references.ts';

/** How one target column gets its value. */
export interface ColumnMapping {
  /** Prisma field name (what the plan file and messages use). */
  readonly field: string;
  /** Target column name. */
  readonly target: string;
  readonly kind: 'column' | 'expression';
  /** Source column (kind 'column') or SQL expression over the source row (kind 'expression'). */
  readonly source: string;
  /** Quoted SQL that yields the value in the source, e.g. `"rawData"`. */
  readonly sourceSql: string;
  readonly sourceType: string | undefined;
  readonly targetType: string | undefined;
  /** Why this mapping can change values (narrower precision, scale, length, a dropped time zone). */
  readonly narrowing?: string;
  /** The plan file's reason for accepting that loss for this column; preflight then allows it. */
  readonly acceptedLoss?: string;
}

/** One monolith table → one service table. */
export interface TableMapping {
  readonly model: string;
  readonly service: ServiceName;
  readonly targetSchema: string;
  readonly targetTable: string;
  readonly sourceSchema: string;
  readonly sourceTable: string;
  readonly columns: readonly ColumnMapping[];
  /** Target columns left to their default or NULL (no source), said in the plan. */
  readonly defaulted: readonly string[];
  /** Source primary-key column used for chunking and verify (first PK column); undefined: no PK. */
  readonly sourceKey: string | undefined;
  /** The target column the source key lands in. */
  readonly targetKey: string | undefined;
  /** Models of the same service this one references by foreign key: copied first. */
  readonly dependsOn: readonly string[];
  /** COPY in binary when every column's binary form is the same on both sides; text otherwise. */
  readonly format: 'binary' | 'text';
  readonly estimate: number;
}

export interface IgnoredTable {
  readonly table: string;
  readonly reason: string;
}

export interface IgnoredColumn {
  readonly table: string;
  readonly column: string;
  readonly reason: string;
}

export interface SplitPlan {
  readonly sourceSchema: string;
  readonly tables: readonly TableMapping[];
  readonly ignoredTables: readonly IgnoredTable[];
  readonly ignoredColumns: readonly IgnoredColumn[];
  /** Other schemas of the source (Supabase's own and any other), listed, not copied. */
  readonly outOfScope: readonly { schema: string; tables: number; supabase: boolean }[];
  readonly softReferences: readonly SoftReference[];
  /** Identifies the mapping: a resumed run must have the same. */
  readonly hash: string;
}
