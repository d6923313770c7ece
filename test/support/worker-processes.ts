/**
 * Worker processes for a test file's crash tests: spawned per test and SIGKILLed after it, with a
 * client on the test server and the test's scripted models.
 */
import { Client, Connection } from '@temporalio/client';
import { startScriptedModel, type Script, type ScriptedModel, type ScriptedModelOptions } from '../../testing';
import { testAddress } from './harness';
import { spawnWorker, type WorkerProcess } from './worker-process';

/** What a file's crash tests share: a client on the test server, and processes and models that end with each test. */
export interface WorkerProcesses {
  readonly client: Client;
  /** Spawns a worker process (with command-line `args`), SIGKILLed (if still running) after the test. */
  spawn(env: Record<string, string>, args?: string[]): WorkerProcess;
  /** Starts the test's scripted model (as `options.profile`'s server, if given), closed after the test. */
  startModel(script: Script, options?: ScriptedModelOptions): Promise<ScriptedModel>;
}

/** Sets up `WorkerProcesses` for the calling test file. */
export function useWorkerProcesses(): WorkerProcesses {
  let connection: Connection | undefined;
  let client: Client | undefined;
  const children: WorkerProcess[] = [];
  const models: ScriptedModel[] = [];
  beforeAll(async () => {
    connection = await Connection.connect({ address: testAddress() });
    client = new Client({ connection });
  });
  afterEach(async () => {
    for (const worker of children.splice(0)) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await worker.exited;
    }
    for (const model of models.splice(0)) await model.close();
  });
  afterAll(async () => {
    await connection?.close();
  });
  return {
    get client() {
      if (!client) throw new Error('the client connects in beforeAll');
      return client;
    },
    spawn(env, args) {
      const worker = spawnWorker(env, args);
      children.push(worker);
      return worker;
    },
    async startModel(script, options) {
      const model = await startScriptedModel(script, options);
      models.push(model);
      return model;
    },
  };
}
