/** The example helpdesk agent and its file-backed storage. */
export {
  createHelpdeskAgent,
  HELPDESK_INSTRUCTIONS,
  type Article,
  type HelpdeskBackend,
  type Order,
  type Refund,
} from './helpdesk-agent';
export { createFileHelpdeskBackend, HELPDESK_DATA_DIR, readLedger } from './file-backend';
