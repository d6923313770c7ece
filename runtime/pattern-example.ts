/**
 * A short string that a regular expression of a JSON schema's `pattern` (ECMA-262 syntax) accepts,
 * for the offline demo model's made-up tool arguments: `^[A-Z]{2}-\d{4}$` gives `AA-0000`. It reads the
 * common subset (literals, escapes, classes, groups, alternation, quantifiers) and takes the shortest
 * path through it; lookarounds and backreferences are skipped, so the caller checks the result.
 */

/** Characters tried, in order, for one position: the first the position's atom accepts is used. */
const PREFERRED = 'a0A1bx-_ .@/:+=';

/** An atom's source compiled to match one whole character, with the unicode flag when it needs it. */
function oneCharacter(atom: string): RegExp | undefined {
  for (const flags of ['u', '']) {
    try {
      return new RegExp(`^(?:${atom})$`, flags);
    } catch {
      // Not valid with these flags: try without.
    }
  }
  return undefined;
}

/** A character the atom (a class, an escape, `.` or a literal) accepts. */
function characterFor(atom: string): string {
  const matcher = oneCharacter(atom);
  if (!matcher) return atom.replace(/^\\/, '');
  for (const candidate of PREFERRED) if (matcher.test(candidate)) return candidate;
  for (let code = 33; code < 127; code += 1) {
    if (matcher.test(String.fromCharCode(code))) return String.fromCharCode(code);
  }
  return 'a';
}

/** The end of the group or class that opens at `start` (the index of its closing bracket). */
function closing(source: string, start: number): number {
  const [open, close] = source[start] === '[' ? ['[', ']'] : ['(', ')'];
  let depth = 0;
  for (let index = start; index < source.length; index += 1) {
    const char = source[index];
    if (char === '\\') index += 1;
    else if (open === '[' && char === ']' && index > start + 1) return index;
    else if (open === '(' && char === '[') index = closing(source, index);
    else if (open === '(' && char === open) depth += 1;
    else if (open === '(' && char === close && --depth === 0) return index;
  }
  return source.length - 1;
}

/** The top-level alternatives of `source` (split at `|` outside groups and classes). */
function alternatives(source: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let index = 0; index < source.length; index += 1) {
    const char = source[index];
    if (char === '\\') index += 1;
    else if (char === '[' || char === '(') index = closing(source, index);
    else if (char === '|') {
      parts.push(source.slice(start, index));
      start = index + 1;
    }
  }
  return [...parts, source.slice(start)];
}

/** How many times a quantifier at `index` repeats (its minimum, at least once for `+`), and where it ends. */
function quantifier(source: string, index: number): { times: number; end: number } {
  const char = source[index];
  const lazy = (end: number) => (source[end] === '?' ? end + 1 : end);
  if (char === '*' || char === '?') return { times: 0, end: lazy(index + 1) };
  if (char === '+') return { times: 1, end: lazy(index + 1) };
  const counted = char === '{' ? /^\{(\d+)(?:,\d*)?\}/.exec(source.slice(index)) : null;
  if (counted) return { times: Number(counted[1]), end: lazy(index + counted[0].length) };
  return { times: 1, end: index };
}

/** The shortest string one alternative (a sequence of atoms) accepts. */
function sequence(source: string): string {
  let text = '';
  let index = 0;
  while (index < source.length) {
    const char = source[index];
    if (char === '^' || char === '$') {
      index += 1;
      continue;
    }
    let end: number;
    let piece: string;
    if (char === '(') {
      end = closing(source, index) + 1;
      const inner = source.slice(index + 1, end - 1);
      // Lookarounds match no text of their own; a named or non-capturing group is its content.
      piece = /^\?<?[=!]/.test(inner) ? '' : patternExample(inner.replace(/^\?(?::|<[^>]+>)/, ''));
    } else if (char === '[') {
      end = closing(source, index) + 1;
      piece = characterFor(source.slice(index, end));
    } else if (char === '\\') {
      const property = /^\\[pP]\{[^}]+\}/.exec(source.slice(index));
      end = index + (property ? property[0].length : 2);
      const escaped = source.slice(index, end);
      // Word boundaries and backreferences match no character.
      piece = /^\\[bB1-9]$/.test(escaped) ? '' : characterFor(escaped);
    } else {
      end = index + 1;
      piece = characterFor(char === '.' ? '.' : char.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&'));
    }
    const { times, end: after } = quantifier(source, end);
    text += piece.repeat(times);
    index = after;
  }
  return text;
}

/** A string `pattern` is meant to accept: the shortest path through its first alternative. */
export function patternExample(pattern: string): string {
  return sequence(alternatives(pattern)[0]);
}

/** Strings `pattern` is meant to accept, one per top-level alternative (`^$|^...` has an empty one). */
export function patternExamples(pattern: string): string[] {
  return alternatives(pattern).map(sequence);
}
