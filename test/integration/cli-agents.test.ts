/**
 * `durable-agents agents` (issues #12, #23): the agents a worker with the same env would register
 * (plug-in modules, and the example helpdesk when AGENT_MODULES names it or on the offline demo model),
 * for people and for scripts, with no Temporal server; a module that does not load is one line and
 * exit code 1, and so is an environment that gives a worker no agent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectOneLineError, runCli } from '../support/cli';

const MODULES = 'test/fixtures/listed-agent.mjs,test/support/recovery-agent.ts';
/** A port nothing listens on: listing agents must not need Temporal. */
const env = (extra: Record<string, string> = {}) => ({ TEMPORAL_ADDRESS: '127.0.0.1:1', ...extra });

describe('durable-agents agents', () => {
  it('lists the example and the plug-in agents AGENT_MODULES names, for people', async () => {
    const { code, stdout, stderr } = await runCli(['agents'], env({ AGENT_MODULES: `helpdesk,${MODULES}` }));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const blocks = stdout.trimEnd().split('\n\n');
    expect(blocks.map((block) => block.split('\n')[0])).toEqual([
      'billing (test/fixtures/listed-agent.mjs)',
      'helpdesk (built-in)',
      'recovery (test/support/recovery-agent.ts)',
    ]);
    expect(blocks[0]).toBe(
      [
        'billing (test/fixtures/listed-agent.mjs)',
        '  Answers billing questions and refunds invoices.',
        '  model:            gpt-4o',
        '  tools:            find_invoice, refund_invoice (needs approval)',
        '  approval timeout: 1h 30m',
        '  limits:           maxSteps 8, maxCostUsd 0.5, maxRepeats 2, lifetime maxTokens 200000 · defaults: maxToolCallsPerTurn 64',
        '  memory:           on (adds tools remember, forget)',
        '  fallback models:  gpt-4o-mini, local-llama',
      ].join('\n'),
    );
    expect(blocks[1]).toContain(
      '  tools:            search_knowledge_base, lookup_order, issue_refund (needs approval)\n',
    );
    expect(blocks[2]).toBe(
      [
        'recovery (test/support/recovery-agent.ts)',
        '  model:            worker default (AGENT_MODEL=gpt-4o-mini)',
        '  tools:            slow_step',
        '  approval timeout: 24h',
        '  limits:           defaults: maxSteps 100, maxRepeats 3, maxToolCallsPerTurn 64',
        '  memory:           off',
        '  fallback models:  none',
      ].join('\n'),
    );
  });

  it('lists the example helpdesk only when AGENT_MODULES names it; with no agent at all, says why', async () => {
    const plain = await runCli(['agents', '--json'], env({ AGENT_MODULES: MODULES }));
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout).map((agent: { name: string }) => agent.name)).toEqual(['billing', 'recovery']);
    expectOneLineError(
      await runCli(['agents'], env()),
      1,
      /^error: no agents to run: AGENT_MODULES names none\. Set it to your agent modules \(AGENT_MODULES=\.\/weather\.mjs\), to helpdesk for the example agent, or run with --offline/,
    );
  });

  it('--json: one object per agent, for scripts; the worker default is the env AGENT_MODEL', async () => {
    const { code, stdout } = await runCli(
      ['agents', '--json'],
      env({ AGENT_MODULES: MODULES, AGENT_MODEL: 'offline' }),
    );
    expect(code).toBe(0);
    const agents = JSON.parse(stdout);
    // On the offline demo model the example helpdesk comes too: its conversation is the helpdesk's.
    expect(agents.map((agent: { name: string }) => agent.name)).toEqual(['billing', 'helpdesk', 'recovery']);
    expect(agents[0]).toEqual({
      name: 'billing',
      source: 'test/fixtures/listed-agent.mjs',
      description: 'Answers billing questions and refunds invoices.',
      model: 'gpt-4o',
      defaultModel: 'offline',
      tools: [
        { name: 'find_invoice', description: 'Find an invoice by number.', requiresApproval: false },
        { name: 'refund_invoice', description: 'Refund an invoice.', requiresApproval: true },
      ],
      approvalTimeoutSeconds: 5400,
      limits: { maxSteps: 8, maxCostUsd: 0.5, maxRepeats: 2, maxToolCallsPerTurn: 64, lifetime: { maxTokens: 200000 } },
      agentLimits: { maxSteps: 8, maxCostUsd: 0.5, maxRepeats: 2, lifetime: { maxTokens: 200000 } },
      mcpServers: [],
      memory: true,
      fallbackModels: ['gpt-4o-mini', 'local-llama'],
    });
    expect(agents[2]).toMatchObject({
      name: 'recovery',
      model: null,
      defaultModel: 'offline',
      tools: [{ name: 'slow_step', requiresApproval: false }],
      approvalTimeoutSeconds: 86400,
      limits: { maxSteps: 100, maxRepeats: 3, maxToolCallsPerTurn: 64 },
      agentLimits: {},
      memory: false,
      fallbackModels: [],
    });
  });

  it("shows an agent's MCP servers, where each is and what needs approval, never a secret", async () => {
    // Secrets where an author may put them: URL credentials and query, headers, arguments, environment.
    const folder = mkdtempSync(join(tmpdir(), 'mcp-listed-'));
    const module = join(folder, 'mcp-listed.mjs');
    writeFileSync(
      module,
      `export default ({ defineAgent, defineMcpServer, fromEnv }) => {
        const files = defineMcpServer({ name: 'fs', command: 'npx', args: ['--token', 'sk-arg'], env: { TOKEN: 'sk-env' } });
        const search = defineMcpServer({
          name: 'search',
          url: 'https://ada:sk-password@mcp.example.com/mcp?key=sk-query#sk-fragment',
          headers: { Authorization: 'Bearer sk-header' },
          requiresApproval: ['write_*', 'delete_*'],
        });
        const wiki = defineMcpServer({ name: 'wiki', url: 'https://ada:sk-password@\${WIKI_HOST}/mcp?token=sk-query', requiresApproval: true });
        const crm = defineMcpServer({ name: 'crm', url: fromEnv('CRM_URL') });
        return [
          files,
          defineAgent({ name: 'clerk', instructions: 'Use your tools.', tools: [], mcpServers: ['fs', search, wiki, crm] }),
        ];
      };`,
    );
    const text = await runCli(['agents'], env({ AGENT_MODULES: module }));
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' });
    expect(text.stdout).toContain(
      [
        '  tools:            none of its own; those its MCP servers list',
        '  mcp servers:      fs (npx), search (https://mcp.example.com/mcp, needs approval for write_*, delete_*), ' +
          'wiki (https://${WIKI_HOST}/mcp, needs approval), crm (${CRM_URL})',
        '  approval timeout: 24h',
      ].join('\n'),
    );
    const json = await runCli(['agents', '--json'], env({ AGENT_MODULES: module }));
    expect(JSON.parse(json.stdout)[0].mcpServers).toEqual([
      { name: 'fs', command: 'npx', requiresApproval: false },
      { name: 'search', url: 'https://mcp.example.com/mcp', requiresApproval: ['write_*', 'delete_*'] },
      { name: 'wiki', url: 'https://${WIKI_HOST}/mcp', requiresApproval: true },
      { name: 'crm', url: '${CRM_URL}', requiresApproval: false },
    ]);
    for (const { stdout } of [text, json]) expect(stdout).not.toMatch(/sk-|ada:/);
    rmSync(folder, { recursive: true });
  });

  it('agents, worker and dev have help with examples and the env variables that matter to each', async () => {
    const expected: Record<string, string[]> = {
      agents: ['$ durable-agents agents', 'AGENT_MODULES', 'AGENT_MODEL'],
      worker: [
        '$ durable-agents worker --offline',
        'TEMPORAL_ADDRESS',
        'TASK_QUEUE',
        'OPENAI_API_KEY',
        'AGENT_MODULES',
      ],
      dev: ['$ durable-agents dev', 'TEMPORAL_ADDRESS', 'TEMPORAL_PORT', 'TEMPORAL_UI_PORT', 'TEMPORAL_RUN_DIR'],
    };
    const helps = await Promise.all(Object.keys(expected).map((command) => runCli([command, '--help'], {})));
    Object.entries(expected).forEach(([command, texts], index) => {
      const { code, stdout } = helps[index];
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: durable-agents ${command} `);
      expect(stdout).toContain('Examples:\n');
      for (const text of texts) expect(stdout).toContain(text);
    });
    const overview = (await runCli(['--help'], {})).stdout;
    for (const command of Object.keys(expected)) expect(overview).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it.each([
    ['a module that is not there', './no-such-agents.mjs', /^error: cannot load agent module \S+no-such-agents\.mjs: /],
    [
      'a module whose export is no agent',
      'test/fixtures/broken-agent.mjs',
      /^error: test\/fixtures\/broken-agent\.mjs: \{"name":"not-defined-with-defineAgent"\} is neither a defineAgent\(\.\.\.\) nor a defineMcpServer\(\.\.\.\) result$/,
    ],
    ['a misspelt option', 'test/fixtures/typo-agent.mjs', /^error: agent module \S+typo-agent\.mjs: .*requireApproval/],
  ])('%s: one line on stderr, exit code 1', async (_what, module, message) => {
    expectOneLineError(
      await runCli(['agents'], env({ AGENT_MODULES: `test/fixtures/weather-agent.mjs,${module}` })),
      1,
      message,
    );
  });
});
