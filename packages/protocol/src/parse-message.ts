/**
 * The one gate from untrusted input to a typed {@link Message}.
 *
 * @module
 */
import { ProtocolError } from './errors.js';
import { type Message, messageSchema } from './messages.js';

/**
 * Checks a decoded frame value and returns it as a typed message. Anything else (not an
 * object, an unknown `type`, a missing or ill-typed field) throws a ProtocolError that
 * says what was wrong.
 */
export function parseMessage(value: unknown): Message {
  const parsed = messageSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new ProtocolError(`invalid message${where}: ${issue?.message ?? 'unrecognised'}`, {
    cause: parsed.error,
  });
}
