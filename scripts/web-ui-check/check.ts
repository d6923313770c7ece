/**
 * The Web UI check (not part of `npm test`: it needs Chromium): a dev server started by
 * `temporal-dev.sh start` with PAYLOAD_KEYS set (so with a codec server and `--ui-codec-endpoint`), a
 * worker holding the key, an encrypted session run; then headless Chromium opens the run's page and
 * the check passes once the page shows the run's input decoded; then a run awaiting approval, whose
 * page must show its current details: the call, the command that approves it, its cost. Screenshots
 * are left for people.
 *
 *   cd scripts/web-ui-check && npm ci && npm run check -- [screenshot.png]
 *
 * Chromium: CHROMIUM_PATH, else `chromium` or `chromium-browser` on PATH (Debian: apt-get install chromium).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import puppeteer, { type Browser } from 'puppeteer-core';
import { AgentClient } from '../../client/agent-client';
import { loadTemporalConfig } from '../../src/config';
import { freePort } from '../../testing/dev-server';
import { byTurn, reply, startScriptedModel } from '../../testing';

const REPO = resolve(__dirname, '..', '..');
const execute = promisify(execFile);
/** The UI long-polls a running workflow's page, so "page loaded" never comes: every wait is bounded. */
const PAGE_TIMEOUT_MS = 60_000;

async function chromiumPath(): Promise<string> {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    const found = await execute('sh', ['-c', `command -v ${name}`]).then(
      ({ stdout }) => stdout.trim(),
      () => '',
    );
    if (found) return found;
  }
  throw new Error('no Chromium: set CHROMIUM_PATH or install it (Debian: apt-get install chromium)');
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

