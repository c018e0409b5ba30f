/**
 * Joining byte chunks, for the places that collect a stream's pieces
 * (`readAll()`, /proc reads, captured CLI output, line splitting).
 *
 * @module
 */

/** The chunks joined into one new `Uint8Array`. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
