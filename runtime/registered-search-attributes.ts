/**
 * Which optional search attributes (`OPTIONAL_SEARCH_ATTRIBUTES`) the namespace has registered, asked
 * once when a worker that runs runs starts: the specs it resolves record them, and only those runs
 * keep them current. A server that cannot say (no permission to list) counts as having none.
 */
import type { NativeConnection } from '@temporalio/worker';
import { OPTIONAL_SEARCH_ATTRIBUTES } from '../src/contract';

export async function registeredOptionalAttributes(
  connection: NativeConnection,
  namespace: string,
  warn: (line: string) => void,
): Promise<string[]> {
  let registered: Record<string, unknown>;
  try {
    registered = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (error) {
    warn(
      `could not list the search attributes of namespace ${namespace} (${(error as Error).message.split('\n')[0]}): ` +
        `runs started here will not keep ${OPTIONAL_SEARCH_ATTRIBUTES.join(', ')}`,
    );
    return [];
  }
  const missing = OPTIONAL_SEARCH_ATTRIBUTES.filter((name) => !Object.hasOwn(registered, name));
  if (missing.length) {
    warn(
      `namespace ${namespace} has not registered ${missing.join(', ')}: runs started here will not keep them ` +
        `(./temporal-dev.sh search-attributes prints what to register; deploy/README.md says how)`,
    );
  }
  return OPTIONAL_SEARCH_ATTRIBUTES.filter((name) => Object.hasOwn(registered, name));
}
