import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/** A flow event as it arrived: its name and its data, not yet validated. */
export interface FlowMessage<T = unknown> {
  event: string;
  data: T;
}

/**
 * Injects the frame's event name and data together, because the DTO that
 * validates a flow event depends on its name. The adapter calls handlers with
 * `(data, event)`, so they are arguments 1 and 2 of the context.
 */
export const FlowMessageBody = createParamDecorator(
  (_: unknown, context: ExecutionContext): FlowMessage => ({
    data: context.getArgByIndex<unknown>(1),
    event: context.getArgByIndex<string>(2),
  }),
);
