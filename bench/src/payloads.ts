/**
 * The payloads sent and the checks applied to every reply: a reply that is not what was
 * sent fails the run, so a system cannot win by dropping or mangling work.
 */

export interface SmallPayload {
  id: number;
  kind: 'echo';
  text: string;
  tags: string[];
  n: number;
}

export interface BigPayload {
  id: number;
  text: string;
}

const sentence = 'the quick brown fox jumps over the lazy dog';

/** A ~100-byte JSON object (id, a short sentence, two tags, a float). */
export function smallPayload(id: number): SmallPayload {
  return { id, kind: 'echo', text: sentence, tags: ['alpha', 'beta'], n: id / 8 };
}

/** 10,000 characters, not one repeated letter, so a truncation shows. */
const tenThousand = Array.from({ length: 10_000 }, (_, i) =>
  String.fromCharCode(97 + ((i * 7) % 26)),
).join('');

export function bigPayload(id: number): BigPayload {
  return { id, text: tenThousand };
}

function fail(what: string, sent: { id: number }, got: unknown): never {
  const shown = JSON.stringify(got) ?? String(got);
  throw new Error(`bad reply to call ${sent.id} (${what}): ${shown.slice(0, 120)}`);
}

function asRecord(got: unknown, sent: { id: number }): Record<string, unknown> {
  if (typeof got !== 'object' || got === null) fail('not an object', sent, got);
  return got as Record<string, unknown>;
}

export function checkSmall(sent: SmallPayload, got: unknown): void {
  const reply = asRecord(got, sent);
  if (reply.id !== sent.id) fail('id', sent, got);
  if (reply.kind !== sent.kind || reply.text !== sent.text || reply.n !== sent.n) {
    fail('fields', sent, got);
  }
  const tags = reply.tags;
  if (!Array.isArray(tags) || tags.length !== 2 || tags[0] !== 'alpha' || tags[1] !== 'beta') {
    fail('tags', sent, got);
  }
}

/**
 * The end of a stream of `count` items: all of them read (each checked on its way, against
 * `smallPayload(index)`), and the worker's return value `{ count }`.
 */
export function checkStreamEnd(count: number, read: number, result: unknown): void {
  if (read !== count) throw new Error(`stream of ${count} items ended after ${read}`);
  const end = result as { count?: unknown } | null;
  if (typeof end !== 'object' || end === null || end.count !== count) {
    throw new Error(
      `stream of ${count} items returned ${(JSON.stringify(result) ?? String(result)).slice(0, 120)}`,
    );
  }
}

export function checkBig(sent: BigPayload, got: unknown): void {
  const reply = asRecord(got, sent);
  if (reply.id !== sent.id) fail('id', sent, got);
  if (reply.text !== sent.text) fail('text differs', sent, got);
}

const saltAlphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fixed bcrypt salt per index, so every hash has one known right answer (computed once
 * per machine by the orchestrator) and each result can be compared, not just counted.
 */
export function bcryptSalt(index: number, cost: number): string {
  let state = Math.imul(index + 1, 2_654_435_761) >>> 0;
  let chars = '';
  for (let i = 0; i < 22; i++) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    chars += saltAlphabet[state >>> 26];
  }
  return `$2b$${String(cost).padStart(2, '0')}$${chars}`;
}

export function bcryptPassword(index: number): string {
  return `correct horse battery staple #${index}`;
}
