/**
 * Payloads of a fetched history, read back: a history holds them as the server stores them (encoded
 * by the codecs, encrypted with `PAYLOAD_KEYS`), unlike the values a client or a worker hands over.
 */
import type { LoadedDataConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/**
 * Reads one payload of a fetched history (which holds payloads as the server stores them) through a
 * client's data converter: its codecs decode in reverse of the order they encode, then the converter.
 */
export function historyPayloadDecoder({ payloadConverter, payloadCodecs }: LoadedDataConverter) {
  return async (payload: temporal.api.common.v1.IPayload): Promise<unknown> => {
    let payloads = [payload];
    for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
    return payloadConverter.fromPayload(payloads[0]);
  };
}
