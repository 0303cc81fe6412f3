/**
 * `@taskpool/protocol/schemas`: the zod schemas of the wire messages and of the deferred
 * log record, the documented contract of the protocol, for tools and peers that speak it
 * themselves. Importing this entry loads zod; the rest of taskpool does not need it.
 *
 * @module
 */
export { logRecordSchema } from './deferred-log-record.js';
export type { WireError } from './errors.js';
export {
  type CallMessage,
  type CancelMessage,
  type CreditMessage,
  callSchema,
  cancelSchema,
  creditSchema,
  type DoneMessage,
  doneSchema,
  type ErrorMessage,
  errorSchema,
  type HelloMessage,
  helloSchema,
  type ItemMessage,
  itemSchema,
  type Message,
  type MessageType,
  messageSchema,
  type ResultMessage,
  type RetireMessage,
  resultSchema,
  retireSchema,
  type StatsMessage,
  serverStatsSchema,
  statsSchema,
  wireErrorSchema,
} from './messages.js';
export type { ServerStatsSnapshot } from './server-stats.js';
