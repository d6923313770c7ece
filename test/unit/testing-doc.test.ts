/**
 * docs/testing.md's example is a test that runs (test/integration/agent-test-example.test.ts), shown
 * as an agent author writes it, importing the package by name: the page cannot drift from it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/imports';

const EXAMPLE = 'test/integration/agent-test-example.test.ts';

describe('docs/testing.md', () => {
  it('shows the example test as it is, importing durable-agents and durable-agents/testing', () => {
    const example = readFileSync(join(REPO, EXAMPLE), 'utf8');
    const asAuthorWritesIt = example
      .replace("from '../../src';", "from 'durable-agents';")
      .replace("from '../../testing';", "from 'durable-agents/testing';");
    expect(asAuthorWritesIt).not.toBe(example);
    const page = readFileSync(join(REPO, 'docs', 'testing.md'), 'utf8');
    const firstBlock = /```ts\n([\s\S]*?)```/.exec(page)?.[1];
    expect(firstBlock).toBe(asAuthorWritesIt);
    expect(page).toContain(`(../${EXAMPLE})`);
  });
});
