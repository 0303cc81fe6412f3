/**
 * The raw ceiling's wire format, written here and not taken from @taskpool/protocol so the
 * ceiling is honest: a 4-byte big-endian length, then UTF-8 JSON. Nothing is validated.
 */

export interface RawRequest {
  id: number;
  method: string;
  args: unknown[];
}

/** A reply, or (with `item`) one item of the stream of request `id`, before its reply. */
export interface RawReply {
  id: number;
  result?: unknown;
  error?: string;
  item?: unknown;
}

export function encodeRaw(message: unknown): Buffer {
  const json = JSON.stringify(message);
  const length = Buffer.byteLength(json);
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32BE(length, 0);
  frame.write(json, 4);
  return frame;
}

export class RawReader {
  #rest: Buffer | undefined;

  /** Every complete frame in what arrived so far, parsed; keeps a partial one for later. */
  push(chunk: Buffer): unknown[] {
    const data = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    const messages: unknown[] = [];
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readUInt32BE(offset);
      if (data.length - offset - 4 < length) break;
      messages.push(JSON.parse(data.toString('utf8', offset + 4, offset + 4 + length)));
      offset += 4 + length;
    }
    this.#rest = offset < data.length ? data.subarray(offset) : undefined;
    return messages;
  }
}
