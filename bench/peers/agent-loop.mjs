// The agent loop of the durable peers (restate/, dbos/): the bare row's loop (bench/run.ts), with each
// model call and each tool call wrapped in the engine's durable step, `step(name, fn)`. The bench hands
// the request's shape in env BENCH_TASK (the bench agent's instructions, task message and tool
// schemas), so every row sends the model the same bodies. Each peer passes its own `openai` client:
// this file has no dependencies of its own.

const MAX_TURNS = 20;
/** Bound on a tool call's arguments: they come from the model. */
const MAX_ARGUMENT_BYTES = 4_096;

/** The task from env BENCH_TASK, checked: `{ instructions, message, tools }`. */
export function taskFromEnv() {
  const raw = process.env.BENCH_TASK;
  if (!raw) throw new Error('BENCH_TASK is not set (the bench passes the request shape)');
  const task = JSON.parse(raw);
  if (typeof task?.instructions !== 'string' || typeof task.message !== 'string' || !Array.isArray(task.tools))
    throw new Error('BENCH_TASK must be { instructions, message, tools }');
  return task;
}

/** The bench agent's one tool, as bench/agent.ts defines it. */
function lookup(argumentsJson) {
  if (Buffer.byteLength(argumentsJson, 'utf8') > MAX_ARGUMENT_BYTES) throw new Error('lookup: arguments too large');
  const { key } = JSON.parse(argumentsJson);
  if (typeof key !== 'string') throw new Error('lookup: key must be a string');
  return { key, value: `v:${key}` };
}

/**
 * Runs the task to its answer; `step(name, fn)` runs `fn` as one durable step and returns its
 * (recorded) JSON result. Resolves with `{ output, steps }` (steps: model calls).
 */
export async function agentLoop(task, { openai, step }) {
  const messages = [
    { role: 'system', content: task.instructions },
    { role: 'user', content: task.message },
  ];
  for (let turn = 1; turn <= MAX_TURNS; turn++) {
    const message = await step(`model-${turn}`, async () => {
      const completion = await openai.chat.completions.create({ model: 'bench', messages, tools: task.tools });
      const { content, tool_calls } = completion.choices[0].message;
      return { content: content ?? null, tool_calls: tool_calls ?? [] };
    });
    const calls = message.tool_calls.filter((call) => call.type === 'function');
    messages.push({ role: 'assistant', content: message.content, ...(calls.length && { tool_calls: calls }) });
    if (!calls.length) return { output: message.content, steps: turn };
    for (const call of calls) {
      if (call.function.name !== 'lookup') throw new Error(`no tool ${call.function.name}`);
      const result = await step(`tool-${turn}-${call.id}`, async () => lookup(call.function.arguments));
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
    }
  }
  throw new Error(`no answer after ${MAX_TURNS} model calls`);
}
