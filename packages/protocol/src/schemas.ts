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
  type AuthMessage,
  authSchema,
  type CallMessage,
  type CancelMessage,
  type ChallengeMessage,
  type CreditMessage,
  callSchema,
  cancelSchema,
  challengeSchema,
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
  type OpenMessage,
  openSchema,
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
