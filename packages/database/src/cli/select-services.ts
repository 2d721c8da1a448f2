import { VendhubError } from '../errors/vendhub-error.ts';
import { isServiceName, SERVICES, type ServiceName } from '../services.ts';

/** `all` (or nothing) means every service; otherwise one service by name. */
export function selectServices(arg: string | undefined): ServiceName[] {
  if (arg === undefined || arg === 'all') return [...SERVICES];
  if (isServiceName(arg)) return [arg];
  throw new VendhubError('USAGE', `unknown service "${arg}"; expected one of: ${SERVICES.join(', ')}, all`);
}
