/** The floor's one activity: gives back what it was given, with no I/O. */

/** A payload of about `payloadBytes`, numbered by its place in the run. */
export interface FloorPayload {
  index: number;
  pad: string;
}

export async function noop(payload: FloorPayload): Promise<FloorPayload> {
  return payload;
}
