import type pg from 'pg';
import { quoteIdent } from '../sql/quote.ts';
import { ensureRole, type RoleSpec } from './ensure-role.ts';
import { HEX, RowRandom, salt } from './row-random.ts';
import { fullName } from './rows/realistic-values.ts';
import { userEmail } from './rows/user-rows.ts';
import { DAY, SETUP_START, type MonolithContext } from './monolith-context.ts';

/** Supabase's API roles: PostgREST switches to anon/authenticated; service_role skips RLS. */
export const SUPABASE_ROLES: readonly RoleSpec[] = Object.freeze([
  { name: 'anon', login: false, bypassRls: false },
  { name: 'authenticated', login: false, bypassRls: false },
  { name: 'service_role', login: false, bypassRls: true },
]);

/**
 * Extensions a Supabase project has, installed into `extensions` as Supabase does; only those the
 * server offers (`pg_available_extensions`), so a minimal PostgreSQL build still works.
 */
export const SUPABASE_EXTENSIONS = Object.freeze(['uuid-ossp', 'pgcrypto', 'pg_trgm']);

const API_ROLES = 'anon, authenticated, service_role';

/**
 * The parts of a Supabase project that exist before the app's own Prisma migrations: its schemas,
 * roles, grants and default privileges (so the tables Prisma creates next are granted to the API
 * roles, as on Supabase), `auth.users`, `storage.buckets` and the `auth.uid()` family of helpers.
 */
const SCAFFOLD_SQL = `
CREATE SCHEMA IF NOT EXISTS extensions;
GRANT USAGE ON SCHEMA extensions TO ${API_ROLES};

CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO ${API_ROLES};
CREATE TABLE auth.users (
  instance_id uuid,
  id uuid NOT NULL PRIMARY KEY,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamptz,
  updated_at timestamptz,
  phone text UNIQUE DEFAULT NULL,
  is_anonymous boolean NOT NULL DEFAULT false
);
CREATE INDEX users_instance_id_email_idx ON auth.users (instance_id, lower(email));
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid $$;
CREATE OR REPLACE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.role', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'))::text $$;
CREATE OR REPLACE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('request.jwt.claim.email', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'))::text $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA auth TO ${API_ROLES};

CREATE SCHEMA IF NOT EXISTS storage;
GRANT USAGE ON SCHEMA storage TO ${API_ROLES};
CREATE TABLE storage.buckets (
  id text NOT NULL PRIMARY KEY,
  name text NOT NULL,
  owner uuid,
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  public boolean DEFAULT false,
  file_size_limit bigint,
  allowed_mime_types text[]
);
CREATE UNIQUE INDEX bname ON storage.buckets (name);
GRANT ALL ON storage.buckets TO ${API_ROLES};
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
CREATE POLICY "Public buckets are visible" ON storage.buckets FOR SELECT TO anon, authenticated USING (public);
INSERT INTO storage.buckets (id, name, public, file_size_limit, allowed_mime_types, created_at, updated_at) VALUES
  ('machine-photos', 'machine-photos', true, 10485760, '{image/jpeg,image/png}', '2025-09-01 10:00:00+00', '2025-09-01 10:00:00+00'),
  ('task-photos', 'task-photos', false, 5242880, '{image/jpeg}', '2025-09-01 10:00:05+00', '2026-01-15 08:30:00.250+00'),
  ('avatars', 'avatars', true, NULL, NULL, '2025-09-02 12:00:00+00', '2025-09-02 12:00:00+00');

GRANT USAGE ON SCHEMA public TO ${API_ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO ${API_ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO ${API_ROLES};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO ${API_ROLES};
`;

/** Creates roles (cluster-wide, race-safe), then the per-database Supabase scaffolding. */
export async function createSupabaseScaffold(client: pg.ClientBase, ctx: MonolithContext): Promise<void> {
  for (const role of SUPABASE_ROLES) await ensureRole(client, role);
  await client.query(SCAFFOLD_SQL);
  const { rows } = await client.query<{ name: string }>('SELECT name FROM pg_available_extensions WHERE name = ANY($1) ORDER BY name', [SUPABASE_EXTENSIONS]);
  for (const { name } of rows) await client.query(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(name)} WITH SCHEMA extensions`);
  await insertAuthUsers(client, ctx);
}

const AUTH_USERS = 5;

/** The first few staff also have Supabase Auth accounts, with the same e-mail. */
async function insertAuthUsers(client: pg.ClientBase, ctx: MonolithContext): Promise<void> {
  const r = new RowRandom(ctx.seed, salt('auth.users'));
  const email = userEmail(ctx);
  for (let i = 0; i < Math.min(AUTH_USERS, ctx.counts.User); i++) {
    r.at(i);
    const created = new Date(SETUP_START + i * DAY + r.int(DAY));
    await client.query(
      `INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, last_sign_in_at,
         raw_app_meta_data, raw_user_meta_data, is_super_admin, created_at, updated_at)
       VALUES ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, $3, $4, $5, $6, $7, false, $4, $5)`,
      [
        uuidV4(r),
        email(i),
        `$2a$10$${r.chars(53, './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`,
        created.toISOString(),
        i === 2 ? null : new Date(created.getTime() + r.int(200 * DAY)).toISOString(),
        JSON.stringify({ provider: 'email', providers: ['email'] }),
        JSON.stringify({ full_name: fullName(r), locale: 'ru', avatar_url: null }),
      ],
    );
  }
}

function uuidV4(r: RowRandom): string {
  const h = r.chars(32, HEX);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[r.int(4)]}${h.slice(17, 20)}-${h.slice(20)}`;
}
