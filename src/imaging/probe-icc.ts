/**
 * The human-readable name of an ICC colour profile (its `desc` tag), e.g. "sRGB IEC61966-2.1".
 * ICC.1:2001 (v2) stores it as `textDescriptionType` ('desc'), ICC.1:2010 (v4) as
 * `multiLocalizedUnicodeType` ('mluc').
 */

/** Names longer than this are cut. */
const MAX_NAME_LENGTH = 256;

const HEADER_BYTES = 128;
const TAG_ENTRY_BYTES = 12;
const MAX_TAGS = 1024;

const cleanName = (text: string): string | undefined => {
  const name = text.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return name === '' ? undefined : name.slice(0, MAX_NAME_LENGTH);
};

/**
 * @param icc the raw ICC profile (Sharp's `metadata().icc`).
 * @returns the profile's description in English where several languages exist (else the first),
 *   or undefined when the profile has no readable description. Never throws.
 */
export function iccProfileName(icc: Uint8Array): string | undefined {
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const fits = (at: number, length: number): boolean =>
    at >= 0 && length >= 0 && at + length <= icc.byteLength;
  const sig = (at: number): string => String.fromCharCode(...icc.subarray(at, at + 4));
  if (!fits(HEADER_BYTES, 4)) return undefined;
  const tagCount = Math.min(view.getUint32(HEADER_BYTES), MAX_TAGS);
  for (let i = 0; i < tagCount; i++) {
    const entry = HEADER_BYTES + 4 + i * TAG_ENTRY_BYTES;
    if (!fits(entry, TAG_ENTRY_BYTES)) return undefined;
    if (sig(entry) !== 'desc') continue;
    const offset = view.getUint32(entry + 4);
    const size = view.getUint32(entry + 8);
    if (!fits(offset, size) || size < 12) return undefined;
    const type = sig(offset);
    if (type === 'desc') {
      const count = view.getUint32(offset + 8);
      if (!fits(offset + 12, count) || 12 + count > size) return undefined;
      return cleanName(
        String.fromCharCode(...icc.subarray(offset + 12, offset + 12 + Math.min(count, MAX_NAME_LENGTH))),
      );
    }
    if (type === 'mluc') {
      if (size < 16) return undefined;
      const records = view.getUint32(offset + 8);
      const recordSize = view.getUint32(offset + 12);
      if (recordSize < 12) return undefined;
      let chosen: { length: number; at: number } | undefined;
      for (let r = 0; r < Math.min(records, 64); r++) {
        const record = offset + 16 + r * recordSize;
        if (!fits(record, 12)) break;
        const candidate = { length: view.getUint32(record + 4), at: offset + view.getUint32(record + 8) };
        if (chosen === undefined || sig(record).startsWith('en')) chosen = candidate;
        if (sig(record).startsWith('en')) break;
      }
      if (chosen === undefined || !fits(chosen.at, chosen.length)) return undefined;
      const length = Math.min(chosen.length, MAX_NAME_LENGTH * 2) & ~1;
      return cleanName(new TextDecoder('utf-16be').decode(icc.subarray(chosen.at, chosen.at + length)));
    }
    return undefined;
  }
  return undefined;
}
