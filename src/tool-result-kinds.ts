/**
 * What became of a tool call, read back from the result the model read: it ran, it failed (the tool's
 * error, or arguments it could not take), a person denied it, or the run did not run it (a repeat, a
 * call past the cap). The words are workflows/tool-messages.ts's; each kind opens with its own
 * prefix, so the run's summaries and the offline demo model can tell them apart. Results recorded as
 * JSON before (`{"error": ...}`, `{"denied": true, ...}`) read the same. Workflow-safe.
 */

/** How each kind of result that is not the tool's own output begins. */
export const ToolResultPrefix = {
  error: 'Error: ',
  denied: 'Denied: ',
  notRun: 'Not run: ',
} as const;

export type ToolResultKind = 'ran' | 'failed' | 'denied' | 'not run';

/** What a denial says of the person's note: `Their note: "…"` (quoted as a JSON string, on one line). */
export const DENIAL_NOTE_LABEL = 'Their note: ';

/** The result's kind and, for a denial, the person's note if they left one. */
export function readToolResult(content: string): { kind: ToolResultKind; note?: string } {
  if (content.startsWith(ToolResultPrefix.notRun)) return { kind: 'not run' };
  if (content.startsWith(ToolResultPrefix.error)) return { kind: 'failed' };
  if (content.startsWith(ToolResultPrefix.denied)) {
    const at = content.lastIndexOf(DENIAL_NOTE_LABEL);
    if (at < 0) return { kind: 'denied' };
    try {
      const note: unknown = JSON.parse(content.slice(at + DENIAL_NOTE_LABEL.length));
      return typeof note === 'string' ? { kind: 'denied', note } : { kind: 'denied' };
    } catch {
      return { kind: 'denied' };
    }
  }
  return legacyResult(content);
}

/** A result recorded as JSON by runs before results were words. */
function legacyResult(content: string): { kind: ToolResultKind; note?: string } {
  if (!content.startsWith('{"denied":true') && !content.startsWith('{"error":')) return { kind: 'ran' };
  let parsed: { denied?: unknown; error?: unknown; note?: unknown };
  try {
    parsed = JSON.parse(content) as typeof parsed;
  } catch {
    return { kind: 'ran' };
  }
  if (parsed.denied === true) return { kind: 'denied', ...(typeof parsed.note === 'string' && { note: parsed.note }) };
  if (typeof parsed.error === 'string') return { kind: parsed.error.startsWith('Not run:') ? 'not run' : 'failed' };
  return { kind: 'ran' };
}
