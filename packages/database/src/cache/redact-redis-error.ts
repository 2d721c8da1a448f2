import { redactText } from '../config/redact.ts';

/** Redis commands whose arguments carry credentials. */
const CREDENTIAL_COMMANDS = new Set(['auth', 'hello', 'acl', 'migrate', 'config']);

/**
 * Makes an error safe to hand to `onError` (which callers log): ioredis attaches the failed
 * command to its errors (`command: { name: 'auth', args: ['default', '<password>'] }`, the same
 * for `hello 3 AUTH ...`), so a logger that prints an error's fields would print the Redis
 * password. Arguments of credential commands are replaced, and the URL's password (plain and
 * percent-encoded) is removed from the message, the stack and every argument. Returns the same
 * error object (class, code and cause kept).
 *
 * @example redactRedisError(err, ['s3cret']).command // { name: 'auth', args: ['***'] }
 */
export function redactRedisError(error: Error, secrets: readonly string[]): Error {
  const e = error as Error & { command?: { name?: unknown; args?: unknown } };
  const clean = (v: string) => redactText(v, secrets);
  try {
    e.message = clean(e.message);
    if (typeof e.stack === 'string') e.stack = clean(e.stack);
    const cmd = e.command;
    if (cmd !== null && typeof cmd === 'object' && Array.isArray(cmd.args)) {
      const name = String(cmd.name ?? '').toLowerCase();
      e.command = { ...cmd, args: CREDENTIAL_COMMANDS.has(name) ? ['***'] : cmd.args.map((a: unknown) => (typeof a === 'string' ? clean(a) : a)) };
    }
  } catch {
    // A frozen or exotic error: pass a plain one instead.
    return new Error(clean(String(error.message)));
  }
  return e;
}

/** The password of a redis:// URL, plain and percent-decoded (empty when there is none). */
export function redisUrlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    return u.password ? [...new Set([u.password, decodeURIComponent(u.password)])] : [];
  } catch {
    return [];
  }
}
