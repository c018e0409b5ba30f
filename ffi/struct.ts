/**
 * C struct layouts as data: a size and each field's offset and width, so the
 * layout test can compare every entry with `offsetof`/`sizeof` from the real
 * headers, and code reads offsets from the table instead of literal numbers.
 *
 * @module
 */

/** One C struct (or union or scalar type) as laid out by the platform's ABI. */
export interface Layout {
  /** The C type, as the layout probe spells it (`"struct mq_attr"`). */
  c: string;
  /** `sizeof` the type. */
  size: number;
  /** Field name to `[offset, width]` in bytes; names as in C. */
  fields: Record<string, readonly [number, number]>;
}

/** Offset of `field` in `layout`. Throws on a typo rather than reading byte 0. */
export function off(layout: Layout, field: string): number {
  const f = layout.fields[field];
  if (!f) throw new Error(`ipckit bug: ${layout.c} has no field ${field}`);
  return f[0];
}

/** Reads an integer field of any width (1, 2, 4, 8 bytes) as a number. */
export function getField(
  view: DataView,
  layout: Layout,
  field: string,
  signed = false,
  base = 0,
): number {
  const [o, w] = layout.fields[field] ?? [];
  if (o === undefined) throw new Error(`ipckit bug: ${layout.c} has no field ${field}`);
  const at = base + o;
  switch (w) {
    case 1:
      return signed ? view.getInt8(at) : view.getUint8(at);
    case 2:
      return signed ? view.getInt16(at, true) : view.getUint16(at, true);
    case 4:
      return signed ? view.getInt32(at, true) : view.getUint32(at, true);
    case 8:
      return Number(signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true));
    default:
      throw new Error(`ipckit bug: ${layout.c}.${field} has width ${w}`);
  }
}

/** Writes an integer field of any width (1, 2, 4, 8 bytes). */
export function setField(
  view: DataView,
  layout: Layout,
  field: string,
  value: number,
  base = 0,
): void {
  const [o, w] = layout.fields[field] ?? [];
  if (o === undefined) throw new Error(`ipckit bug: ${layout.c} has no field ${field}`);
  const at = base + o;
  switch (w) {
    case 1:
      return view.setUint8(at, value & 0xff);
    case 2:
      return view.setUint16(at, value & 0xffff, true);
    case 4:
      return value < 0 ? view.setInt32(at, value, true) : view.setUint32(at, value, true);
    case 8:
      return view.setBigInt64(at, BigInt(Math.trunc(value)), true);
    default:
      throw new Error(`ipckit bug: ${layout.c}.${field} has width ${w}`);
  }
}
