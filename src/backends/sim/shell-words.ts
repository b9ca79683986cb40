/**
 * sh's word splitting for the simulated instances' small shell: quoting, `$NAME`/`${NAME}`/`$?`, a leading `~`,
 * the list operators `;`, `&&`, `||`, and the redirections `>` and `>>` of standard output. Anything else sh
 * would read differently (pipes, `<`, `2>`, subshells, background jobs, command substitution) is refused with a
 * message saying what is supported, rather than misread.
 */

export type Token =
  | { kind: 'word'; value: string }
  | { kind: 'op'; value: ';' | '&&' | '||' }
  | { kind: 'redirect'; append: boolean };

/** `$?` changes as a list runs: it stays this marker in words and is filled in just before each command runs. */
export const LAST_STATUS = '\u0000?';

/** What the shell understands, said whenever it refuses a line or a command. */
export const SHELL_SUPPORT =
  'the simulated instance understands ; && || > >> quotes $NAME ~ and the commands ' +
  'cat cd echo hostname id ls pwd true false uname whoami exit, sshd -t/-T, systemctl/service reload ssh';

export function tokenize(line: string, env: Record<string, string>, home: string): Token[] | { error: string } {
  const vars: Record<string, string> = { ...env, '?': LAST_STATUS };
  const tokens: Token[] = [];
  let word: string | null = null;
  const append = (s: string) => (word = (word ?? '') + s);
  const endWord = () => {
    if (word !== null) tokens.push({ kind: 'word', value: word });
    word = null;
  };
  const unsupported = (what: string) => ({ error: `${what} is not supported: ${SHELL_SUPPORT}` });
  const expand = (i: number): { value: string; next: number } | null => {
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*|\?)\}/.exec(line.slice(i));
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*|\?)/.exec(line.slice(i));
    const m = braced ?? plain;
    if (!m) return null;
    return { value: vars[m[1]!] ?? '', next: i + m[0].length };
  };
  for (let i = 0; i < line.length; ) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i++;
    } else if (c === '\n' || c === ';') {
      endWord();
      tokens.push({ kind: 'op', value: ';' });
      i++;
    } else if (line.startsWith('&&', i) || line.startsWith('||', i)) {
      endWord();
      tokens.push({ kind: 'op', value: line.slice(i, i + 2) as '&&' | '||' });
      i += 2;
    } else if (c === '>') {
      // `2>file` names a descriptor: only standard output can be redirected here, so it is refused, not misread.
      if (word !== null && /^\d+$/.test(word)) return unsupported(`'${word}>' (redirecting a descriptor)`);
      if (line[i + 1] === '&' || line[i + 1] === '|') return unsupported(`'>${line[i + 1]}'`);
      endWord();
      const append = line[i + 1] === '>';
      tokens.push({ kind: 'redirect', append });
      i += append ? 2 : 1;
    } else if (c === '~' && word === null && /^(?:[/\s;>]|&&|\|\||$)/.test(line.slice(i + 1))) {
      append(home);
      i++;
    } else if (c === '#' && word === null) {
      while (i < line.length && line[i] !== '\n') i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) return { error: 'Syntax error: Unterminated quoted string' };
      append(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      append('');
      for (i++; ; ) {
        if (i >= line.length) return { error: 'Syntax error: Unterminated quoted string' };
        const d = line[i]!;
        if (d === '"') break;
        if (d === '\\' && '"\\$`'.includes(line[i + 1] ?? '')) {
          append(line[i + 1]!);
          i += 2;
        } else if (d === '$') {
          const v = expand(i);
          if (!v) return unsupported('command substitution or parameter expansion beyond $NAME');
          append(v.value);
          i = v.next;
        } else if (d === '`') {
          return unsupported('command substitution');
        } else {
          append(d);
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 < line.length && line[i + 1] !== '\n') append(line[i + 1]!);
      i += 2;
    } else if (c === '$') {
      const v = expand(i);
      if (!v) return unsupported('command substitution or parameter expansion beyond $NAME');
      if (v.value !== '') append(v.value); // unquoted, an empty expansion makes no word
      i = v.next;
    } else if ('|&<()`'.includes(c)) {
      return unsupported(`'${c}' (pipes, input redirection, subshells, background jobs)`);
    } else {
      append(c);
      i++;
    }
  }
  endWord();
  return tokens;
}
