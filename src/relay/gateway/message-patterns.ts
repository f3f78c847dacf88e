/**
 * Pattern of the gateway's handler for every flow event, built-in or
 * registered. The adapter never dispatches a frame to it by this name.
 */
export const FLOW_EVENT_PATTERN = '#flow-event';

/** Longest event name echoed back in an `ERROR`. */
export const MAX_ECHOED_EVENT_LENGTH = 128;
