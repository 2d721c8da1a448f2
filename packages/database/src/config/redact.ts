/**
 * Secrets never reach output: every URL shown to a user goes through `redactUrl`, and every
 * message built from a foreign error goes through `redactText` with the passwords we know of.
 */
export function redactUrl(raw: string): string {
  try {
    return redactParsedUrl(new URL(raw));
  } catch {
    // Not parseable: strip anything that looks like user:password@ and every secret-like parameter.
    return raw.replace(/\/\/([^:/@]*):([^@]*)@/, '//$1:***@').replace(/([?&][^=&#]*(?:pass|secret|token|key)[^=&#]*=)[^&#]*/gi, (m, k: string) => (/[?&]sslkey=$/i.test(k) ? m : `${k}***`));
  }
}

/** Query parameters that carry a secret (libpq's password and sslpassword, tokens, keys); sslkey is a file path. */
export function isSecretParameter(key: string): boolean {
  return /pass|secret|token|key/i.test(key) && !/^sslkey$/i.test(key);
}

/** The URL with its password and every secret-bearing query parameter replaced by `***`. */
export function redactParsedUrl(url: URL): string {
  const u = new URL(url.toString());
  if (u.password) u.password = '***';
  for (const key of [...new Set(u.searchParams.keys())]) {
    if (isSecretParameter(key)) u.searchParams.set(key, '***');
  }
  return u.toString();
}

/** Replaces each known secret, and URL-embedded passwords, in free text. */
export function redactText(text: string, secrets: Iterable<string> = []): string {
  let out = text.replace(/(postgres(?:ql)?|redis|rediss):\/\/([^:/@\s]*):([^@\s]*)@/gi, '$1://$2:***@');
  out = out.replace(/([?&][^=&#\s]*=)([^&#\s]*)/g, (m, k: string, v: string) => (isSecretParameter(k.slice(1, -1)) && v ? `${k}***` : m));
  for (const s of secrets) {
    if (s && s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}
