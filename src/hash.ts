/**
 * A fast, deterministic, workflow-safe hash of text: the tool results a stuck-loop guard remembers
 * without keeping them. Not cryptographic: it tells texts apart, it authenticates nothing (transcript
 * fingerprints, which a worker trusts, use SHA-256).
 */

/**
 * 64 bits of hash over a string's UTF-16 code units, as 16 hex digits: two multiply-xorshift lanes
 * (cyrb53's, with MurmurHash3's finaliser), both kept whole.
 */
export function hashText(text: string): string {
  let a = 0xdeadbeef ^ text.length;
  let b = 0x41c6ce57 ^ text.length;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    a = Math.imul(a ^ unit, 2654435761);
    b = Math.imul(b ^ unit, 1597334677);
  }
  a = Math.imul(a ^ (a >>> 16), 2246822507) ^ Math.imul(b ^ (b >>> 13), 3266489909);
  b = Math.imul(b ^ (b >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
