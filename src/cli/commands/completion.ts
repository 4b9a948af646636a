import { knownNames } from '../../core/environments/known-names.js';
import { usageError } from '../../errors.js';
import { completeWords, type CompletionData } from '../complete.js';
import { out, outText } from '../output/print.js';

// Each script hands the words typed so far to `cilo __complete words -- ...` and offers what it
// prints, one candidate a line; nothing printed means file names.
const SCRIPTS: Record<string, string> = {
  bash: `# cilo completion for bash. Load it with: source <(cilo completion bash)
_cilo_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(cilo __complete words -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _cilo_complete cilo
`,
  zsh: `#compdef cilo
# cilo completion for zsh. Load it with: source <(cilo completion zsh)   (after compinit)
_cilo() {
  local -a candidates
  candidates=(\${(f)"$(cilo __complete words -- "\${(@)words[2,CURRENT]}" 2>/dev/null)"})
  if (( \${#candidates} )); then
    compadd -- "\${candidates[@]}"
  else
    _files
  fi
}
compdef _cilo cilo
`,
  fish: `# cilo completion for fish. Load it with: cilo completion fish | source
function __cilo_complete
    set -l words (commandline -opc)
    set -e words[1]
    cilo __complete words -- $words (commandline -ct) 2>/dev/null
end
complete -c cilo -f -a '(__cilo_complete)'
`,
};

export async function completion(shell: string): Promise<void> {
  outText(SCRIPTS[shell] ?? '');
}

/** `cilo __complete envs`, `services <env>`, or `words -- <the words typed so far>`. */
export async function complete(what: string, words: string[]): Promise<void> {
  const data: CompletionData = knownNames();
  let candidates: string[];
  if (what === 'envs') candidates = data.envs().sort();
  else if (what === 'services') candidates = words[0] === undefined ? [] : data.services(words[0]).sort();
  else if (what === 'words') candidates = completeWords(words, data);
  else throw usageError(`cilo __complete takes envs, services or words, not "${what}".`);
  for (const c of candidates) out(c);
}
