import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { VendhubError } from '../errors/vendhub-error.ts';

const reason = z.string().min(1, 'a reason is required');

const acceptLoss = z.string().min(1, 'acceptLoss needs a reason').optional();

const ColumnRule = z.union([
  z.object({ source: z.string().min(1), acceptLoss }).strict(),
  z.object({ expression: z.string().min(1) }).strict(),
  z.object({ default: z.literal(true) }).strict(),
  z.object({ acceptLoss: z.string().min(1, 'acceptLoss needs a reason') }).strict(),
]);

/**
 * The optional plan file: what the target schemas cannot say. Keys are target model names
 * (`MachineTelemetry`) and field names (`rawData`), the same names the service schemas use.
 *
 * @example
 * {
 *   "sourceSchema": "public",
 *   "tables": { "Machine": { "source": "machines_legacy", "columns": { "serialNumber": { "source": "serial" },
 *                                                                     "metadata": { "expression": "coalesce(\"meta\", '{}')" },
 *                                                                     "lastPing": { "acceptLoss": "sub-millisecond digits are noise" } } } },
 *   "ignore": { "tables": { "OldReport": "replaced by analytics" }, "columns": { "User.legacyFlag": "unused since 2024" } }
 * }
 */
export const PlanFileSchema = z.object({
  sourceSchema: z.string().min(1).optional(),
  tables: z.record(z.string(), z.object({
    source: z.string().min(1).optional(),
    columns: z.record(z.string(), ColumnRule).optional(),
  }).strict()).optional(),
  ignore: z.object({
    tables: z.record(z.string(), reason).optional(),
    columns: z.record(z.string(), reason).optional(),
  }).strict().optional(),
}).strict().superRefine((plan, ctx) => {
  for (const key of Object.keys(plan.ignore?.columns ?? {})) {
    if (!/^[^.]+\.[^.]+$/.test(key)) ctx.addIssue({ code: 'custom', path: ['ignore', 'columns', key], message: 'must be "Table.column"' });
  }
});

export type PlanFile = z.infer<typeof PlanFileSchema>;
export type ColumnRule = z.infer<typeof ColumnRule>;

/** Reads and validates a plan file, listing every problem with its JSON path. */
export function loadPlanFile(path: string | undefined): PlanFile {
  if (!path) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new VendhubError('PLAN_INVALID', `plan file ${path}: ${(e as Error).message}`, { cause: e, hint: 'The plan file is JSON; see README, "Plan file".' });
  }
  const parsed = PlanFileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new VendhubError('PLAN_INVALID', `plan file ${path} is malformed:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
  }
  return parsed.data;
}
