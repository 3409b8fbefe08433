/**
 * Outputs a task may have unacknowledged before its processors wait for acks: bodies that do not
 * await their sends (forwarders, sinks) would otherwise run ahead of a slow broker without bound.
 */
export const MAX_OUTPUTS_IN_FLIGHT = 10_000
