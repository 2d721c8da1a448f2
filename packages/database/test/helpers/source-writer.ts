import pg from 'pg';

export interface WriterStats {
  ops: number;
  transactions: number;
  /** Statements refused by the cutover fence (permission denied). */
  refused: number;
  errors: string[];
}

export interface SourceWriter {
  readonly stats: WriterStats;
  stop(): Promise<WriterStats>;
}

/**
 * Writes into the monolith as the non-superuser `service_role` (so a cutover fence stops it):
 * inserts, updates and deletes across every service's tables, some transactions touching several
 * services, deletes followed by re-inserts of the same key, jsonb, arrays, enums, timestamps.
 * About `opsPerSecond` statements per second until `stop()`.
 */
export async function startSourceWriter(url: string, opsPerSecond = 200, tag = 'w', opts: { readonly skipMachines?: readonly string[] } = {}): Promise<SourceWriter> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  await c.query('SET ROLE service_role');
  const ids = async (table: string) => (await c.query<{ id: string }>(`SELECT id FROM public."${table}" ORDER BY id LIMIT 50`)).rows.map((r) => r.id);
  // Machines a test keeps to itself are never picked.
  const machines = (await ids('Machine')).filter((id) => !opts.skipMachines?.includes(id));
  const users = await ids('User');
  const tasks = await ids('Task');
  const items = await ids('InventoryItem');
  const stats: WriterStats = { ops: 0, transactions: 0, refused: 0, errors: [] };
  let stopped = false;
  let n = 0;
  const pick = <T,>(a: T[]) => a[Math.floor(Math.random() * a.length)] as T;
  const mine: string[] = [];
  const txns: string[] = [];

  const step = async (): Promise<number> => {
    n++;
    const id = `${tag}${Date.now().toString(36)}${n}`;
    const k = n % 8;
    if (k === 0) {
      // One transaction across machines, shared, tasks and auth.
      await c.query('BEGIN');
      await c.query(`INSERT INTO public."MachineTelemetry" (id, "machineId", temperature, humidity, sales, errors, "rawData", "createdAt") VALUES ($1, $2, $3, 40.5, 3, ARRAY['E1','door "open"'], $4::jsonb, now())`,
        [id, pick(machines), Math.random() * 10, JSON.stringify({ n, nested: { a: [1, 2, 3] }, s: 'é' })]);
      await c.query(`INSERT INTO public."Transaction" (id, "machineId", amount, currency, "paymentType", status, metadata, "createdAt") VALUES ($1, $2, 12.5, 'RUB', 'card', 'ok', '{"x":1}', now())`, [id, pick(machines)]);
      await c.query(`UPDATE public."Task" SET status = (ARRAY['CREATED','IN_PROGRESS','COMPLETED']::"TaskStatus"[])[1 + $2::int % 3], "updatedAt" = clock_timestamp() WHERE id = $1`, [pick(tasks), n]);
      await c.query(`UPDATE public."User" SET "lastLogin" = clock_timestamp(), roles = ARRAY['ADMIN','OPERATOR']::"UserRole"[] WHERE id = $1`, [pick(users)]);
      await c.query('COMMIT');
      mine.push(id);
      txns.push(id);
      return 4;
    }
    if (k === 1) {
      await c.query(`INSERT INTO public."MachineTelemetry" (id, "machineId", temperature, errors, "rawData") VALUES ($1, $2, 1.25, '{}', '{"big": true}')`, [id, pick(machines)]);
      mine.push(id);
      return 1;
    }
    if (k === 2 && mine.length > 3) {
      await c.query(`UPDATE public."MachineTelemetry" SET temperature = temperature + 1, sales = coalesce(sales, 0) + 1 WHERE id = $1`, [pick(mine)]);
      return 1;
    }
    if (k === 3 && mine.length > 5) {
      const victim = mine.splice(Math.floor(Math.random() * mine.length), 1)[0] as string;
      const t = txns.indexOf(victim);
      if (t >= 0) {
        txns.splice(t, 1);
        await c.query(`DELETE FROM public."Transaction" WHERE id = $1`, [victim]);
      }
      await c.query(`DELETE FROM public."MachineTelemetry" WHERE id = $1`, [victim]);
      return 1;
    }
    if (k === 4) {
      await c.query(`UPDATE public."Machine" SET status = (ARRAY['ONLINE','OFFLINE','MAINTENANCE']::"MachineStatus"[])[1 + $2::int % 3], "lastPing" = clock_timestamp(), metadata = jsonb_build_object('n', $2::int) WHERE id = $1`, [pick(machines), n]);
      return 1;
    }
    if (k === 5) {
      await c.query(`UPDATE public."InventoryItem" SET quantity = quantity + 1, "lastUpdated" = clock_timestamp() WHERE id = $1`, [pick(items)]);
      return 1;
    }
    if (k === 6) {
      await c.query(`INSERT INTO public."AuditLog" (id, "userId", action, entity, "entityId", changes) VALUES ($1, $2, 'update', 'Machine', 'm', '{"a": [1, {"b": null}]}')`, [id, pick(users)]);
      return 1;
    }
    if (mine.length > 2) {
      // Delete and re-insert the same key in one transaction (new content).
      const again = pick(mine);
      await c.query('BEGIN');
      await c.query(`DELETE FROM public."MachineTelemetry" WHERE id = $1`, [again]);
      await c.query(`INSERT INTO public."MachineTelemetry" (id, "machineId", temperature, errors, "rawData") VALUES ($1, $2, -3, ARRAY['again'], '{"re": "inserted"}')`, [again, pick(machines)]);
      await c.query('COMMIT');
      return 2;
    }
    return 0;
  };

  const loop = (async () => {
    const started = Date.now();
    while (!stopped) {
      try {
        const ops = await step();
        stats.ops += ops;
        if (ops) stats.transactions++;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        if ((e as { code?: string }).code === '42501') stats.refused++;
        else if (stats.errors.length < 20) stats.errors.push(String((e as Error).message));
        if ((e as { code?: string }).code === '42501') await new Promise((r) => setTimeout(r, 20));
      }
      const due = started + (stats.ops / opsPerSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stats,
    async stop() {
      stopped = true;
      await loop;
      await c.end().catch(() => {});
      return stats;
    },
  };
}
