/**
 * The capacity model of `npm run bench` (bench/support/capacity.ts) and the Temporal Cloud Actions it
 * counts from histories (bench/support/billable-actions.ts): pure arithmetic, checked by hand.
 */
import { temporal } from '@temporalio/proto';
import { countBillableActions } from '../../bench/support/billable-actions';
import { capacityLine, parseLatency, parseTokenPrice, type CapacityQuestion } from '../../bench/support/capacity';

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const question: CapacityQuestion = {
  concurrentRuns: 1000,
  modelLatencyMs: 2000,
  stepsPerRun: 6,
  prices: { inputPerMillionTokens: 3, outputPerMillionTokens: 15, perMillionActions: 50 },
};

describe('capacityLine', () => {
  const line = capacityLine(question, {
    label: 'row',
    overheadPerStepMs: 500,
    workerCpuSecondsPerStep: 0.01,
    serverCpuSecondsPerStep: 0.02,
    actionsPerRun: 20,
    historyBytesPerRun: 12_000,
    inputTokensPerRun: 1000,
    outputTokensPerRun: 100,
  });

  it('makes a step last the model latency plus the overhead, and keeps N runs in flight', () => {
    expect(line.runSeconds).toBeCloseTo(15); // 6 steps of 2.5 s
    expect(line.stepsPerSecond).toBeCloseTo(400); // 1000 runs / 2.5 s a step
    expect(line.runsPerHour).toBeCloseTo(240_000); // 1000 × 3600 / 15
  });

  it('turns CPU seconds per step into cores at that rate', () => {
    expect(line.workerCores).toBeCloseTo(4); // 400 steps/s × 10 ms
    expect(line.serverCores).toBeCloseTo(8); // 400 steps/s × 20 ms
  });

  it('prices Actions and tokens per hour', () => {
    expect(line.actionsPerHour).toBeCloseTo(4_800_000);
    expect(line.actionsUsdPerHour).toBeCloseTo(240); // 4.8 M × $50 / M
    // 240,000 runs × (1000 × $3 + 100 × $15) / M = 240,000 × $0.0045
    expect(line.modelUsdPerHour).toBeCloseTo(1080);
    expect(line.actionsOverModelCost).toBeCloseTo(240 / 1080);
  });

  it('leaves Temporal figures out of rows that have none, and never counts a negative overhead', () => {
    const peer = capacityLine(question, {
      label: 'peer',
      overheadPerStepMs: -3,
      workerCpuSecondsPerStep: 0.001,
      inputTokensPerRun: 0,
      outputTokensPerRun: 0,
    });
    expect(peer.runSeconds).toBeCloseTo(12);
    expect(peer.actionsPerHour).toBeUndefined();
    expect(peer.serverCores).toBeUndefined();
  });
});

describe('the capacity flags', () => {
  it('read latencies and prices, and refuse what they cannot read', () => {
    expect(parseLatency('2s')).toBe(2000);
    expect(parseLatency('1.5s')).toBe(1500);
    expect(parseLatency('250ms')).toBe(250);
    expect(parseLatency('700')).toBe(700);
    expect(() => parseLatency('two seconds')).toThrow(/--model-latency/);
    expect(parseTokenPrice('3,15')).toEqual({ input: 3, output: 15 });
    expect(() => parseTokenPrice('3')).toThrow(/IN,OUT/);
    expect(() => parseTokenPrice('3,-1')).toThrow(/IN,OUT/);
  });
});

describe('countBillableActions', () => {
  const event = (eventType: number, more: Partial<HistoryEvent> = {}): HistoryEvent => ({ eventType, ...more });
  // fromObject turns the numbers into the Long event ids histories carry.
  const marker = (markerName: string, workflowTaskCompletedEventId: number): HistoryEvent =>
    temporal.api.history.v1.HistoryEvent.fromObject({
      eventType: EventType.EVENT_TYPE_MARKER_RECORDED,
      markerRecordedEventAttributes: { markerName, workflowTaskCompletedEventId },
    });
  const localMarker = (taskId: number) => marker('core_local_activity', taskId);

  it('counts the start, every activity attempt, upserts and timers; not workflow tasks or completions', () => {
    const events = [
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
      event(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
      event(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      event(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
      event(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      event(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { attempt: 3 } }),
      event(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
      event(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
      event(EventType.EVENT_TYPE_TIMER_STARTED),
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
    ];
    expect(countBillableActions(events)).toBe(1 + 3 + 1 + 1);
  });

  it('counts the local activities of one workflow task once, and ignores patch markers', () => {
    const events = [
      event(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
      localMarker(4),
      localMarker(4),
      localMarker(9),
      marker('core_patch', 9),
    ];
    expect(countBillableActions(events)).toBe(1 + 2);
  });
});
