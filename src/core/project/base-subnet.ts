import { legacyBaseToCidr } from '../../state/migrate-v2.js';

/**
 * A `--base-subnet` as given: the original's prefix form `10.224.` means 10.224.0.0/16; a CIDR
 * (or anything else, refused later by initHome) is kept.
 */
export function baseSubnetCidr(base: string): string {
  return base.includes('/') ? base : (legacyBaseToCidr(base) ?? base);
}
