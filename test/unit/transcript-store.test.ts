/**
 * The worker's side of transcripts sent by reference, without a server: its bounded cache, its
 * rebuild from a run's history (events shaped as the server sends them, payloads decoded by a fake
 * codec), its failures; and the summary request the model activity makes of a transcript.
 */
import { ApplicationFailure } from '@temporalio/common';
import { findTranscript, TranscriptStore, type RunHistory, type RunRef } from '../../activities/transcript-store';
import { ErrorType } from '../../src/errors';
import {
  renderForSummary,
  SUMMARY_HEADING,
  SUMMARY_INSTRUCTIONS,
  summaryMessage,
  summaryRequest,
} from '../../src/summaries';
import { DeltaEncoder, Fingerprints } from '../../src/transcript-delta';
import type { TranscriptCarrier } from '../../src/transcript-replay';
import type { ChatMessage } from '../../src/types';
import { answer, calls, recorded, result, system, user } from '../support/messages';
import { serializedBytes, utf8Bytes } from '../../src/validation';

/** A payload of the fake codec: the value itself, which `decode` hands back. */
const payload = (value: unknown) => ({ data: recorded(value) });
const decode = async (p: unknown) => (p as { data: unknown }).data;

/**
 * A run as its history records it: the started event (with the carried state of a continued run),
 * and for each model call a scheduled event whose input is the call's carrier, between other events.
 */
class FakeRun {
  readonly ref: RunRef;
  readonly messages: ChatMessage[];
  readonly events: unknown[] = [];
  /** Each call's carrier as the worker receives it, and the transcript it stands for. */
  readonly calls: { carrier: TranscriptCarrier; transcript: ChatMessage[] }[] = [];
  private readonly sender: DeltaEncoder;

  constructor(workflowId: string, runId: string, carried?: ChatMessage[]) {
    this.ref = { workflowId, runId };
    this.messages = carried ? [...carried] : [];
    this.sender = new DeltaEncoder(carried);
    const input = { agent: 'support', message: 'hello' };
    const payloads = carried ? [payload(input), payload({ step: 3, messages: carried })] : [payload(input)];
    this.events.push({ eventId: 1, workflowExecutionStartedEventAttributes: { input: { payloads } } });
    this.events.push({ eventId: 2, workflowTaskScheduledEventAttributes: {} });
  }

  /** A model call (or a summary call) over the current messages. */
  call(activity = 'callModel', extra: object = {}): TranscriptCarrier {
    const carrier: TranscriptCarrier = recorded({
      agent: 'support',
      model: 'gpt-test',
      step: this.calls.length + 1,
      ...extra,
      transcript: this.sender.next(this.messages),
    });
    this.calls.push({ carrier, transcript: recorded(this.messages) });
    this.events.push({
      eventId: this.events.length + 1,
      activityTaskScheduledEventAttributes: {
        activityType: { name: activity },
        input: { payloads: [payload(carrier)] },
      },
    });
    this.events.push({ eventId: this.events.length + 1, activityTaskCompletedEventAttributes: { result: {} } });
    return carrier;
  }

  /** A tool call in the history: its input is no transcript, even when it looks like one. */
  tool(): void {
    this.events.push({
      eventId: this.events.length + 1,
      activityTaskScheduledEventAttributes: {
        activityType: { name: 'runTool' },
        input: { payloads: [payload({ transcript: { base: 'nonsense', parts: [], fingerprint: 'nonsense' } })] },
      },
    });
  }

  history(): RunHistory {
    return { events: recorded(this.events) as RunHistory['events'], decode };
  }
}

/** A conversation of a few steps, with a compaction and a summary, recorded as `run`'s history. */
function converse(run: FakeRun): void {
  run.messages.push(system('be brief'), user('find order 7'));
  run.call();
  run.messages.push(calls('c1'), result('c1', 'order 7: 漢字 😀'));
  run.tool();
  run.call();
  run.messages.push(calls('c2'), result('c2'));
  run.tool();
  run.call();
  run.messages[3] = result('c1', '[omitted]');
  run.call('summarizeConversation', { from: 2, to: 6, maxInputBytes: 10_000 });
  run.messages.splice(2, 4, summaryMessage('looked up c1 and c2'));
  run.messages.push(answer('order 7 is on its way'), user('thanks'));
  run.call();
}

