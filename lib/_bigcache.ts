/**
 * A one-entry `BigInt()` cache for FFI arguments (`usize`, `i64`): hot
 * loops pass the same size or type again and again, and a `BigInt` per call
 * is an allocation per message.
 *
 * @module
 */

/** A one-entry `BigInt()` cache: hot loops pass the same size or type again and again. */
export class BigCache {
  #n = NaN;
  #big = 0n;
  of(n: number): bigint {
    if (n !== this.#n) {
      this.#big = BigInt(n);
      this.#n = n;
    }
    return this.#big;
  }
}
