/**
 * Names a person typed, checked against the names that exist: a typo in an option or limit name is
 * reported with the name that was probably meant, instead of being ignored while the definition
 * silently does something else. Workflow-safe (no I/O).
 */

/**
 * Edits (insert, delete or replace a letter, or swap two neighbouring letters) that turn `a` into `b`,
 * ignoring case: the optimal string alignment distance.
 */
export function editDistance(a: string, b: string): number {
  const from = a.toLowerCase();
  const to = b.toLowerCase();
  // rows[i][j]: the distance between the first i letters of `from` and the first j of `to`.
  const rows = Array.from({ length: from.length + 1 }, (_, i) =>
    Array.from({ length: to.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= from.length; i++) {
    for (let j = 1; j <= to.length; j++) {
      const replace = from[i - 1] === to[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + replace);
      if (i > 1 && j > 1 && from[i - 1] === to[j - 2] && from[i - 2] === to[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[from.length][to.length];
}

/**
 * The name in `known` that `name` is most likely a typo of: the nearest within a third of the longer
 * name's length (at least one edit), else one that `name` is the start of (`heartbeat` for
 * `heartbeatTimeout`); undefined when none is that close, so unrelated names get no misleading suggestion.
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let nearest: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    const allowed = Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3));
    if (distance <= allowed && distance < (nearest?.distance ?? Infinity)) nearest = { name: candidate, distance };
  }
  if (nearest) return nearest.name;
  // Four letters at least: a shorter start fits too many names to mean one of them.
  if (name.length < 4) return undefined;
  return known.find((candidate) => candidate.toLowerCase().startsWith(name.toLowerCase()));
}

/**
 * One problem per key of `value` that `known` does not list, joined by "; ", e.g.
 * `unknown option "requireApproval" (did you mean "requiresApproval"?)`; when a key is near no known
 * name, the known names follow. Undefined when every key is known or `value` is not a plain object
 * (its own type check reports that).
 *
 * @param what - what a key is, for the message: "option", "limit", ...
 */
export function unknownNames(value: unknown, known: readonly string[], what: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const unknown = Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => ({ key, meant: nearestName(key, known) }));
  if (!unknown.length) return undefined;
  const problems = unknown
    .map(
      ({ key, meant }) =>
        `unknown ${what} ${JSON.stringify(key)}${meant ? ` (did you mean ${JSON.stringify(meant)}?)` : ''}`,
    )
    .join('; ');
  // With no near name to offer, the list of known ones says what to write instead.
  return unknown.every(({ meant }) => meant) ? problems : `${problems}; known ${what}s: ${known.join(', ')}`;
}

/**
 * The keys of `T` as a list, written once as `{ key: true, ... }`: the compiler rejects a list that
 * misses a key of `T` or names one `T` does not have, so the run-time list cannot drift from the type.
 */
export function namesOf<T>(names: Record<keyof T & string, true>): (keyof T & string)[] {
  return Object.keys(names) as (keyof T & string)[];
}