/** A fake `readHistory` over some runs, by run id. */
function histories(...runs: FakeRun[]) {
  return jest.fn(async (ref: RunRef) => {
    const run = runs.find((candidate) => candidate.ref.runId === ref.runId);
    if (!run) throw new Error(`no run ${ref.runId}`);
    return run.history();
  });
}

const noHistory = () => jest.fn(async (): Promise<RunHistory> => Promise.reject(new Error('history read')));

async function unavailable(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  expect(failure.type).toBe(ErrorType.TranscriptUnavailable);
  expect(failure.nonRetryable).toBe(true);
  return failure;
}

describe('TranscriptStore', () => {
  it('returns a whole transcript as it is, and caches nothing for it', async () => {
    const readHistory = noHistory();
    const store = new TranscriptStore(1_000_000, readHistory);
    const messages = [system('s'), user('u')];
    await expect(store.resolve({ messages }, { workflowId: 'w', runId: 'r' })).resolves.toBe(messages);
    await expect(store.resolve({ messages }, undefined)).resolves.toBe(messages);
    expect(store.size).toEqual({ runs: 0, bytes: 0 });
    expect(readHistory).not.toHaveBeenCalled();
  });

  it('resolves a chain of deltas from its cache without reading history', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    const readHistory = noHistory();
    const store = new TranscriptStore(1_000_000, readHistory);
    for (const call of run.calls) await expect(store.resolve(call.carrier, run.ref)).resolves.toEqual(call.transcript);
    expect(readHistory).not.toHaveBeenCalled();
    expect(store.size).toEqual({ runs: 1, bytes: serializedBytes(run.calls.at(-1)!.transcript) });
  });

  it('resolves a retried call (the same input again) from its cache, without reading history', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    const readHistory = noHistory();
    const store = new TranscriptStore(1_000_000, readHistory);
    for (const call of run.calls) await store.resolve(call.carrier, run.ref);
    await expect(store.resolve(run.calls.at(-1)!.carrier, run.ref)).resolves.toEqual(run.calls.at(-1)!.transcript);
    expect(readHistory).not.toHaveBeenCalled();
  });

  it('on a miss rebuilds the base from the run history, then goes on from its cache', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    const next = run.call();
    run.messages.push(answer('you are welcome'));
    const after = run.call();
    const readHistory = histories(run);
    const store = new TranscriptStore(1_000_000, readHistory);
    await expect(store.resolve(next, run.ref)).resolves.toEqual(run.calls.at(-2)!.transcript);
    expect(readHistory).toHaveBeenCalledTimes(1);
    expect(readHistory).toHaveBeenCalledWith(run.ref);
    await expect(store.resolve(after, run.ref)).resolves.toEqual(run.messages);
    expect(readHistory).toHaveBeenCalledTimes(1);
  });

  it('rebuilds any call of the run from its history, the summary call included', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    for (const [index, call] of run.calls.entries()) {
      const store = new TranscriptStore(1_000_000, histories(run));
      await expect(store.resolve(call.carrier, run.ref)).resolves.toEqual(call.transcript);
      expect(index === 0 || call.carrier.transcript?.base !== undefined).toBe(true);
    }
  });

  it('rebuilds a continued run whose first delta is based on the transcript carried in its input', async () => {
    const previous = new FakeRun('wf', 'run-1');
    converse(previous);
    const carried = recorded(previous.messages);
    const run = new FakeRun('wf', 'run-2', carried);
    run.messages.push(answer('anything else?'), user('no'));
    const first = run.call();
    expect(first.transcript?.base).toBe(new Fingerprints().of(carried));
    run.messages.push(answer('bye'));
    const second = run.call();

    for (const carrier of [first, second]) {
      const readHistory = histories(previous, run);
      const store = new TranscriptStore(1_000_000, readHistory);
      await expect(store.resolve(carrier, run.ref)).resolves.toEqual(
        run.calls.find((call) => call.carrier === carrier)!.transcript,
      );
      expect(readHistory).toHaveBeenCalledWith(run.ref);
    }

    // A worker that still has the previous run's last transcript needs no history: it is what was carried.
    const readHistory = noHistory();
    const warm = new TranscriptStore(1_000_000, readHistory);
    for (const call of previous.calls) await warm.resolve(call.carrier, previous.ref);
    await expect(warm.resolve(first, run.ref)).resolves.toEqual(run.calls[0].transcript);
    expect(readHistory).not.toHaveBeenCalled();
  });

  it('fails with TranscriptUnavailable when the rebuilt transcript does not match the fingerprint', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    const store = new TranscriptStore(1_000_000, noHistory());
    await store.resolve(run.calls[0].carrier, run.ref);
    const forged = recorded(run.calls[1].carrier);
    forged.transcript!.fingerprint = new Fingerprints().of([user('something else')]);
    const failure = await unavailable(store.resolve(forged, run.ref));
    expect(failure.message).toMatch(/does not match fingerprint/);

    // Parts that do not fit the base.
    const misfit = recorded(run.calls[1].carrier);
    misfit.transcript!.parts = [{ keep: [0, 99] }];
    expect((await unavailable(store.resolve(misfit, run.ref))).message).toMatch(/outside a base of 2 messages/);

    // A delta with no base that claims another fingerprint.
    const whole = recorded(run.calls[0].carrier);
    whole.transcript!.fingerprint = run.calls[1].carrier.transcript!.fingerprint;
    await unavailable(new TranscriptStore(1_000_000, noHistory()).resolve(whole, run.ref));
  });

  it('fails with TranscriptUnavailable when the history holds a base that does not match what it claims', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    // The recorded second call says it makes the transcript the third builds on, but makes another.
    const recordedSecond = (
      run.events as { activityTaskScheduledEventAttributes?: { input: { payloads: unknown[] } } }[]
    )
      .filter((event) => event.activityTaskScheduledEventAttributes)
      .map(
        (event) =>
          event.activityTaskScheduledEventAttributes!.input.payloads[0] as {
            data: TranscriptCarrier & { step: number };
          },
      )
      .filter((p) => p.data.transcript?.parts.length)[1];
    expect(recordedSecond.data.step).toBe(2);
    recordedSecond.data.transcript!.parts = [{ keep: [0, 2] }];
    const failure = await unavailable(
      new TranscriptStore(1_000_000, histories(run)).resolve(run.calls[2].carrier, run.ref),
    );
    expect(failure.message).toMatch(/rebuilt from history does not match/);

    // A recorded delta that does not fit its base fails the rebuild too.
    recordedSecond.data.transcript!.parts = [{ keep: [5, 9] }];
    await unavailable(new TranscriptStore(1_000_000, histories(run)).resolve(run.calls[2].carrier, run.ref));
  });

  it('fails with TranscriptUnavailable for a base the history does not hold', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    const other = new FakeRun('wf', 'run-1');
    other.messages.push(system('another prompt'));
    other.call();
    const store = new TranscriptStore(1_000_000, histories(other));
    const failure = await unavailable(store.resolve(run.calls[2].carrier, run.ref));
    expect(failure.message).toMatch(/holds no transcript/);
    expect(store.size.runs).toBe(0);
  });

  it('fails with TranscriptUnavailable when reading the history fails', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    const failure = await unavailable(
      new TranscriptStore(1_000_000, noHistory()).resolve(run.calls[1].carrier, run.ref),
    );
    expect(failure.message).toMatch(/reading the run's history failed: history read/);

    const decodeFails: RunHistory = {
      events: run.history().events,
      decode: async () => Promise.reject(new Error('cannot decrypt')),
    };
    const store = new TranscriptStore(1_000_000, async () => decodeFails);
    expect((await unavailable(store.resolve(run.calls[1].carrier, run.ref))).message).toMatch(/cannot decrypt/);
  });

  it('fails with TranscriptUnavailable for a call carrying no transcript, or a delta outside a run', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    const store = new TranscriptStore(1_000_000, noHistory());
    await unavailable(store.resolve({}, run.ref));
    const failure = await unavailable(store.resolve(run.calls[1].carrier, undefined));
    expect(failure.message).toMatch(/must carry its transcript whole/);
    // A delta with no base needs no run.
    await expect(store.resolve(run.calls[0].carrier, undefined)).resolves.toEqual(run.calls[0].transcript);
    expect(store.size.runs).toBe(0);
  });

  describe('its cache', () => {
    /** A run whose transcript is about `bytes` long, after two calls. */
    function sizedRun(workflowId: string, bytes: number): FakeRun {
      const run = new FakeRun(workflowId, `${workflowId}-run`);
      run.messages.push(system('be brief'), user('x'.repeat(bytes)));
      run.call();
      run.messages.push(answer('ok'));
      run.call();
      return run;
    }

    it('evicts the least recently used runs past its bound', async () => {
      const [a, b, c] = ['a', 'b', 'c'].map((id) => sizedRun(id, 1_000));
      const one = serializedBytes(a.calls[0].transcript);
      const readHistory = histories(a, b, c);
      const store = new TranscriptStore(Math.floor(2.5 * one), readHistory);
      await store.resolve(a.calls[0].carrier, a.ref);
      await store.resolve(b.calls[0].carrier, b.ref);
      expect(store.size).toEqual({ runs: 2, bytes: 2 * one });
      await store.resolve(c.calls[0].carrier, c.ref);
      expect(store.size).toEqual({ runs: 2, bytes: 2 * one });
      // a went first: its next call reads history; c's and b's do not.
      await store.resolve(c.calls[1].carrier, c.ref);
      await store.resolve(b.calls[1].carrier, b.ref);
      expect(readHistory).not.toHaveBeenCalled();
      await store.resolve(a.calls[1].carrier, a.ref);
      expect(readHistory).toHaveBeenCalledTimes(1);
      expect(readHistory).toHaveBeenCalledWith(a.ref);
      expect(store.size.runs).toBe(2);
      expect(store.size.bytes).toBeLessThanOrEqual(Math.floor(2.5 * one));
    });

    it('keeps a run it just used over one it used before', async () => {
      const [a, b, c] = ['a', 'b', 'c'].map((id) => sizedRun(id, 1_000));
      const one = serializedBytes(a.calls[0].transcript);
      const readHistory = histories(a, b, c);
      const store = new TranscriptStore(Math.floor(2.5 * one) + 10, readHistory);
      await store.resolve(a.calls[0].carrier, a.ref);
      await store.resolve(b.calls[0].carrier, b.ref);
      // a is used again, so b is now the least recently used.
      await store.resolve(a.calls[1].carrier, a.ref);
      await store.resolve(c.calls[0].carrier, c.ref);
      expect(store.size.runs).toBe(2);
      await store.resolve(c.calls[1].carrier, c.ref);
      expect(readHistory).not.toHaveBeenCalled();
      await store.resolve(b.calls[1].carrier, b.ref);
      expect(readHistory).toHaveBeenCalledWith(b.ref);
    });

    it('holds one transcript a run, the latest', async () => {
      const run = new FakeRun('wf', 'run-1');
      converse(run);
      const store = new TranscriptStore(1_000_000, noHistory());
      for (const call of run.calls) {
        await store.resolve(call.carrier, run.ref);
        expect(store.size).toEqual({ runs: 1, bytes: serializedBytes(call.transcript) });
      }
    });

    it('does not cache a transcript bigger than its bound, and drops the run older one', async () => {
      const run = new FakeRun('wf', 'run-1');
      run.messages.push(system('be brief'), user('small'));
      run.call();
      run.messages.push(calls('c1'), result('c1', '漢'.repeat(2_000)));
      const big = run.call();
      const readHistory = histories(run);
      const store = new TranscriptStore(serializedBytes(run.messages) - 1, readHistory);
      await store.resolve(run.calls[0].carrier, run.ref);
      expect(store.size.runs).toBe(1);
      await expect(store.resolve(big, run.ref)).resolves.toEqual(run.messages);
      expect(store.size).toEqual({ runs: 0, bytes: 0 });
      // The next call rebuilds from history.
      run.messages.push(answer('done'));
      await expect(store.resolve(run.call(), run.ref)).resolves.toEqual(run.messages);
      expect(readHistory).toHaveBeenCalledTimes(1);
      expect(store.size.runs).toBe(0);
    });
  });
});

