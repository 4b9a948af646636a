/**
 * Shell completion: the candidates for the word being typed, from the command table (command
 * names, options) and from state (environment, service, shared service and project names).
 * Pure: the state lookups come in as `CompletionData`.
 */
import type { Option } from 'commander';
import { COMMANDS, type CommandDef } from './command-table.js';
import { completionOf, type Completion } from './options.js';

export interface CompletionData {
  envs(): string[];
  services(env: string): string[];
  shared(): string[];
  projects(): string[];
}

function valuesOf(kind: Completion | undefined, data: CompletionData, env: string | undefined): string[] {
  switch (kind) {
    case 'env':
      return data.envs();
    case 'service':
      return env === undefined ? [] : data.services(env);
    case 'shared':
      return data.shared();
    case 'project':
      return data.projects();
    default:
      return [];
  }
}

const takesValue = (o: Option): boolean => o.required || o.optional;
const findOption = (def: CommandDef, word: string): Option | undefined => def.options?.find((o) => o.long === word || o.short === word);

function subcommands(parent: string): CommandDef[] {
  const prefix = parent === '' ? '' : `${parent} `;
  return COMMANDS.filter((d) => !d.hidden && d.name.startsWith(prefix) && d.name !== parent && !d.name.slice(prefix.length).includes(' '));
}

/**
 * The candidates for the last of `words` (the command line after `cilo`, the word being typed
 * last, possibly empty). An empty list lets the shell complete file names.
 */
export function completeWords(words: readonly string[], data: CompletionData): string[] {
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  let path = '';
  let i = 0;
  for (; i < before.length; i++) {
    const word = before[i] ?? '';
    const next = subcommands(path).find((d) => d.name.split(' ').pop() === word || d.alias === word);
    if (!next) break;
    path = next.name;
  }
  const def = COMMANDS.find((d) => d.name === path);
  const startsWith = (xs: string[]): string[] => [...new Set(xs)].filter((x) => x.startsWith(current)).sort();
  if (!def?.load) return i === before.length ? startsWith(subcommands(path).map((d) => d.name.split(' ').pop() ?? d.name)) : [];

  // The arguments typed so far, and whether the last word is an option that wants a value.
  const positionals: string[] = [];
  let valueFor: Option | undefined;
  for (const word of before.slice(i)) {
    if (valueFor) {
      valueFor = undefined;
      continue;
    }
    const option = word.startsWith('-') ? findOption(def, word) : undefined;
    if (option) valueFor = takesValue(option) ? option : undefined;
    else if (!word.startsWith('-') || word === '-') positionals.push(word);
  }
  if (valueFor) return startsWith(valueOptions(valueFor, data));
  if (current.startsWith('-')) return startsWith((def.options ?? []).flatMap((o) => (o.long ? [o.long] : [])));
  const args = def.args ?? [];
  const arg = args[positionals.length] ?? (args[args.length - 1]?.variadic ? args[args.length - 1] : undefined);
  if (!arg) return [];
  const choices = arg.argChoices ?? valuesOf(completionOf(arg), data, positionals[0]);
  return startsWith(choices);
}

function valueOptions(option: Option, data: CompletionData): string[] {
  return option.argChoices ?? valuesOf(completionOf(option), data, undefined);
}
