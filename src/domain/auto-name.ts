/**
 * Names picked for the caller (`--auto-name`, the Claude Code worktree hook): the first free
 * `<prefix>-N`. Pure: the state layer calls it inside its lock, so two callers at once never
 * pick the same name.
 */
import { CiloError } from '../errors.js';
import { NAME_RULE } from './names.js';

export interface AutoNameRule {
  /** Take `<prefix>` itself when it is free (the hook's name); else `<prefix>-2`, `-3`... */
  exactFirst?: boolean;
}

/** The first name not taken: `<prefix>-1`, `<prefix>-2`... (or `<prefix>`, then `-2`... with exactFirst). */
export function pickFreeName(prefix: string, taken: (name: string) => boolean, rule: AutoNameRule = {}): string {
  if (rule.exactFirst && !taken(prefix)) return prefix;
  for (let n = rule.exactFirst ? 2 : 1; n < 100_000; n++) {
    const suffix = `-${n}`;
    // Keep within the 63 characters of a DNS label: shorten the prefix, never the number.
    const name = `${prefix.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
    if (!NAME_RULE.test(name)) break;
    if (!taken(name)) return name;
  }
  throw new CiloError('INVALID_NAME', `No free environment name starting with "${prefix}-" could be found.`, { hint: 'Choose another prefix, or destroy environments you no longer need.' });
}
