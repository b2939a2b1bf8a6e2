/**
 * Reader for .tlog recordings: records of an 8-byte big-endian Unix time in microseconds followed by one frame.
 */
export interface TlogRecord {
  readonly timeUs: bigint;
  readonly frame: Buffer;
}

/** Split a tlog buffer into records. Stops (without throwing) at a truncated or unrecognisable tail. */
export function readTlog(data: Buffer): TlogRecord[] {
  const out: TlogRecord[] = [];
  let off = 0;
  while (off + 8 + 8 <= data.length) {
    const timeUs = data.readBigUInt64BE(off);
    const stx = data[off + 8];
    const plen = data[off + 9];
    let len: number;
    if (stx === 0xfd) len = 12 + plen + ((data[off + 10] & 1) !== 0 ? 13 : 0);
    else if (stx === 0xfe) len = 8 + plen;
    else break;
    if (off + 8 + len > data.length) break;
    out.push({ timeUs, frame: data.subarray(off + 8, off + 8 + len) });
    off += 8 + len;
  }
  return out;
}
