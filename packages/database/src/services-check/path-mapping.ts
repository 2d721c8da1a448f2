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

/** `machines-service`, `vendhub_machines`, `Machines-API` → `machines` when that is a service. */
function normalizeSegment(segment: string, services: readonly string[]): string {
  const lower = segment.toLowerCase();
  if (services.includes(lower)) return lower;
  const bare = lower.replace(/^vendhub[-_]/, '').replace(/[-_](?:service|svc|api|server|app)$/, '');
  return services.includes(bare) ? bare : segment;
}

/**
 * The service of a file: the first rule that matches. Inside the checked folder (`relPath`), a
 * `<service>` segment that names no data service (`services/reports/…`) is still the file's
 * service, one that owns no models, so every model it reads belongs to another service. Above the
 * checked folder (`/work/services/repo/…`) only known services count.
 *
 * @example serviceOfPath('/repo/services/machines/routes/list.js', rules, services) // 'machines'
 */
export function serviceOfPath(absPath: string, rules: readonly PathRule[], services: readonly string[], relPath?: string): string | undefined {
  const starts = (p: string) => [0, ...[...p.matchAll(/\//g)].map((m) => (m.index as number) + 1)];
  const rel = relPath?.replace(/\\/g, '/');
  for (const rule of rules) {
    for (const i of rel ? starts(rel) : []) {
      const m = rule.regex.exec(rel!.slice(i));
      if (m) return rule.service ?? normalizeSegment(m[1] as string, services);
    }
  }
  const p = absPath.replace(/\\/g, '/');
  for (const rule of rules) {
    for (const i of starts(p)) {
      const m = rule.regex.exec(p.slice(i));
      if (!m) continue;
      const service = rule.service ?? normalizeSegment(m[1] as string, services);
      if (services.includes(service)) return service;
    }
  }
  return undefined;
}
