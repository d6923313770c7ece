/**
 * A turn of an agent with an output schema: what its model calls carry (`response_format`, or the
 * final `answer` tool), what an answer becomes (the object), and the repairs: an answer that does not
 * parse or fit goes back to the model with what was wrong, `limits.maxOutputRepairs` times (each a
 * step, within the budgets), then the run fails `OutputInvalid`. Checked against the schema the run
 * recorded (src/output-schema.ts), so replay decides as the run did.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ModelCallInput, ModelCallResult, ModelTool } from '../src/activity-contract';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import { ANSWER_TOOL_NAME, OutputChecker, outputRepairsAllowed, type CheckedAnswer } from '../src/output-schema';
import { OutputMode, type ChatMessage, type Limits, type OutputSpec, type StructuredOutput } from '../src/types';
import { notRunMessage, toolMessage } from './tool-messages';

/** A final answer read: the object (with the messages that close its calls), a repair, or neither. */
export type ReadAnswer =
  { answer: string; output: StructuredOutput; messages: ChatMessage[] } | { repair: ChatMessage[] } | undefined;

/** An outcome of a turn, as the output schema makes it: with the object, or saying why there is none. */
interface AnswerOutcome {
  answer: string;
  output?: StructuredOutput;
  outputError?: string;
}

export class StructuredAnswers {
  private readonly checker: OutputChecker;
  private readonly allowed: number;

  constructor(
    private readonly spec: OutputSpec,
    limits: Limits,
    /** Repairs this turn has asked for so far (a continued turn carries them). */
    public repairs = 0,
  ) {
    this.checker = new OutputChecker(spec);
    this.allowed = outputRepairsAllowed(limits);
  }

  /** What each model call of the turn carries: the schema as `response_format`, or the `answer` tool. */
  callOptions(): Pick<ModelCallInput, 'responseFormat'> & { tools: ModelTool[] } {
    const { name, schema, strict, mode } = this.spec;
    if (mode === OutputMode.responseFormat) return { responseFormat: { name, schema, strict }, tools: [] };
    const description =
      'Give your final answer to the request, as the arguments of this call: call it alone, once you have what you need.';
    return { tools: [{ name: ANSWER_TOOL_NAME, description, parameters: schema }] };
  }

  /** Told with a wrap-up: no tool runs, so the schema is asked for as the reply's text. */
  wrapUpNote(): ChatMessage {
    const schema = this.spec.mode === OutputMode.answerTool ? ` valid against ${JSON.stringify(this.spec.schema)}` : '';
    return { role: 'user', content: `Reply with only a JSON object${schema}, nothing else.` };
  }

  /**
   * The model's answer (already in the transcript) as the turn's final answer: its text (or, through
   * the `answer` tool, its call's arguments) checked. Undefined when it is neither: tool calls to run,
   * or an empty reply.
   */
  read(message: ModelCallResult['message']): ReadAnswer {
    const calls = message.tool_calls ?? [];
    const answerCall = calls.find((call) => call.function.name === ANSWER_TOOL_NAME);
    if (this.spec.mode === OutputMode.answerTool && answerCall) {
      const checked = this.checker.check(answerCall.function.arguments);
      // Every call gets a result, so that the transcript stays one a model server takes.
      const closing = (result: string) =>
        calls.map((call) =>
          call === answerCall
            ? toolMessage(call.id, result)
            : notRunMessage(call.id, `call \`${ANSWER_TOOL_NAME}\` alone, after the calls you need.`),
        );
      if (checked.ok) {
        return {
          answer: JSON.stringify(checked.output),
          output: checked.output,
          messages: closing('Answer recorded.'),
        };
      }
      return { repair: closing(this.repairRequest(checked)) };
    }
    const text = message.content?.trim();
    if (calls.length || !text) return undefined;
    const checked = this.checker.check(text);
    if (checked.ok) return { answer: text, output: checked.output, messages: [] };
    return { repair: [{ role: 'user', content: this.repairRequest(checked) }] };
  }

  /** What the model reads back about an answer that does not fit; throws `OutputInvalid` once no repair is left. */
  private repairRequest(checked: Extract<CheckedAnswer, { ok: false }>): string {
    if (this.repairs >= this.allowed) throw outputInvalid(checked.problems, this.repairs);
    this.repairs += 1;
    const how =
      this.spec.mode === OutputMode.answerTool
        ? `call \`${ANSWER_TOOL_NAME}\` again with arguments valid against its schema.`
        : 'answer again with only a JSON object valid against the required schema.';
    return `Your answer does not fit the required output schema (${checked.problems}). Fix it: ${how}`;
  }

  /**
   * A turn's outcome with its object: a budget's wrap-up or a stuck loop ends it with one if its text
   * fits, else saying why there is none; any other answer without one fails the run `OutputInvalid`.
   */
  settle<Outcome extends AnswerOutcome>(outcome: Outcome): Outcome {
    if (outcome.output) return outcome;
    const checked = this.checker.check(outcome.answer);
    if (checked.ok) return { ...outcome, output: checked.output };
    if (!('limit' in outcome) && !('stuck' in outcome)) throw outputInvalid(checked.problems, this.repairs);
    return { ...outcome, outputError: `the run ended without an answer in its output schema (${checked.problems})` };
  }
}

/** The run's failure once the model's answers kept missing the schema. */
function outputInvalid(problems: string, repairs: number): ApplicationFailure {
  return withoutStack(
    ApplicationFailure.create({
      type: ErrorType.OutputInvalid,
      message: `the model's answer does not fit the agent's output schema after ${repairs} repair${repairs === 1 ? '' : 's'}: ${problems}`,
      nonRetryable: true,
    }),
  );
}
