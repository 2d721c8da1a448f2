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
  if (!/^[a-z0-9_]{1,60}$/.test(slot)) throw new VendhubError('USAGE', `invalid slot name "${slot}": use lower-case letters, digits and _ (at most 60)`);
  return { slot, publication: `${slot}_pub` };
}
