/**
 * Which service a file belongs to, from its path. A rule is a glob over `/`-separated paths that
 * may hold one `<service>` segment (the service is that segment) or name the service after `=`:
 * `services/<service>/**` (the default), `apps/telemetry/**=machines`. A rule matches at any folder
 * boundary of the absolute path, so checking the repository root or one service's folder agree.
 */
export interface PathRule {
  readonly pattern: string;
  /** Fixed service; undefined when the pattern holds `<service>`. */
  readonly service: string | undefined;
  readonly regex: RegExp;
}

export const DEFAULT_MAPPING = 'services/<service>/**';

function globToRegex(glob: string, capture: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (glob.startsWith('<service>', i)) {
      re += capture ? '([^/]+)' : '[^/]+';
      i += '<service>'.length - 1;
    } else if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Parses `pattern` or `pattern=service`. Throws on a rule that can name no service.
 *
 * @example parseRule('apps/telemetry/**=machines').service // 'machines'
 */
export function parseRule(text: string, services: readonly string[]): PathRule {
  const eq = text.lastIndexOf('=');
  const pattern = (eq >= 0 ? text.slice(0, eq) : text).trim().replace(/^\.\//, '');
  const service = eq >= 0 ? text.slice(eq + 1).trim() : undefined;
  if (service !== undefined && !services.includes(service)) {
    throw new Error(`mapping '${text}': '${service}' is no service (known: ${services.join(', ')})`);
  }
  if (service === undefined && !pattern.includes('<service>')) {
    throw new Error(`mapping '${text}': give the service after '=' or put <service> in the pattern`);
  }
  return { pattern, service, regex: globToRegex(pattern, service === undefined) };
}

/** The glob as a matcher of paths relative to the checked folder (for `--exclude`). */
export function globMatcher(glob: string): RegExp {
  return globToRegex(glob.replace(/^\.\//, ''), false);
}

/**
 * The service of a file: the first rule that matches and names a known service.
 *
 * @example serviceOfPath('/repo/services/machines/routes/list.js', rules, services) // 'machines'
 */
export function serviceOfPath(absPath: string, rules: readonly PathRule[], services: readonly string[]): string | undefined {
  const p = absPath.replace(/\\/g, '/');
  for (const rule of rules) {
    // Every folder boundary is a candidate start: /work/services/repo/services/auth/x.js must not
    // stop at the first `services/` whose next folder is no service.
    for (let i = 0; i < p.length; i = p.indexOf('/', i) + 1 || p.length) {
      const m = rule.regex.exec(p.slice(i));
      const service = m ? (rule.service ?? m[1]) : undefined;
      if (service && services.includes(service)) return service;
      if (p.indexOf('/', i) < 0) break;
    }
  }
  return undefined;
}
