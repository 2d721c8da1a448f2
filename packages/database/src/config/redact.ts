/**
 * Secrets never reach output: every URL shown to a user goes through `redactUrl`, and every
 * message built from a foreign error goes through `redactText` with the passwords we know of.
 */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key) && !/^sslkey$/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    // Not parseable: strip anything that looks like user:password@.
    return raw.replace(/\/\/([^:/@]*):([^@]*)@/, '//$1:***@');
  }
}

/** Replaces each known secret, and URL-embedded passwords, in free text. */
export function redactText(text: string, secrets: Iterable<string> = []): string {
  let out = text.replace(/(postgres(?:ql)?|redis|rediss):\/\/([^:/@\s]*):([^@\s]*)@/gi, '$1://$2:***@');
  for (const s of secrets) {
    if (s && s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}
