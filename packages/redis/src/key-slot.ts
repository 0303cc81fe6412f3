/**
 * The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag, or of the whole key when
 * it has none, modulo 16384. Used to find the node a blocking command waits on, so that a
 * stopping worker can interrupt it there.
 *
 * @module
 */

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  TABLE[i] = crc & 0xffff;
}

/** The slot (0 to 16383) Redis Cluster stores `key` in. */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key);
  // The hash tag: what is between the first '{' and the next '}', when not empty.
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  return crc % 16384;
}
