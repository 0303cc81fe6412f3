/**
 * Observability: `diagnostics_channel` channels for checkouts and calls, and debug output
 * with `NODE_DEBUG=taskpool`. Nothing is built for a channel nobody subscribes to.
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

/** Channel names, for `diagnostics_channel.subscribe(name, listener)`. */
export const CHANNELS = {
  checkoutQueued: 'taskpool:checkout:queued',
  checkoutAssigned: 'taskpool:checkout:assigned',
  checkoutReleased: 'taskpool:checkout:released',
  callStart: 'taskpool:call:start',
  callFinish: 'taskpool:call:finish',
  callError: 'taskpool:call:error',
  workerLost: 'taskpool:worker:lost',
} as const;

export const channels = {
  checkoutQueued: channel(CHANNELS.checkoutQueued),
  checkoutAssigned: channel(CHANNELS.checkoutAssigned),
  checkoutReleased: channel(CHANNELS.checkoutReleased),
  callStart: channel(CHANNELS.callStart),
  callFinish: channel(CHANNELS.callFinish),
  callError: channel(CHANNELS.callError),
  workerLost: channel(CHANNELS.workerLost),
};

/** Writes to stderr when NODE_DEBUG includes `taskpool`. */
export const debug = debuglog('taskpool');
