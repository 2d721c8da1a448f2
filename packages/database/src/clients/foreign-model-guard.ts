import { VendhubError } from '../errors/vendhub-error.ts';
import { factoryName } from '../services-check/describe-finding.ts';
import { accessorOf, loadOwnership } from '../services-check/ownership.ts';

/**
 * For JavaScript callers, where no type checker stops `getTasksClient().user.findMany()`: one
 * property per model another service owns, so the first use fails at once with a message naming
 * the owner and the fix, instead of `Cannot read properties of undefined (reading 'findMany')`
 * or, worse, a query that works against a shared database and fails after the split.
 * TypeScript callers keep the compile error (the properties are not part of the client's type).
 *
 * @example getTasksClient().user.findMany()
 *   // VendhubError CROSS_SERVICE_MODEL: User belongs to the auth service, not tasks: …
 */
export function foreignModelGuards(service: string): Record<string, unknown> {
  const own = loadOwnership();
  const guards: Record<string, unknown> = {};
  for (const [model, owner] of own.ownerOf) {
    if (owner !== service) guards[accessorOf(model)] = guardFor(model, owner, service);
  }
  return guards;
}

function guardFor(model: string, owner: string, service: string): unknown {
  const accessor = accessorOf(model);
  const fail = (what: string): never => {
    throw new VendhubError('CROSS_SERVICE_MODEL', `${model} belongs to the ${owner} service, not ${service}: ${service} client .${accessor}${what} refused`, {
      hint: `Use ${factoryName(owner)}().${accessor} (import { ${factoryName(owner)} } from '@vendhub/database'), or the ${owner} service's API; \`vendhub-db services check\` finds every such call.`,
      details: { model, owner, service },
    });
  };
  // A callable proxy: every property read or call fails, except what inspection and promise
  // detection probe (symbols, `then`), so logging a client or awaiting it still works.
  return new Proxy(function guard() {}, {
    get: (_t, prop) => (typeof prop === 'symbol' || prop === 'then' || prop === 'toJSON' ? undefined : fail(`.${String(prop)}`)),
    apply: () => fail('()'),
  });
}