async function main(screenshot: string): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'web-ui-check-'));
  const [port, uiPort, codecPort] = [await freePort(), await freePort(), await freePort()];
  const keys = `web-ui-check:${randomBytes(32).toString('base64')}`;
  const taskQueue = `web-ui-check-${randomBytes(4).toString('hex')}`;
  const marker = `Penguin-${randomBytes(3).toString('hex')}`;
  const message = `Where is my order 1043? (${marker})`;
  const env = {
    ...process.env,
    TEMPORAL_RUN_DIR: runDir,
    TEMPORAL_DB: join(runDir, 'dev.db'),
    TEMPORAL_PORT: String(port),
    TEMPORAL_UI_PORT: String(uiPort),
    CODEC_SERVER_PORT: String(codecPort),
    PAYLOAD_KEYS: keys,
  };
  const script = (command: string) => execute(join(REPO, 'temporal-dev.sh'), [command], { env, cwd: REPO });
  const model = await startScriptedModel((request) => {
    const asked = request.messages.find((entry) => entry.role === 'user')?.content ?? '';
    // The second run asks for a refund, which waits for a person's approval.
    if (asked.startsWith('Refund')) {
      return reply.tools([{ name: 'issue_refund', args: { orderId: '1043', amountUsd: 12, reason: 'late' } }]);
    }
    return byTurn([
      reply.tools([{ name: 'lookup_order', args: { orderId: '1043' } }]),
      reply.text(`Order 1043 was delivered on 2026-11-10 (${marker}).`),
    ])(request, 0);
  });
  let worker: ChildProcess | undefined;
  let browser: Browser | undefined;
  let agents: AgentClient | undefined;
  try {
    console.log((await script('start')).stdout.trim());
    worker = spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], {
      cwd: REPO,
      env: {
        ...env,
        TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
        TASK_QUEUE: taskQueue,
        OPENAI_BASE_URL: model.baseUrl,
        AGENT_MODULES: 'helpdesk',
      },
      stdio: 'ignore',
    });
    agents = await AgentClient.connect(
      loadTemporalConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TASK_QUEUE: taskQueue, PAYLOAD_KEYS: keys }),
    );
    // A session stays open after its answer: the page is the live, long-polling one.
    const id = await agents.start({ agent: 'helpdesk', message, mode: 'session' });
    const client = agents;
    await waitFor('the first answer', async () =>
      (await client.state(id)).status === 'awaiting_input' ? true : undefined,
    );

    browser = await puppeteer.launch({
      executablePath: await chromiumPath(),
      headless: true,
      // Root in a container has no user namespace for Chromium's sandbox.
      args: ['--no-sandbox', '--window-size=1400,1800'],
      defaultViewport: { width: 1400, height: 1800 },
    });
    const page = await browser.newPage();
    const codecCalls: string[] = [];
    page.on('response', (response) => {
      const url = new URL(response.url());
      if (url.port === String(codecPort)) codecCalls.push(`${response.request().method()} ${response.status()}`);
    });
    const url = `http://localhost:${uiPort}/namespaces/default/workflows/${encodeURIComponent(id)}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: PAGE_TIMEOUT_MS });
    // The input (a payload) and an activity summary (user metadata) both reach the page only decoded.
    const expected = [marker, 'tool lookup_order'];
    const shown = await page
      .waitForFunction(
        (texts) => texts.every((text) => document.body.innerText.includes(text)),
        { timeout: PAGE_TIMEOUT_MS },
        expected,
      )
      .then(
        () => true,
        () => false,
      );
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`web-ui-check: ${url}`);
    console.log(`web-ui-check: codec server calls from the page: ${codecCalls.join(', ') || 'none'}`);
    console.log(`web-ui-check: screenshot ${screenshot}`);
    if (!shown) throw new Error(`the page never showed, decoded, all of: ${expected.join(', ')}`);
    console.log(`web-ui-check: ok, the page shows decoded: ${expected.join(', ')}`);

    // A run awaiting approval: its current details (markdown the run keeps current) name the call and
    // the exact command that approves it, and what the run has cost.
    const waiting = await agents.start({ agent: 'helpdesk', message: `Refund order 1043 (${marker})` });
    await waitFor('the approval wait', async () =>
      (await client.state(waiting)).pendingApprovals.length ? true : undefined,
    );
    const approvalPage = await browser.newPage();
    const approvalUrl = `http://localhost:${uiPort}/namespaces/default/workflows/${encodeURIComponent(waiting)}`;
    await approvalPage.goto(approvalUrl, { waitUntil: 'domcontentloaded', timeout: PAGE_TIMEOUT_MS });
    // The UI shows current details under its "User Metadata" tab.
    await approvalPage.locator('::-p-text(User Metadata)').setTimeout(PAGE_TIMEOUT_MS).click();
    const details = [`durable-agents approve ${waiting} 1.1`, 'issue_refund', ' tokens · $'];
    // The UI renders markdown in a sandboxed frame of its own: read every frame's text.
    const pageText = async () => {
      const texts = await Promise.all(
        approvalPage.frames().map((frame) => frame.evaluate(() => document.body?.innerText ?? '').catch(() => '')),
      );
      return texts.join('\n');
    };
    const detailsShown = await waitFor('the current details', async () => {
      const text = await pageText();
      return details.every((expected) => text.includes(expected)) ? true : undefined;
    }).catch(() => false);
    const approvalShot = screenshot.replace(/(\.png)?$/, '-approval.png');
    await approvalPage.screenshot({ path: approvalShot, fullPage: true });
    console.log(`web-ui-check: screenshot ${approvalShot}`);
    if (!detailsShown) {
      const text = await pageText();
      throw new Error(`the current details never showed all of: ${details.join(', ')}; the page shows:\n${text}`);
    }
    console.log(`web-ui-check: ok, the current details show: ${details.join(', ')}`);
  } finally {
    await browser?.close();
    await agents?.close();
    worker?.kill('SIGTERM');
    await model.close();
    await script('stop').catch((error: Error) => console.error(`web-ui-check: stop failed: ${error.message}`));
    rmSync(runDir, { recursive: true, force: true });
  }
}

main(resolve(process.argv[2] ?? join(tmpdir(), 'web-ui-check.png'))).catch((error: Error) => {
  console.error(`web-ui-check: ${error.message}`);
  process.exit(1);
});
