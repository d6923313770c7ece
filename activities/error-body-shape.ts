/**
 * Error bodies in OpenAI's shape, whatever server sent them. The `openai` client reads an error's
 * words only from `{"error": {...}}`; vLLM answers `{"object": "error", "message": ..., "code": 400}`
 * and FastAPI servers `{"detail": ...}`, which reach the client as "400 status code (no body)": the
 * run could not tell a context-window 400 from any other, and the log said nothing. Such a body is
 * rewritten into `{"error": {message, type, code, ...}}`, every field kept; any other is left alone.
 */

/** The body's fields under `error`, the message taken from `message` or `detail`; undefined if it has `error` already. */
function openAIShaped(body: unknown): { error: Record<string, unknown> } | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || 'error' in body) return undefined;
  const fields = body as Record<string, unknown>;
  const said = fields.message ?? fields.detail;
  if (said === undefined) return undefined;
  const { message: _message, detail: _detail, object: _object, ...rest } = fields;
  return { error: { ...rest, message: typeof said === 'string' ? said : JSON.stringify(said) } };
}

/** A `fetch` for the `openai` client whose error responses' JSON bodies are in OpenAI's shape. */
export function openAIErrorBodies(inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.status < 400 || !response.headers.get('content-type')?.includes('json')) return response;
    const text = await response.text();
    let shaped: { error: Record<string, unknown> } | undefined;
    try {
      shaped = openAIShaped(JSON.parse(text));
    } catch {
      shaped = undefined;
    }
    return new Response(shaped ? JSON.stringify(shaped) : text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