describe('findTranscript', () => {
  it('finds the transcript with a fingerprint, ignoring other activities, or gives undefined', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    for (const call of run.calls) {
      await expect(findTranscript(run.history(), call.carrier.transcript!.fingerprint)).resolves.toEqual(
        call.transcript,
      );
    }
    await expect(findTranscript(run.history(), 'nonsense')).resolves.toBeUndefined();
    await expect(findTranscript({ events: [], decode }, 'nonsense')).resolves.toBeUndefined();
  });

  it('stops reading at the event that records it', async () => {
    const run = new FakeRun('wf', 'run-1');
    converse(run);
    const history = run.history();
    const decoding = jest.fn(decode);
    await findTranscript({ ...history, decode: decoding }, run.calls[0].carrier.transcript!.fingerprint);
    expect(decoding).toHaveBeenCalledTimes(1);
  });
});

describe('summary requests', () => {
  it('render every kind of message, tool calls and results included', () => {
    const text = renderForSummary(
      [
        system('be brief'),
        summaryMessage('the user is Ada'),
        user('find order 7'),
        {
          role: 'assistant',
          content: 'Looking.',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"id":"c1"}' } }],
        },
        calls('c2', 'c3'),
        result('c1', '{"status":"shipped"}'),
        answer('It shipped.'),
      ],
      100_000,
    );
    expect(text.split('\n\n')).toEqual([
      'System: be brief',
      'Summary of what came before:\nthe user is Ada',
      'User: find order 7',
      'Assistant: Looking.\nAssistant called lookup (c1) with {"id":"c1"}',
      'Assistant called lookup (c2) with {"id":"c2"}\nAssistant called lookup (c3) with {"id":"c3"}',
      'Tool result (c1): {"status":"shipped"}',
      'Assistant: It shipped.',
    ]);
    expect(text).not.toContain(SUMMARY_HEADING);
  });

  it('stay within maxBytes of UTF-8, giving each message a share, never splitting a character', () => {
    const messages = Array.from({ length: 10 }, (_, index) =>
      index % 2 ? user(`${index}:${'漢'.repeat(1_000)}`) : result(`c${index}`, `${index}:${'😀'.repeat(1_000)}`),
    );
    for (const maxBytes of [1_000, 4_000, 4_001, 4_002, 9_999, 30_000]) {
      const text = renderForSummary(messages, maxBytes);
      expect(utf8Bytes(text)).toBeLessThanOrEqual(maxBytes);
      expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
      expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
    }
    // A share each: every message is there, cut, with the most of its share.
    const text = renderForSummary(messages, 6_000);
    for (let index = 0; index < 10; index++) expect(text).toContain(`${index}:`);
    const parts = text.split('\n\n');
    expect(parts).toHaveLength(10);
    // 6,000 bytes less a separator and a cut mark per message, shared by 10: 592 bytes each.
    for (const part of parts) {
      expect(part).toMatch(/ \[\.\.\.\]$/);
      expect(utf8Bytes(part)).toBeLessThanOrEqual(592 + ' [...]'.length);
      expect(utf8Bytes(part)).toBeGreaterThan(592 - 4 + ' [...]'.length);
    }
  });

  it('keep the newest messages when there are too many to give each a share', () => {
    const messages = Array.from({ length: 100 }, (_, index) => user(`#${index} ${'x'.repeat(1_000)}`));
    // 92 bytes each still tells something: all 100 are there, the newest included.
    const all = renderForSummary(messages, 10_000);
    expect(utf8Bytes(all)).toBeLessThanOrEqual(10_000);
    expect(all.split('\n\n')).toHaveLength(100);
    expect(all).toContain('#0 ');
    expect(all).toContain('#99 ');
    // Under 64 bytes each they would not: the oldest go.
    const newest = renderForSummary(messages, 3_000);
    expect(utf8Bytes(newest)).toBeLessThanOrEqual(3_000);
    expect(newest).toContain('#99 ');
    expect(newest).not.toContain('#0 ');
    expect(newest.split('\n\n').every((part) => part.endsWith(' [...]'))).toBe(true);
  });

  it('keep the messages after a huge tool result', () => {
    const text = renderForSummary(
      [user('first question'), result('c1', '漢'.repeat(100_000)), user('the last question')],
      3_000,
    );
    expect(text).toContain('User: first question');
    expect(text).toContain('User: the last question');
    expect(utf8Bytes(text)).toBeLessThanOrEqual(3_000);
  });

  it('leave short messages whole', () => {
    const messages = [user('会話 one'), answer('二 two'), user('三 😀')];
    expect(renderForSummary(messages, 10_000)).toBe('User: 会話 one\n\nAssistant: 二 two\n\nUser: 三 😀');
  });

  it('ask with the instructions, then the rendered messages within maxBytes', () => {
    const messages = [user('漢'.repeat(5_000)), answer('字'.repeat(5_000))];
    const request = summaryRequest(messages, 2_000);
    expect(request).toHaveLength(2);
    expect(request[0]).toEqual({ role: 'system', content: SUMMARY_INSTRUCTIONS });
    expect(request[1].role).toBe('user');
    expect(request[1].content).toBe(renderForSummary(messages, 2_000));
    expect(utf8Bytes(request[1].content as string)).toBeLessThanOrEqual(2_000);
    expect(request[1].content).toContain('Assistant: 字');
  });
});
