import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { idempotencyKey, limitResult } from '../../activities/tools';
import { buildRegistry, createAgentWorker } from '../../runtime/create-worker';
import { loadTemporalConfig, loadWorkerConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { agentRunInputSchema } from '../../src/input';
import { Patch, PATCHES_IN_SPEC, PATCHES_OF_UNLISTED_HANDOVERS } from '../../src/patches';
import { describeIssues } from '../../src/validation';
import { buildPriceTable, costOf, DEFAULT_PRICES } from '../../src/pricing';
import { thrown } from '../support/thrown';

/** Runs `load` and returns the ConfigError it throws. */
const configError = (run: () => unknown) => thrown(ConfigError, run);

describe('loadWorkerConfig', () => {
  it('has a default for everything a local worker needs', () => {
    // A run folder with no dev server in it: whatever runs in this checkout's .temporal/ is not looked at.
    const noDevServer = mkdtempSync(join(tmpdir(), 'no-dev-server-'));
    expect(loadWorkerConfig({ TEMPORAL_RUN_DIR: noDevServer })).toEqual({
      TEMPORAL_ADDRESS: 'localhost:7233',
      addressFrom: { source: 'default', reason: 'the default' },
      TEMPORAL_NAMESPACE: 'default',
      TASK_QUEUE: 'agents',
      connection: { address: 'localhost:7233' },
      AGENT_MODEL: 'gpt-4o-mini',
      MODEL_TIMEOUT_SECONDS: 120,
      MODEL_HEARTBEAT_SECONDS: 30,
      MODEL_STREAMING: true,
      MODEL_STRUCTURED_OUTPUT: true,
      MODEL_MAX_ATTEMPTS: 5,
      MODEL_RATE_LIMIT_SECONDS: 600,
      MODEL_UNAVAILABLE_SECONDS: 300,
      MODEL_UNPARSED_ATTEMPTS: 3,
      HEARTBEAT_THROTTLE_MS: 250,
      WORKER_STICKY_TIMEOUT_SECONDS: 1,
      TOOL_RESULT_MAX_BYTES: 32_768,
      TRANSCRIPT_MAX_BYTES: 1_000_000,
      // A run of an agent this worker does not register is left to others this long (a mixed fleet).
      UNKNOWN_AGENT_WAIT_SECONDS: 600,
      USAGE_ATTRIBUTES: 'each-call',
      TRANSCRIPT_CACHE_MB: 256,
      CONTEXT_COMPACT_AT: 0.75,
      CONTINUE_AS_NEW_AT_BYTES: 8 * 1024 * 1024,
      HISTORY_LIMIT_BYTES: 40 * 1024 * 1024,
      HELPDESK_LEDGER: '.data/refund-ledger.jsonl',
      LOCAL_ACTIVITIES: [],
      WORKER_ROLE: 'all',
      // One worker of every role keeps its calls on the runs' queue (eager dispatch, no poll per call).
      MODEL_TASK_QUEUE: 'agents',
      TOOL_TASK_QUEUE: 'agents',
      SHUTDOWN_GRACE_SECONDS: 30,
      // Health and metrics (when their ports are set) on loopback only.
      HEALTH_HOST: '127.0.0.1',
      METRICS_HOST: '127.0.0.1',
      LOG_FORMAT: 'text',
      MCP_LIST_TTL_SECONDS: 60,
    });
  });

  it('reads UNKNOWN_AGENT_WAIT_SECONDS: 0 fails an unknown agent at once, a negative wait is refused', () => {
    expect(loadWorkerConfig({ UNKNOWN_AGENT_WAIT_SECONDS: '0' }).UNKNOWN_AGENT_WAIT_SECONDS).toBe(0);
    expect(loadWorkerConfig({ UNKNOWN_AGENT_WAIT_SECONDS: '30' }).UNKNOWN_AGENT_WAIT_SECONDS).toBe(30);
    expect(() => loadWorkerConfig({ UNKNOWN_AGENT_WAIT_SECONDS: '-1' })).toThrow(
      /^invalid environment: UNKNOWN_AGENT_WAIT_SECONDS: /,
    );
  });

  it('reads the role, derives the model and tool task queues from TASK_QUEUE, and checks the fleet settings', () => {
    for (const WORKER_ROLE of ['workflows', 'model', 'tools']) {
      expect(loadWorkerConfig({ TASK_QUEUE: 'support', WORKER_ROLE })).toMatchObject({
        WORKER_ROLE,
        MODEL_TASK_QUEUE: 'support-model',
        TOOL_TASK_QUEUE: 'support-tools',
      });
    }
    expect(loadWorkerConfig({ TASK_QUEUE: 'support' })).toMatchObject({
      MODEL_TASK_QUEUE: 'support',
      TOOL_TASK_QUEUE: 'support',
    });
    // A limit of the calls' own needs a queue of their own.
    expect(loadWorkerConfig({ TASK_QUEUE: 'support', MODEL_CONCURRENCY: '4' })).toMatchObject({
      MODEL_TASK_QUEUE: 'support-model',
      TOOL_TASK_QUEUE: 'support',
    });
    expect(loadWorkerConfig({ TASK_QUEUE: 'support', MODEL_CALLS_PER_SECOND: '2' }).MODEL_TASK_QUEUE).toBe(
      'support-model',
    );
    expect(loadWorkerConfig({ TASK_QUEUE: 'support', TOOL_CONCURRENCY: '2' })).toMatchObject({
      MODEL_TASK_QUEUE: 'support',
      TOOL_TASK_QUEUE: 'support-tools',
    });
    expect(
      loadWorkerConfig({ MODEL_TASK_QUEUE: 'gpu', TOOL_TASK_QUEUE: 'near-db', MODEL_CALLS_PER_SECOND: '2.5' }),
    ).toMatchObject({ MODEL_TASK_QUEUE: 'gpu', TOOL_TASK_QUEUE: 'near-db', MODEL_CALLS_PER_SECOND: 2.5 });
    expect(() => loadWorkerConfig({ WORKER_ROLE: 'tool' })).toThrow(/WORKER_ROLE/);
    expect(() => loadWorkerConfig({ WORKER_ROLE: 'model', MODEL_TASK_QUEUE: 'agents' })).toThrow(
      'WORKER_ROLE=model would poll MODEL_TASK_QUEUE "agents", which is TASK_QUEUE',
    );
    expect(loadWorkerConfig({ WORKER_ROLE: 'all', MODEL_TASK_QUEUE: 'agents' }).MODEL_TASK_QUEUE).toBe('agents');
    expect(() => loadWorkerConfig({ HEALTH_PORT: '70000' })).toThrow(/HEALTH_PORT/);
    expect(() => loadWorkerConfig({ WORKER_DEPLOYMENT_NAME: 'agents' })).toThrow(
      'set WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID together, or neither',
    );
  });

  it('reads which calls run as local activities, and refuses anything but model, tools, both or none', () => {
    expect(loadWorkerConfig({ LOCAL_ACTIVITIES: 'model,tools' }).LOCAL_ACTIVITIES).toEqual(['model', 'tools']);
    expect(loadWorkerConfig({ LOCAL_ACTIVITIES: ' tools ' }).LOCAL_ACTIVITIES).toEqual(['tools']);
    expect(loadWorkerConfig({ LOCAL_ACTIVITIES: 'none' }).LOCAL_ACTIVITIES).toEqual([]);
    for (const wrong of ['all', 'model,model', 'models', 'model,', 'Model']) {
      expect(() => loadWorkerConfig({ LOCAL_ACTIVITIES: wrong })).toThrow(
        `LOCAL_ACTIVITIES: must be model, tools, model,tools or none, not ${JSON.stringify(wrong)}`,
      );
    }
  });

  it('takes the sizes of long runs from env, and refuses a compaction share outside (0, 1]', () => {
    expect(
      loadWorkerConfig({ TRANSCRIPT_CACHE_MB: '16', CONTEXT_COMPACT_AT: '0.5', CONTINUE_AS_NEW_AT_BYTES: '1000000' }),
    ).toMatchObject({ TRANSCRIPT_CACHE_MB: 16, CONTEXT_COMPACT_AT: 0.5, CONTINUE_AS_NEW_AT_BYTES: 1_000_000 });
    expect(() => loadWorkerConfig({ CONTEXT_COMPACT_AT: '1.5' })).toThrow(/CONTEXT_COMPACT_AT/);
    expect(() => loadWorkerConfig({ CONTEXT_COMPACT_AT: '0' })).toThrow(/CONTEXT_COMPACT_AT/);
  });

  it('coerces numbers and flags from their string values', () => {
    const config = loadWorkerConfig({
      MODEL_TIMEOUT_SECONDS: '2.5',
      MODEL_HEARTBEAT_SECONDS: '10',
      MODEL_MAX_ATTEMPTS: '2',
      MODEL_RATE_LIMIT_SECONDS: '90',
      HEARTBEAT_THROTTLE_MS: '250',
      WORKER_STICKY_TIMEOUT_SECONDS: '0.5',
      TOOL_RESULT_MAX_BYTES: '500',
      TEMPORAL_TLS: '1',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      TASK_QUEUE: 'gpu',
    });
    expect(config).toMatchObject({
      MODEL_TIMEOUT_SECONDS: 2.5,
      MODEL_HEARTBEAT_SECONDS: 10,
      MODEL_MAX_ATTEMPTS: 2,
      MODEL_RATE_LIMIT_SECONDS: 90,
      HEARTBEAT_THROTTLE_MS: 250,
      WORKER_STICKY_TIMEOUT_SECONDS: 0.5,
      TOOL_RESULT_MAX_BYTES: 500,
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      TASK_QUEUE: 'gpu',
    });
    expect(config.connection.tls).toBeTruthy();
    expect(loadWorkerConfig({ TEMPORAL_TLS: 'false' }).connection.tls).toBe(false);
  });

  it.each([
    ['MODEL_TIMEOUT_SECONDS', 'soon'],
    ['MODEL_TIMEOUT_SECONDS', '-1'],
    ['MODEL_HEARTBEAT_SECONDS', '0'],
    ['MODEL_MAX_ATTEMPTS', '2.5'],
    ['MODEL_RATE_LIMIT_SECONDS', '0'],
    ['MODEL_RATE_LIMIT_SECONDS', 'ten minutes'],
    ['HEARTBEAT_THROTTLE_MS', '0'],
    ['HEARTBEAT_THROTTLE_MS', '1.5'],
    ['HEARTBEAT_THROTTLE_MS', '1s'],
    ['WORKER_STICKY_TIMEOUT_SECONDS', '-1'],
    ['WORKER_STICKY_TIMEOUT_SECONDS', 'never'],
    ['TOOL_RESULT_MAX_BYTES', 'lots'],
    ['OPENAI_BASE_URL', 'not a url'],
    ['TEMPORAL_TLS', 'yes'],
    ['USAGE_ATTRIBUTES', 'sometimes'],
  ])('rejects %s=%j with a ConfigError naming the variable', (name, value) => {
    const error = configError(() => loadWorkerConfig({ [name]: value }));
    expect(error.message).toMatch(new RegExp(`^invalid environment: ${name}: `));
  });

  it('reads the old *_MAX_CHARS names as the *_MAX_BYTES ones, with a deprecation warning', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const config = loadWorkerConfig({ TRANSCRIPT_MAX_CHARS: '6000', TOOL_RESULT_MAX_CHARS: '700' });
      expect(config).toMatchObject({ TRANSCRIPT_MAX_BYTES: 6000, TOOL_RESULT_MAX_BYTES: 700 });
      expect(warn).toHaveBeenCalledTimes(2);
      // The new name wins over the old one.
      expect(
        loadWorkerConfig({ TRANSCRIPT_MAX_CHARS: '6000', TRANSCRIPT_MAX_BYTES: '9000' }).TRANSCRIPT_MAX_BYTES,
      ).toBe(9000);
    } finally {
      warn.mockRestore();
    }
  });

  it('treats a variable set to nothing as unset, so its default applies', () => {
    expect(loadWorkerConfig({ TASK_QUEUE: '', MODEL_TIMEOUT_SECONDS: '' })).toMatchObject({
      TASK_QUEUE: 'agents',
      MODEL_TIMEOUT_SECONDS: 120,
    });
  });

  it('names every bad variable at once', () => {
    const error = configError(() => loadWorkerConfig({ MODEL_TIMEOUT_SECONDS: 'soon', OPENAI_BASE_URL: 'not a url' }));
    expect(error.message).toContain('MODEL_TIMEOUT_SECONDS: ');
    expect(error.message).toContain('OPENAI_BASE_URL: ');
  });

  it('loadTemporalConfig reads only the Temporal connection', () => {
    expect(loadTemporalConfig({ TEMPORAL_ADDRESS: 'example.tmprl.cloud:7233', AGENT_MODEL: 'ignored' })).toEqual({
      TEMPORAL_ADDRESS: 'example.tmprl.cloud:7233',
      addressFrom: { source: 'TEMPORAL_ADDRESS', reason: 'TEMPORAL_ADDRESS' },
      TEMPORAL_NAMESPACE: 'default',
      TASK_QUEUE: 'agents',
      connection: { address: 'example.tmprl.cloud:7233' },
    });
  });
});

