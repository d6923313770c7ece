/**
 * Context windows read from the model server, where it says: a local model's window is in no table,
 * and a run that does not know it cannot summarise before the server refuses its request. At worker
 * start, for the models the worker knows (`AGENT_MODEL`, its agents' models and fallback models),
 * at an `OPENAI_BASE_URL` other than OpenAI's:
 * - llama.cpp's `llama-server`: `GET /props`, `n_ctx` (the context it was started with, `-c`), for any model name;
 * - vLLM: `GET /v1/models`, each served model's `max_model_len`;
 * - Ollama: `POST /api/show`, the model's `num_ctx` parameter, else its `<arch>.context_length`.
 * Each probe is short and quiet: a server that answers none of them leaves the tables as they were.
 */

/** One model's window and where it was read. */
export interface ProbedWindow {
  tokens: number;
  source: string;
}

/** How long a probe waits for its answer. */
const PROBE_TIMEOUT_MS = 2_000;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const tokenCount = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;

/** The server's root: the base URL without its `/v1` (llama-server and Ollama serve their own routes there). */
function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

async function getJson(fetchImpl: typeof fetch, url: string, init: RequestInit = {}): Promise<unknown> {
  try {
    const response = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!response.ok || !response.headers.get('content-type')?.includes('json')) return undefined;
    return await response.json();
  } catch {
    return undefined;
  }
}

/** llama-server's `n_ctx` (at the top of `/props`, or in its default generation settings). */
async function llamaServerWindow(fetchImpl: typeof fetch, root: string): Promise<number | undefined> {
  const props = await getJson(fetchImpl, `${root}/props`);
  if (!isRecord(props)) return undefined;
  const settings = isRecord(props.default_generation_settings) ? props.default_generation_settings : {};
  return tokenCount(props.n_ctx) ?? tokenCount(settings.n_ctx);
}

/** vLLM's `max_model_len` of each model `/v1/models` lists. */
async function vllmWindows(fetchImpl: typeof fetch, baseUrl: string): Promise<Map<string, number>> {
  const list = await getJson(fetchImpl, `${baseUrl.replace(/\/+$/, '')}/models`);
  const windows = new Map<string, number>();
  if (!isRecord(list) || !Array.isArray(list.data)) return windows;
  for (const entry of list.data) {
    const tokens = isRecord(entry) ? tokenCount(entry.max_model_len) : undefined;
    if (tokens !== undefined && typeof entry.id === 'string') windows.set(entry.id, tokens);
  }
  return windows;
}

/** Ollama's window for `model`: its `num_ctx` parameter if its Modelfile sets one, else its trained context length. */
async function ollamaWindow(fetchImpl: typeof fetch, root: string, model: string): Promise<number | undefined> {
  const shown = await getJson(fetchImpl, `${root}/api/show`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model }),
  });
  if (!isRecord(shown)) return undefined;
  const numCtx = typeof shown.parameters === 'string' ? /(?:^|\n)\s*num_ctx\s+(\d+)/.exec(shown.parameters) : null;
  if (numCtx) return tokenCount(Number(numCtx[1]));
  const info = isRecord(shown.model_info) ? shown.model_info : {};
  const key = Object.keys(info).find((name) => name.endsWith('.context_length'));
  return key === undefined ? undefined : tokenCount(info[key]);
}

/** Whether `baseUrl` is OpenAI's own endpoint, which says nothing of windows (the built-in table knows its models). */
function isOpenAI(baseUrl: string): boolean {
  try {
    return new URL(baseUrl).hostname === 'api.openai.com';
  } catch {
    return true;
  }
}

/** The windows the server at `baseUrl` says `models` have; models it says nothing of are left out. */
export async function probeContextWindows(
  baseUrl: string,
  models: readonly string[],
  fetchImpl: typeof fetch = fetch,
): Promise<Map<string, ProbedWindow>> {
  const found = new Map<string, ProbedWindow>();
  if (isOpenAI(baseUrl) || !models.length) return found;
  const root = serverRoot(baseUrl);
  const [nCtx, served] = await Promise.all([llamaServerWindow(fetchImpl, root), vllmWindows(fetchImpl, baseUrl)]);
  for (const model of models) {
    const listed = served.get(model);
    if (listed !== undefined) found.set(model, { tokens: listed, source: 'vLLM /v1/models max_model_len' });
    else if (nCtx !== undefined) found.set(model, { tokens: nCtx, source: 'llama-server /props n_ctx' });
  }
  if (nCtx !== undefined || served.size) return found;
  const shown = await Promise.all(models.map((model) => ollamaWindow(fetchImpl, root, model)));
  models.forEach((model, index) => {
    const tokens = shown[index];
    if (tokens !== undefined) found.set(model, { tokens, source: 'Ollama /api/show' });
  });
  return found;
}

/**
 * The windows a worker of `baseUrl` learns from its server for `models`, each said once in its log
 * (`say`), as a table for `specSettingsOf`.
 */
export async function serverContextWindows(
  baseUrl: string | undefined,
  models: readonly string[],
  say: (line: string) => void,
): Promise<Record<string, number>> {
  if (baseUrl === undefined) return {};
  const probed = await probeContextWindows(baseUrl, [...new Set(models)]);
  for (const [model, { tokens, source }] of probed) say(`model ${model}: context window ${tokens} tokens (${source})`);
  return Object.fromEntries([...probed].map(([model, { tokens }]) => [model, tokens]));
}
