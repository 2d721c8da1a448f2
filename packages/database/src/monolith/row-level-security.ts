import type pg from 'pg';

/**
 * Row-level security as a Supabase project has it on its exposed tables: enabled (not forced, so
 * the owner and superusers still see every row) with policies for the API roles. Applied after
 * the load, the way a project adds policies after its tables exist.
 */
export const RLS_POLICIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  User: [
    `CREATE POLICY "Staff read their own profile" ON "User" FOR SELECT TO authenticated USING ("email" = auth.email())`,
    `CREATE POLICY "Staff update their own profile" ON "User" FOR UPDATE TO authenticated USING ("email" = auth.email()) WITH CHECK ("email" = auth.email())`,
  ],
  AuditLog: [
    `CREATE POLICY "Staff read their own audit trail" ON "AuditLog" FOR SELECT TO authenticated
       USING ("userId" IN (SELECT u."id" FROM "User" u WHERE u."email" = auth.email()))`,
  ],
  Transaction: [`CREATE POLICY "Signed-in staff read sales" ON "Transaction" FOR SELECT TO authenticated USING (true)`],
  Location: [`CREATE POLICY "Active locations are public" ON "Location" FOR SELECT TO anon, authenticated USING ("isActive")`],
});

export async function enableRowLevelSecurity(client: pg.ClientBase): Promise<void> {
  const sql = Object.entries(RLS_POLICIES)
    .map(([table, policies]) => [`ALTER TABLE "${table}" ENABLE ROW LEVEL SECURITY`, ...policies].join(';\n'))
    .join(';\n');
  await client.query(sql);
}
