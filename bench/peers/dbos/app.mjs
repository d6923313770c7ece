// Benchmark peer: the bench's agent loop (../agent-loop.mjs) as a DBOS workflow, each model call and
// each tool call a step, on the PostgreSQL the bench starts (env DBOS_SYSTEM_DATABASE_URL). The loop
// runs in this process; the bench starts runs and awaits their results over HTTP (env PORT):
//   POST /runs/<id>  starts workflow <id> (202), GET /runs/<id>  its result once it ends.
// The bench kills and restarts this process to time recovery: DBOS.launch() resumes the runs this
// executor left pending. Prints "dbos peer: listening on <port>" once it serves.
import { createServer } from 'node:http';
import { DBOS } from '@dbos-inc/dbos-sdk';
import OpenAI from 'openai';
import { agentLoop, taskFromEnv } from '../agent-loop.mjs';

const task = taskFromEnv();
const openai = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: 'bench', maxRetries: 0 });
/** Runs started by this process: their results are awaited in memory, not polled from the database. */
const handles = new Map();
/** Workflow ids are the bench's: bounded, plain. */
const RUN_PATH = /^\/runs\/([A-Za-z0-9._-]{1,100})$/;

const agentRun = DBOS.registerWorkflow(
  async () => agentLoop(task, { openai, step: (name, fn) => DBOS.runStep(fn, { name }) }),
  { name: 'agentRun' },
);

DBOS.setConfig({
  name: 'bench-peer-dbos',
  systemDatabaseUrl: process.env.DBOS_SYSTEM_DATABASE_URL,
  logLevel: 'warn',
});
await DBOS.launch();

const server = createServer(async (request, response) => {
  const id = RUN_PATH.exec(request.url ?? '')?.[1];
  const reply = (status, body) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  try {
    if (!id) return reply(404, { error: 'no such path' });
    if (request.method === 'POST') {
      handles.set(id, await DBOS.startWorkflow(agentRun, { workflowID: id })());
      return reply(202, { id });
    }
    if (request.method === 'GET') {
      // A run this process did not start (it resumed it after a restart) is found in the database.
      const handle = handles.get(id) ?? DBOS.retrieveWorkflow(id);
      const result = await handle.getResult();
      handles.delete(id);
      return reply(200, result);
    }
    reply(405, { error: 'POST or GET' });
  } catch (error) {
    reply(500, { error: error instanceof Error ? error.message : String(error) });
  }
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`dbos peer: listening on ${server.address().port}`));