describe('createAgentWorker', () => {
  /** The options `createAgentWorker` gives `Worker.create`, once per task queue, for `env`, without a server. */
  async function allWorkerOptions(env: Record<string, string>): Promise<WorkerOptions[]> {
    // The example agent, named as a worker must name it now (a worker registers only what it is told).
    // The suite's prebuilt bundle: a worker bundles the sources itself (seconds) only without one.
    const config = loadWorkerConfig({
      AGENT_MODULES: 'helpdesk',
      WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE!,
      ...env,
    });
    const connection = { close: jest.fn(async () => undefined) } as unknown as NativeConnection;
    const connect = jest.spyOn(NativeConnection, 'connect').mockResolvedValue(connection);
    const create = jest.spyOn(Worker, 'create').mockResolvedValue({} as Worker);
    try {
      await createAgentWorker(config, await buildRegistry(config));
      return create.mock.calls.map(([options]) => options);
    } finally {
      connect.mockRestore();
      create.mockRestore();
    }
  }

  /** The options of the worker polling the run loop's task queue (the `workflows` role). */
  const workerOptions = async (env: Record<string, string>) => (await allWorkerOptions(env))[0];

  it('passes the heartbeat throttle, the sticky timeout and the 429 budget on, with their defaults', async () => {
    const options = await workerOptions({});
    expect(options).toMatchObject({
      maxHeartbeatThrottleInterval: 250,
      defaultHeartbeatThrottleInterval: 250,
      stickyQueueScheduleToStartTimeout: 1_000,
    });
    const activities = options.activities as {
      resolveAgentSpec(input: { agent: string }): Promise<{ modelCall: object }>;
    };
    expect((await activities.resolveAgentSpec({ agent: 'helpdesk' })).modelCall).toEqual({
      requestTimeoutMs: 120_000,
      heartbeatTimeoutMs: 30_000,
      maxAttempts: 5,
      rateLimitBudgetMs: 600_000,
      unavailableBudgetMs: 300_000,
      unparsedAttempts: 3,
      pacingWaitMs: 60_000,
      // A worker of every role keeps model calls on the runs' queue; the run records where they go.
      taskQueue: 'agents',
    });
  });

  it("lists in a spec only the workflow changes the run's code knows, which it sends", async () => {
    const activities = (await workerOptions({})).activities as {
      resolveAgentSpec(input: { agent: string; knownPatches?: string[] }): Promise<{ patches: string[] }>;
    };
    const patchesFor = async (knownPatches?: string[]) =>
      (await activities.resolveAgentSpec({ agent: 'helpdesk', knownPatches })).patches;
    // The same code (a local resolution): all of them.
    expect(await patchesFor([...PATCHES_IN_SPEC])).toEqual(PATCHES_IN_SPEC);
    // Older code running the run (a hand-over to a newer worker): not the changes it lacks; ids it
    // knows that this worker does not are no concern of this spec.
    expect(await patchesFor([Patch.steering, Patch.loopGuards, 'a-later-change'])).toEqual([
      Patch.loopGuards,
      Patch.steering,
    ]);
    // The first code to hand the resolution over sent no list: what it knew.
    expect(await patchesFor(undefined)).toEqual(PATCHES_OF_UNLISTED_HANDOVERS);
    // Not a list (the activity's input is a history's, not typed): as none, never a substring match.
    expect(await patchesFor('steering' as unknown as string[])).toEqual(PATCHES_OF_UNLISTED_HANDOVERS);
    expect(PATCHES_OF_UNLISTED_HANDOVERS).not.toContain(Patch.callsReachRegisteringWorkers);
  });

  it('reads HEARTBEAT_THROTTLE_MS, WORKER_STICKY_TIMEOUT_SECONDS and MODEL_RATE_LIMIT_SECONDS', async () => {
    const options = await workerOptions({
      HEARTBEAT_THROTTLE_MS: '300',
      WORKER_STICKY_TIMEOUT_SECONDS: '2.5',
      MODEL_RATE_LIMIT_SECONDS: '45',
    });
    expect(options).toMatchObject({
      maxHeartbeatThrottleInterval: 300,
      defaultHeartbeatThrottleInterval: 300,
      stickyQueueScheduleToStartTimeout: 2_500,
    });
    const activities = options.activities as {
      resolveAgentSpec(input: { agent: string }): Promise<{ modelCall: object }>;
    };
    expect((await activities.resolveAgentSpec({ agent: 'helpdesk' })).modelCall).toMatchObject({
      rateLimitBudgetMs: 45_000,
    });
  });

  it('creates one Temporal worker per task queue its role polls, each with its own limits', async () => {
    const roles = async (env: Record<string, string>) => {
      const options = await allWorkerOptions(env);
      return options.map(({ taskQueue, maxTaskQueueActivitiesPerSecond, maxConcurrentActivityTaskExecutions }) => ({
        taskQueue,
        ...(maxTaskQueueActivitiesPerSecond !== undefined && { maxTaskQueueActivitiesPerSecond }),
        ...(maxConcurrentActivityTaskExecutions !== undefined && { maxConcurrentActivityTaskExecutions }),
      }));
    };
    expect(await roles({ MODEL_CALLS_PER_SECOND: '3', MODEL_CONCURRENCY: '8', TOOL_CONCURRENCY: '4' })).toEqual([
      { taskQueue: 'agents' },
      { taskQueue: 'agents-model', maxTaskQueueActivitiesPerSecond: 3, maxConcurrentActivityTaskExecutions: 8 },
      { taskQueue: 'agents-tools', maxConcurrentActivityTaskExecutions: 4 },
    ]);
    expect(await roles({ WORKER_ROLE: 'tools' })).toEqual([{ taskQueue: 'agents-tools' }]);
    // Calls on the runs' own queue (a single worker's default) are served by the workflows worker; the
    // separate queues are still polled for the runs that recorded them when they were the default.
    expect(await roles({})).toEqual([
      { taskQueue: 'agents' },
      { taskQueue: 'agents-model' },
      { taskQueue: 'agents-tools' },
    ]);
    expect(await roles({ MODEL_TASK_QUEUE: 'agents', TOOL_TASK_QUEUE: 'agents' })).toEqual(await roles({}));
    const [workflows] = await allWorkerOptions({ WORKER_ROLE: 'workflows', SHUTDOWN_GRACE_SECONDS: '45' });
    expect(workflows).toMatchObject({ shutdownGraceTime: 45_000 });
    expect(Object.keys(workflows.activities ?? {})).toContain('resolveAgentSpec');
    const [versioned] = await allWorkerOptions({
      WORKER_ROLE: 'model',
      WORKER_DEPLOYMENT_NAME: 'agents',
      WORKER_BUILD_ID: 'b42',
    });
    expect(Object.keys(versioned.activities ?? {})).toEqual(['callModel', 'summarizeConversation']);
    expect(versioned.workerDeploymentOptions).toEqual({
      version: { deploymentName: 'agents', buildId: 'b42' },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    });
  });

  it('runs as many workflow tasks at once as WORKFLOW_CONCURRENCY says, and room for each local model call', async () => {
    const defaults = await workerOptions({});
    expect(defaults).not.toHaveProperty('maxConcurrentWorkflowTaskExecutions');
    expect(defaults).not.toHaveProperty('workflowThreadPoolSize');
    expect(await workerOptions({ LOCAL_ACTIVITIES: 'tools' })).not.toHaveProperty(
      'maxConcurrentWorkflowTaskExecutions',
    );
    expect(await workerOptions({ LOCAL_ACTIVITIES: 'model' })).toMatchObject({
      maxConcurrentWorkflowTaskExecutions: 200,
    });
    expect(
      await workerOptions({ LOCAL_ACTIVITIES: 'model', WORKFLOW_CONCURRENCY: '80', WORKFLOW_THREADS: '2' }),
    ).toMatchObject({ maxConcurrentWorkflowTaskExecutions: 80, workflowThreadPoolSize: 2 });
    // Local calls count against MODEL_CONCURRENCY and TOOL_CONCURRENCY on the worker that runs them.
    expect(await workerOptions({ LOCAL_ACTIVITIES: 'model' })).not.toHaveProperty(
      'maxConcurrentLocalActivityExecutions',
    );
    expect(await workerOptions({ LOCAL_ACTIVITIES: 'model', MODEL_CONCURRENCY: '1000' })).toMatchObject({
      maxConcurrentLocalActivityExecutions: 1000,
      maxConcurrentWorkflowTaskExecutions: 1000,
    });
    expect(
      await workerOptions({ LOCAL_ACTIVITIES: 'model,tools', MODEL_CONCURRENCY: '50', TOOL_CONCURRENCY: '20' }),
    ).toMatchObject({ maxConcurrentLocalActivityExecutions: 70, maxConcurrentWorkflowTaskExecutions: 200 });
    expect(await workerOptions({ LOCAL_ACTIVITIES: 'tools', TOOL_CONCURRENCY: '20' })).toMatchObject({
      maxConcurrentLocalActivityExecutions: 20,
    });
  });

  it("leaves the workflow cache at the SDK's default unless WORKFLOW_CACHE_SIZE sets it", async () => {
    expect(await workerOptions({})).not.toHaveProperty('maxCachedWorkflows');
    expect(await workerOptions({ WORKFLOW_CACHE_SIZE: '400' })).toMatchObject({ maxCachedWorkflows: 400 });
    expect(() => loadWorkerConfig({ WORKFLOW_CACHE_SIZE: 'lots' })).toThrow(/WORKFLOW_CACHE_SIZE/);
  });
});

