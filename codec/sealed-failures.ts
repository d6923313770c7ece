/**
 * The failure converter of a worker whose payloads are encrypted (`PAYLOAD_KEYS`): a failure's
 * message and stack travel in its encoded attributes, a payload the codec encrypts, so a tool's
 * error (written for the model, and free to quote what the run was told) is not in history, or in
 * the server's database, in clear. Clients holding the key read them as before; the Web UI and the
 * `temporal` CLI read them through the codec server. Loaded by path (`failureConverterPath`), as
 * Temporal requires, so that a worker that bundles its workflows at start seals theirs too.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
