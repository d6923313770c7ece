/**
 * The offline demo model: a scripted OpenAI-compatible endpoint that plays a plausible helpdesk
 * conversation, so a fresh clone runs the demo (`npm run demo`) and the CLI tour (`npm run worker --
 * --offline`, or `AGENT_MODEL=offline`) with no API key and no network. A product feature, so it lives
 * with the worker (runtime/), on the scripted Chat Completions server the tests' model also runs on.
 */
import { buildPriceTable, DEFAULT_PRICES } from '../src/pricing';
import { reply, startScriptedModel, turnOf, type ScriptedModel } from './scripted-chat-completions';

export const OFFLINE_MODEL_NAME = 'offline-demo-model';

/** The `AGENT_MODEL` that makes `npm run worker` serve this model (as `--offline` does). */
export const OFFLINE_AGENT_MODEL = 'offline';

/** The customer's request the script answers: the demo's, and the one to try with an offline worker. */
export const SAMPLE_REQUEST = "My order 1042 still hasn't arrived and it was due on the 12th. Can I get my money back?";

/**
 * The env a worker needs to call the offline model at `baseUrl` for runs that name no model, priced
 * like gpt-4o-mini (so a run shows what it would cost) on top of the user's own `MODEL_PRICES`, which
 * this checks like the worker does.
 */
export function offlineModelEnv(baseUrl: string, modelPrices?: string): Record<string, string> {
  const prices = { [OFFLINE_MODEL_NAME]: DEFAULT_PRICES['gpt-4o-mini'], ...buildPriceTable(modelPrices) };
  return { OPENAI_BASE_URL: baseUrl, AGENT_MODEL: OFFLINE_MODEL_NAME, MODEL_PRICES: JSON.stringify(prices) };
}

/** A text answer streamed a word at a time, as a real model writes: the demo shows it appear. */
function spoken(text: string, usage: { input: number; output: number }) {
  return reply.streamed(text.split(/(?<= )/), { everyMs: 40, usage });
}

export function startOfflineModel(): Promise<ScriptedModel> {
  return startScriptedModel((request) => {
    const refund = request.messages.find(
      (message) => message.role === 'tool' && message.content.includes('"status":"issued"'),
    );
    const denial = request.messages.find(
      (message) => message.role === 'tool' && message.content.includes('"denied":true'),
    );
    switch (turnOf(request)) {
      case 0:
        return reply.tools(
          [
            { name: 'search_knowledge_base', args: { query: 'delayed parcel refund' } },
            { name: 'lookup_order', args: { orderId: '1042' } },
          ],
          { input: 420, output: 48 },
        );
      case 1:
        return reply.tools(
          [
            {
              name: 'issue_refund',
              args: { orderId: '1042', amountUsd: 129, reason: 'parcel delayed past its estimated delivery date' },
            },
          ],
          { input: 910, output: 36 },
        );
      default:
        if (refund)
          return spoken(
            'Order 1042 is delayed past its estimated delivery, so I have refunded the full $129 to your original payment method. It should appear within 5 business days.',
            { input: 1080, output: 41 },
          );
        if (denial)
          return spoken('I could not issue the refund for order 1042 right now; a colleague will follow up with you.', {
            input: 1060,
            output: 25,
          });
        return spoken('Order 1042 is delayed. You can choose a refund or a reshipment.', {
          input: 1000,
          output: 20,
        });
    }
  });
}
