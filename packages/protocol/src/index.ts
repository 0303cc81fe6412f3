/**
 * `@taskpool/protocol`: framing, messages, the parse gate, error codes and classes,
 * `defineInterface`, and the deferred log record. Shared by every other package.
 *
 * This entry adds the zod schemas of the messages and of the log record (the documented
 * contract) to the zod-free `@taskpool/protocol/runtime`, whose explicit list it re-exports.
 *
 * @module
 */
export { logRecordSchema } from './deferred-log-record.js';
export {
  callSchema,
  cancelSchema,
  doneSchema,
  errorSchema,
  helloSchema,
  messageSchema,
  resultSchema,
  retireSchema,
  wireErrorSchema,
} from './messages.js';
export * from './runtime.js';
