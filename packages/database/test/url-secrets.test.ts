import { describe, expect, it } from 'vitest';
import { loadDatabaseConfig } from '../src/config/database-config.ts';
import { redactText, redactUrl } from '../src/config/redact.ts';
import { VendhubError } from '../src/errors/vendhub-error.ts';
import { runCli } from './helpers/cli.ts';

const S = 'Hunter2Secret';

/**
 * Every shape of URL that carries a secret, each with something wrong so that the URL (redacted)
 * ends up in a message. `secrets` lists every spelling of the secret that must never be printed.
 */
const SHAPES: readonly { name: string; url: string; secrets: readonly string[]; message: RegExp }[] = [
  { name: 'password in the user info, unknown parameter', url: `postgresql://u:${S}@db.example:5432/app?fooparam=1`, secrets: [S], message: /unknown parameter "fooparam"/ },
  { name: '?password=', url: `postgresql://u@db.example/app?password=${S}`, secrets: [S], message: /unknown parameter "password"/ },
  { name: '?sslpassword=', url: `postgresql://u@db.example/app?sslmode=require&sslpassword=${S}`, secrets: [S], message: /unknown parameter "sslpassword"/ },
  { name: 'both, percent-encoded', url: `postgresql://u:${S}%40x@db.example/app?password=${S}%21&sslpassword=${S}%3F`, secrets: [S, `${S}@x`, `${S}!`, `${S}?`], message: /unknown parameter "password"/ },
  { name: 'a token parameter', url: `postgres://u@db.example/app?auth_token=${S}`, secrets: [S], message: /unknown parameter "auth_token"/ },
  { name: 'no database named', url: `postgresql://u:${S}@db.example`, secrets: [S], message: /names no database/ },
  { name: 'wrong scheme', url: `mysql://u:${S}@db.example/app`, secrets: [S], message: /must start with postgresql/ },
  { name: 'bad sslmode', url: `postgresql://u:${S}@db.example/app?sslmode=sometimes&password=${S}`, secrets: [S], message: /sslmode must be one of/ },
  { name: 'IPv6 host', url: `postgresql://u:${S}@[::1]:5432/app?sslpassword=${S}&x=1`, secrets: [S], message: /unknown parameter "x"/ },
  { name: 'not a URL at all', url: `postgresql://u:${S}@db.example:port/app`, secrets: [S], message: /is not a valid URL/ },
  { name: 'raw % in the password', url: `postgresql://u:${S}%@db.example/app`, secrets: [S, `${S}%`], message: /password contains a "%" that is not followed by two hex digits/ },
  { name: 'raw % and hex-looking junk', url: `postgresql://u:100%zz${S}@db.example/app`, secrets: [S, `100%zz${S}`], message: /password contains a "%"/ },
];

describe('secrets in connection URLs never reach output', () => {
  it.each(SHAPES)('$name: CONFIG_INVALID naming the variable, no secret (library)', ({ url, secrets, message }) => {
    let err: unknown;
    try {
      loadDatabaseConfig({ DATABASE_URL: url });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VendhubError);
    const e = err as VendhubError;
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/DATABASE_URL/);
    const all = `${e.message}\n${JSON.stringify(e.details)}\n${e.hint ?? ''}`;
    for (const s of secrets) expect(all).not.toContain(s);
  });

  it.each(SHAPES)('$name: exit 3, text and --json, for a target and for the source', async ({ url, secrets, message }) => {
    const good = 'postgresql://postgres@127.0.0.1:5432/postgres';
    for (const [args, env, variable] of [
      [['status'], { DATABASE_URL: url }, 'DATABASE_URL'],
      [['status', '--json'], { DATABASE_URL: url }, 'DATABASE_URL'],
      [['split', 'plan'], { DATABASE_URL: good, SOURCE_DATABASE_URL: url }, 'SOURCE_DATABASE_URL'],
      [['split', 'verify', '--json'], { DATABASE_URL: good, SOURCE_DATABASE_URL: url }, 'SOURCE_DATABASE_URL'],
    ] as const) {
      const r = await runCli([...args], { ...env });
      const out = (r.stdout + r.stderr).replace(/\\"/g, '"');
      expect(r.code, out).toBe(3);
      expect(out).toMatch(message);
      expect(out).toContain(variable);
      expect(out).not.toMatch(/URIError|internal error|\n\s+at /);
      for (const s of secrets) expect(out).not.toContain(s);
    }
  }, 60_000);

  it('redactUrl and redactText hide secret query parameters, parseable or not', () => {
    expect(redactUrl(`postgresql://u:${S}@h/db?password=${S}&sslpassword=${S}&sslkey=/k.pem`)).toBe('postgresql://u:***@h/db?password=***&sslpassword=***&sslkey=%2Fk.pem');
    expect(redactUrl(`postgresql://u:${S}@h:bad/db?password=${S}&a=1`)).not.toContain(S);
    expect(redactText(`could not connect to postgresql://u@h/db?sslpassword=${S}&password=${S} (timeout)`)).not.toContain(S);
  });
});
