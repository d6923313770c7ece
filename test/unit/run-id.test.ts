/**
 * The run id rule (src/run-id.ts, issue #21): what a caller may choose as a run's id, and the one line
 * that says why not. The CLI and AgentClient apply it (test/integration/cli.test.ts).
 */
import { checkRunId, RUN_ID_MAX_BYTES, runIdProblem } from '../../src/run-id';
import { AgentClientError, ClientErrorKind } from '../../src/errors';
import { utf8Bytes } from '../../src/validation';

describe('runIdProblem', () => {
  it('accepts the ids people and the CLI make', () => {
    for (const id of ['helpdesk-7f9c1e2a-9d3b-4c1e-8f00-123456789abc', 'order 1042', 'ticket/ü/中文', 'memory:ada']) {
      expect(runIdProblem(id)).toBeUndefined();
    }
  });

  it(`counts UTF-8 bytes, up to ${RUN_ID_MAX_BYTES}: what SQL persistence stores`, () => {
    expect(runIdProblem('a'.repeat(RUN_ID_MAX_BYTES))).toBeUndefined();
    expect(runIdProblem('a'.repeat(2_000))).toBe(`must be at most ${RUN_ID_MAX_BYTES} UTF-8 bytes (is 2000)`);
    // 85 characters of 3 bytes each fit; one more does not, though it is 86 characters.
    const wide = '中'.repeat(86);
    expect(utf8Bytes(wide)).toBe(258);
    expect(runIdProblem(wide.slice(1))).toBeUndefined();
    expect(runIdProblem(wide)).toBe(`must be at most ${RUN_ID_MAX_BYTES} UTF-8 bytes (is 258)`);
  });

  it('refuses the empty id, control characters (C0, DEL, C1) and surrounding whitespace', () => {
    expect(runIdProblem('')).toBe('must not be empty');
    expect(runIdProblem('run\n2')).toBe('must not contain control characters (U+000A at index 3)');
    expect(runIdProblem('run\x1b[2J')).toBe('must not contain control characters (U+001B at index 3)');
    expect(runIdProblem('a\tb')).toBe('must not contain control characters (U+0009 at index 1)');
    expect(runIdProblem('a\x7f')).toBe('must not contain control characters (U+007F at index 1)');
    expect(runIdProblem('a\x9b')).toBe('must not contain control characters (U+009B at index 1)');
    for (const id of [' run', 'run ', '\u00a0run', 'run\u3000', '   ']) {
      expect(runIdProblem(id)).toBe('must not begin or end with whitespace');
    }
  });
});

describe('checkRunId', () => {
  it('throws the one-line AgentClientError a caller shows, of kind invalid_input', () => {
    expect(() => checkRunId('fine-id')).not.toThrow();
    let thrown: unknown;
    try {
      checkRunId('bad\nid');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AgentClientError);
    expect(thrown).toMatchObject({
      kind: ClientErrorKind.invalidInput,
      message: 'invalid run id: must not contain control characters (U+000A at index 3)',
    });
  });
});
