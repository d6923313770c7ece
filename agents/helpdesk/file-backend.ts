/**
 * The helpdesk's data over files: bundled JSON for articles and orders, and an append-only JSON-lines
 * ledger of refunds, deduplicated by idempotency key.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Article, HelpdeskBackend, Order, Refund } from './helpdesk-agent';

/** The data that ships with the example. */
export const HELPDESK_DATA_DIR = join(__dirname, 'data');

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** Every refund in the ledger, oldest first (an absent ledger is empty). */
export async function readLedger(ledgerPath: string): Promise<Refund[]> {
  let text: string;
  try {
    text = await readFile(ledgerPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Refund);
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

export function createFileHelpdeskBackend(options: { ledgerPath: string; dataDir?: string }): HelpdeskBackend {
  const dataDir = options.dataDir ?? HELPDESK_DATA_DIR;
  const articles = readJson<Article[]>(join(dataDir, 'knowledge-base.json'));
  const orders = readJson<Order[]>(join(dataDir, 'orders.json'));
  // One write at a time in this process; across workers Temporal runs one attempt of a call at a time.
  let ledgerWrites: Promise<unknown> = Promise.resolve();

  return {
    async searchArticles(query, limit) {
      const wanted = new Set(words(query));
      return (await articles)
        .map((article) => ({
          article,
          score: words(`${article.title} ${article.title} ${article.body}`).filter((word) => wanted.has(word)).length,
        }))
        .filter(({ score }) => score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, limit)
        .map(({ article }) => article);
    },

    async findOrder(orderId) {
      return (await orders).find((order) => order.id === orderId);
    },

    recordRefund(request) {
      const write = ledgerWrites.then(async () => {
        const existing = (await readLedger(options.ledgerPath)).find(
          (refund) => refund.idempotencyKey === request.idempotencyKey,
        );
        if (existing) return { refund: existing, duplicate: true };
        const refund: Refund = { refundId: `rf_${randomUUID().slice(0, 8)}`, ...request };
        await mkdir(dirname(options.ledgerPath), { recursive: true });
        await appendFile(options.ledgerPath, `${JSON.stringify(refund)}\n`);
        return { refund, duplicate: false };
      });
      ledgerWrites = write.catch(() => undefined);
      return write;
    },
  };
}