describe('the Temporal connection (@temporalio/envconfig)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'durable-agents-config-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const profiles = file(
    'temporal.toml',
    [
      '[profile.cloud]',
      'address = "acct.tmprl.cloud:7233"',
      'namespace = "agents.acct"',
      'api_key = "secret-key"',
    ].join('\n'),
  );

  it('reads a profile the temporal CLI shares, and env overrides it', () => {
    const config = loadTemporalConfig({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'cloud' });
    expect(config).toMatchObject({ TEMPORAL_ADDRESS: 'acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'agents.acct' });
    // An API key turns TLS on.
    expect(config.connection).toEqual({ address: 'acct.tmprl.cloud:7233', apiKey: 'secret-key', tls: true });
    const overridden = loadTemporalConfig({
      TEMPORAL_CONFIG_FILE: profiles,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_NAMESPACE: 'other',
    });
    expect(overridden.TEMPORAL_NAMESPACE).toBe('other');
  });

  it("takes the caller's flags over their env twins, and an address or namespace over the profile's", () => {
    const env = {
      TEMPORAL_CONFIG_FILE: profiles,
      TEMPORAL_PROFILE: 'missing',
      TEMPORAL_ADDRESS: 'env:7233',
      TEMPORAL_NAMESPACE: 'env-ns',
    };
    expect(loadTemporalConfig(env, { profile: 'cloud' })).toMatchObject({
      TEMPORAL_ADDRESS: 'env:7233',
      TEMPORAL_NAMESPACE: 'env-ns',
      connection: { address: 'env:7233', apiKey: 'secret-key' },
    });
    const flagged = loadTemporalConfig(env, { profile: 'cloud', address: 'flag:7233', namespace: 'flag-ns' });
    expect(flagged).toMatchObject({ TEMPORAL_ADDRESS: 'flag:7233', TEMPORAL_NAMESPACE: 'flag-ns' });
    expect(flagged.connection).toEqual({ address: 'flag:7233', apiKey: 'secret-key', tls: true });
    const profileOnly = loadTemporalConfig({ TEMPORAL_CONFIG_FILE: profiles }, { profile: 'cloud', namespace: 'mine' });
    expect(profileOnly).toMatchObject({ TEMPORAL_ADDRESS: 'acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'mine' });
    // Flags not given leave env as it is.
    expect(loadTemporalConfig({ TEMPORAL_ADDRESS: 'env:7233' }, {}).TEMPORAL_ADDRESS).toBe('env:7233');
  });

  it('names a missing profile in a ConfigError', () => {
    const error = configError(() =>
      loadTemporalConfig({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'staging' }),
    );
    expect(error.message).toMatch(/^Temporal connection settings: .*staging/);
  });

  it('reads mTLS certificates from the standard variables', () => {
    const cert = file('client.pem', 'CERT');
    const key = file('client.key', 'KEY');
    const { connection } = loadTemporalConfig({
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
    });
    expect(connection.tls).toMatchObject({ clientCertPair: { crt: Buffer.from('CERT'), key: Buffer.from('KEY') } });
  });

  it('keeps the old TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY names working, with a deprecation warning', () => {
    const cert = file('old.pem', 'OLD CERT');
    const key = file('old.key', 'OLD KEY');
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const { connection } = loadTemporalConfig({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key });
      expect(connection.tls).toMatchObject({
        clientCertPair: { crt: Buffer.from('OLD CERT'), key: Buffer.from('OLD KEY') },
      });
      expect(warn.mock.calls.map(([message]) => message)).toEqual([
        'TEMPORAL_TLS_CERT is deprecated and will be removed in the next release: use TEMPORAL_TLS_CLIENT_CERT_PATH',
        'TEMPORAL_TLS_KEY is deprecated and will be removed in the next release: use TEMPORAL_TLS_CLIENT_KEY_PATH',
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('buildPriceTable', () => {
  it.each([undefined, ''])('is a copy of the defaults without extra prices (%j)', (extra) => {
    const table = buildPriceTable(extra);
    expect(table).toEqual(DEFAULT_PRICES);
    expect(table).not.toBe(DEFAULT_PRICES);
  });

  it('adds new models and overrides default ones from JSON', () => {
    const table = buildPriceTable(
      JSON.stringify({
        'llama3.1:8b': { inputPerMillion: 0, outputPerMillion: 0 },
        'gpt-4o': { inputPerMillion: 1, outputPerMillion: 2 },
      }),
    );
    expect(table['llama3.1:8b']).toEqual({ inputPerMillion: 0, outputPerMillion: 0 });
    expect(table['gpt-4o']).toEqual({ inputPerMillion: 1, outputPerMillion: 2 });
    expect(table['gpt-4o-mini']).toEqual(DEFAULT_PRICES['gpt-4o-mini']);
    expect(DEFAULT_PRICES['gpt-4o']).toEqual({
      inputPerMillion: 2.5,
      cachedInputPerMillion: 1.25,
      outputPerMillion: 10,
    });
  });

  it('rejects text that is not JSON', () => {
    expect(configError(() => buildPriceTable('{gpt-4o: 1}')).message).toMatch(/^MODEL_PRICES is not JSON: /);
  });

  it.each([
    ['a string price', { m: { inputPerMillion: '1', outputPerMillion: 2 } }, 'm.inputPerMillion'],
    ['a missing price', { m: { inputPerMillion: 1 } }, 'm.outputPerMillion'],
    ['a negative price', { m: { inputPerMillion: 1, outputPerMillion: -2 } }, 'm.outputPerMillion'],
    [
      'an unknown field',
      { m: { inputPerMillion: 1, outputPerMillion: 2, cached: 1 } },
      'm: Unrecognized key: "cached"',
    ],
    ['a bare number per model', { m: 3 }, 'm: '],
    ['an array', [1, 2], '(input): '],
  ])('rejects JSON with %s, naming the field', (_case, value, field) => {
    const error = configError(() => buildPriceTable(JSON.stringify(value)));
    expect(error.message).toMatch(/^MODEL_PRICES: /);
    expect(error.message).toContain(field);
  });
});

describe('costOf', () => {
  it('prices input and output tokens per million', () => {
    const { costUsd, known } = costOf(DEFAULT_PRICES, 'gpt-4o', { inputTokens: 1_000_000, outputTokens: 500_000 });
    expect(known).toBe(true);
    expect(costUsd).toBeCloseTo(2.5 + 5, 12);
    expect(costOf(DEFAULT_PRICES, 'gpt-4o-mini', { inputTokens: 1000, outputTokens: 200 }).costUsd).toBeCloseTo(
      (1000 * 0.15 + 200 * 0.6) / 1e6,
      15,
    );
  });

  it('bills cached input at the cached price, and reported reasoning inside the output', () => {
    const prices = { m: { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8 } };
    // 1,200 prompt tokens of which 1,000 cached; 400 completion tokens (reasoning among them).
    const { costUsd } = costOf(prices, 'm', { inputTokens: 1200, cachedInputTokens: 1000, outputTokens: 400 });
    expect(costUsd).toBeCloseTo((200 * 2 + 1000 * 0.5 + 400 * 8) / 1e6, 15);
  });

  it('bills cached input at the input price when the model has no cached price (prices recorded before them)', () => {
    const prices = { m: { inputPerMillion: 2, outputPerMillion: 8 } };
    const tokens = { inputTokens: 1200, cachedInputTokens: 1000, outputTokens: 400 };
    expect(costOf(prices, 'm', tokens).costUsd).toBeCloseTo((1200 * 2 + 400 * 8) / 1e6, 15);
  });

  it('never bills more cached tokens than the input held (a hostile report)', () => {
    const prices = { m: { inputPerMillion: 2, cachedInputPerMillion: 0, outputPerMillion: 8 } };
    expect(costOf(prices, 'm', { inputTokens: 10, cachedInputTokens: 1e9, outputTokens: 0 }).costUsd).toBe(0);
  });

  it('lists a cached price for every built-in model, below its input price', () => {
    for (const price of Object.values(DEFAULT_PRICES)) {
      expect(price.cachedInputPerMillion).toBeLessThan(price.inputPerMillion);
    }
    expect(buildPriceTable('{"m":{"inputPerMillion":1,"cachedInputPerMillion":0.1,"outputPerMillion":2}}').m).toEqual({
      inputPerMillion: 1,
      cachedInputPerMillion: 0.1,
      outputPerMillion: 2,
    });
  });

  it('charges 0 and marks the cost unknown for a model without a price', () => {
    expect(costOf(DEFAULT_PRICES, 'my-local-model', { inputTokens: 1000, outputTokens: 1000 })).toEqual({
      costUsd: 0,
      known: false,
    });
  });

  // A model name that collides with an Object.prototype member must not find a "price".
  it.each(['constructor', 'toString', '__proto__'])('treats the model name %j as unpriced', (model) => {
    expect(costOf(buildPriceTable(), model, { inputTokens: 1000, outputTokens: 1000 })).toEqual({
      costUsd: 0,
      known: false,
    });
  });
});

describe('limitResult', () => {
  it.each([
    ['shorter than', 'abc', 5],
    ['exactly', 'abcde', 5],
  ])('returns content %s the limit unchanged', (_case, content, maxChars) => {
    expect(limitResult(content, maxChars)).toBe(content);
  });

  it('cuts longer content to a JSON note with the first maxBytes bytes', () => {
    const content = JSON.stringify({ rows: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `row ${i}` })) });
    const limited = JSON.parse(limitResult(content, 100));
    expect(limited).toEqual({
      truncated: true,
      note: `The result had ${content.length} bytes; only the first 100 are shown.`,
      partial: content.slice(0, 100),
    });
    expect(limited.partial).toHaveLength(100);
  });

  it('counts UTF-8 bytes, not characters, and never splits a character', () => {
    const content = '東京'.repeat(20); // 40 characters, 120 bytes
    expect(limitResult(content, 120)).toBe(content);
    const limited = JSON.parse(limitResult(content, 100));
    expect(limited.note).toBe('The result had 120 bytes; only the first 100 are shown.');
    expect(limited.partial).toBe(content.slice(0, 33)); // 99 bytes: the 34th character would pass 100
  });
});

describe('idempotencyKey', () => {
  it('joins workflow id and call id, stable for the same call and distinct across calls', () => {
    expect(idempotencyKey('run-1', '3.1')).toBe('run-1/3.1');
    expect(idempotencyKey('run-1', '3.1')).toBe(idempotencyKey('run-1', '3.1'));
    expect(idempotencyKey('run-1', '3.2')).not.toBe(idempotencyKey('run-1', '3.1'));
    expect(idempotencyKey('run-2', '3.1')).not.toBe(idempotencyKey('run-1', '3.1'));
    expect(idempotencyKey('run-1', '3.1', 'chain-a')).toBe('run-1/chain-a/3.1');
    expect(idempotencyKey('run-1', '3.1', 'chain-b')).not.toBe(idempotencyKey('run-1', '3.1', 'chain-a'));
  });
});

describe('agentRunInputSchema and describeIssues', () => {
  function issues(input: unknown): string {
    const result = agentRunInputSchema.safeParse(input);
    if (result.success) throw new Error('expected the input to be rejected');
    return describeIssues(result.error);
  }

  it('defaults the mode to task and trims the message', () => {
    expect(agentRunInputSchema.parse({ agent: 'helpdesk', message: '  Hi!  ' })).toEqual({
      agent: 'helpdesk',
      message: 'Hi!',
      mode: 'task',
    });
  });

  it('keeps every valid optional field', () => {
    const input = {
      agent: 'helpdesk',
      message: 'Hi',
      userId: 'u1',
      model: 'gpt-4.1',
      mode: 'session',
      idleTimeoutSeconds: 600,
      approvalTimeoutSeconds: 0.5,
      limits: { maxSteps: 5, maxTokens: 1000, maxCostUsd: 0.25, maxDurationSeconds: 30 },
    };
    expect(agentRunInputSchema.parse(input)).toEqual(input);
  });

  it('accepts a message of exactly the byte bound (its JSON form, quotes included)', () => {
    expect(agentRunInputSchema.safeParse({ agent: 'a', message: 'x'.repeat(131_070) }).success).toBe(true);
  });

  it('rejects unknown keys at the top level and in limits, naming them', () => {
    const described = issues({ agent: 'a', message: 'm', temperature: 0.2, limits: { maxTurns: 3 } });
    expect(described).toContain('(input): Unrecognized key: "temperature"');
    expect(described).toContain('limits: Unrecognized key: "maxTurns"');
  });

  it.each<[string, Record<string, unknown>]>([
    ['agent', { agent: '' }],
    ['message', { message: '   ' }],
    ['message', { message: 'x'.repeat(131_071) }],
    ['message', { message: '東'.repeat(43_700) }],
    ['message', { message: '\u0001'.repeat(30_000) }],
    ['agent', { agent: 'a'.repeat(300) }],
    ['userId', { userId: '' }],
    ['userId', { userId: 'u'.repeat(5_000) }],
    ['model', { model: 'm'.repeat(300) }],
    ['model', { model: 42 }],
    ['mode', { mode: 'chat' }],
    ['idleTimeoutSeconds', { idleTimeoutSeconds: 0 }],
    ['approvalTimeoutSeconds', { approvalTimeoutSeconds: -5 }],
    ['limits', { limits: [] }],
    ['limits.maxSteps', { limits: { maxSteps: 0 } }],
    ['limits.maxSteps', { limits: { maxSteps: 1.5 } }],
    ['limits.maxTokens', { limits: { maxTokens: '100' } }],
    ['limits.maxCostUsd', { limits: { maxCostUsd: -1 } }],
    ['limits.maxDurationSeconds', { limits: { maxDurationSeconds: 0 } }],
  ])('names the bad field %s', (path, override) => {
    const described = issues({ agent: 'helpdesk', message: 'Hi', ...override });
    expect(described.split('; ')).toEqual([expect.stringMatching(new RegExp(`^${path.replace('.', '\\.')}: `))]);
  });

  it('names every bad field of one input, one per issue', () => {
    const described = issues({ limits: { maxSteps: -1, maxTokens: 0 } });
    expect(described.split('; ').map((line) => line.split(':')[0])).toEqual([
      'agent',
      'message',
      'limits.maxSteps',
      'limits.maxTokens',
    ]);
  });

  it('describes a non-object input as (input)', () => {
    expect(issues('hello')).toMatch(/^\(input\): /);
  });
});
