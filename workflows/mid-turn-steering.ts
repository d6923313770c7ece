/**
 * The `steer` update: a message for a task run or a session that joins the turn in progress at its
 * next step boundary, after the calls in flight finish (a tool is never interrupted: `cancel` stops a
 * run), so the model's next request reads it. The inbox keeps it (`Inbox.steer`), the turn takes it
 * before its next model call (`TurnContext.takeSteering`), a continuation carries it.
 */
import { setHandler } from '@temporalio/workflow';
import { steerUpdate } from '../src/contract';
import type { Inbox } from './inbox';

/** Registers the `steer` update's handler, validated (like `chat`) before anything is recorded. */
export function acceptSteering(inbox: Inbox): void {
  setHandler(steerUpdate, (message) => inbox.steer(message), { validator: (message) => inbox.validateSteer(message) });
}
