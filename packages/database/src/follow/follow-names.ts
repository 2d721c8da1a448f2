import { VendhubError } from '../errors/vendhub-error.ts';

/** Default names of what `split run --follow` creates on the source; `--slot` overrides both. */
export const DEFAULT_SLOT = 'vendhub_split';

/** The logical-message prefix of the cutover's fence marker. */
export const FENCE_MESSAGE_PREFIX = 'vendhub_split_fence';

export interface FollowNames {
  readonly slot: string;
  readonly publication: string;
}

/** Slot and publication names; a slot name must be lower-case letters, digits and underscores. */
export function followNames(slot: string = DEFAULT_SLOT): FollowNames {
  if (!/^[a-z0-9_]{1,59}$/.test(slot)) throw new VendhubError('USAGE', `invalid slot name "${slot}": use lower-case letters, digits and _ (at most 59)`);
  return { slot, publication: `${slot}_pub` };
}

/**
 * The rollback window's slot and publication in one target database (see `cutover --rollback-window`),
 * named after the forward slot and the database's first service: unique per cluster and stable as long
 * as the services are grouped into databases the same way. At most 63 characters with `_pub`.
 */
export function reverseNames(slot: string, services: readonly string[]): FollowNames {
  const suffix = `_back_${services[0] ?? 'db'}`;
  const name = `${slot.slice(0, 59 - suffix.length)}${suffix}`;
  return { slot: name, publication: `${name}_pub` };
}
