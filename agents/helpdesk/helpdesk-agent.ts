/**
 * `helpdesk`: the example agent. It answers from a small knowledge base, looks up orders, and issues
 * refunds: a side effect that needs a person's approval and is deduplicated by idempotency key.
 */
import { defineAgent, defineTool, ToolError, z, type AgentDefinition } from '../../src';

export interface Article {
  id: string;
  title: string;
  body: string;
}

export interface Order {
  id: string;
  customer: string;
  status: string;
  totalUsd: number;
  [detail: string]: unknown;
}

export interface Refund {
  refundId: string;
  orderId: string;
  amountUsd: number;
  reason: string;
  idempotencyKey: string;
}

/** Where the helpdesk's data lives; the worker passes a file-backed one (`./file-backend`). */
export interface HelpdeskBackend {
  searchArticles(query: string, limit: number): Promise<Article[]>;
  findOrder(orderId: string): Promise<Order | undefined>;
  /** Records the refund once per idempotency key; a repeat returns the first record. */
  recordRefund(refund: Omit<Refund, 'refundId'>): Promise<{ refund: Refund; duplicate: boolean }>;
}

export const HELPDESK_INSTRUCTIONS = `You are the customer helpdesk of an online electronics shop.
Answer from the knowledge base and the order records only; search before you state a policy.
Look up an order before you talk about it. Issue a refund only when the policy allows it, for at most
the order total, and tell the customer what happens next. Be brief and friendly.`;

/** Builds the helpdesk agent over `backend`. */
export function createHelpdeskAgent(backend: HelpdeskBackend): AgentDefinition {
  const searchKnowledgeBase = defineTool({
    name: 'search_knowledge_base',
    description: 'Search the help articles (policies for returns, refunds, shipping, warranty, ...).',
    input: z.object({
      query: z.string().min(2).describe('Words to look for, e.g. "refund delayed parcel"'),
      limit: z.number().int().min(1).max(5).default(3).describe('How many articles to return'),
    }),
    timeout: '10s',
    execute: async ({ query, limit }) => ({ articles: await backend.searchArticles(query, limit) }),
  });

  const lookupOrder = defineTool({
    name: 'lookup_order',
    description: 'Look up an order by its number: status, items, total, carrier and tracking.',
    input: z.object({ orderId: z.string().regex(/^\d{4}$/, 'an order number has four digits') }),
    timeout: '10s',
    execute: async ({ orderId }) => {
      const order = await backend.findOrder(orderId);
      if (!order) throw new ToolError(`There is no order ${orderId}.`, { retryable: false });
      return order;
    },
  });

  const issueRefund = defineTool({
    name: 'issue_refund',
    description: 'Refund an order (in full or in part) to the original payment method. Needs approval.',
    input: z.object({
      orderId: z.string().regex(/^\d{4}$/, 'an order number has four digits'),
      amountUsd: z.number().positive().describe('Amount to refund, at most the order total'),
      reason: z.string().min(3).describe('Why the customer is refunded, for the ledger'),
    }),
    requiresApproval: true,
    timeout: '30s',
    retry: { maximumAttempts: 5 },
    execute: async ({ orderId, amountUsd, reason }, { idempotencyKey }) => {
      const order = await backend.findOrder(orderId);
      if (!order) throw new ToolError(`There is no order ${orderId}.`, { retryable: false });
      if (amountUsd > order.totalUsd) {
        throw new ToolError(`Refund of ${amountUsd} exceeds the order total of ${order.totalUsd}.`, {
          retryable: false,
        });
      }
      const { refund } = await backend.recordRefund({ orderId, amountUsd, reason, idempotencyKey });
      return { refundId: refund.refundId, orderId, amountUsd: refund.amountUsd, status: 'issued' };
    },
  });

  return defineAgent({
    name: 'helpdesk',
    description: 'Customer support for an online shop: policies, orders and refunds.',
    instructions: HELPDESK_INSTRUCTIONS,
    tools: [searchKnowledgeBase, lookupOrder, issueRefund],
    limits: { maxSteps: 12 },
  });
}
