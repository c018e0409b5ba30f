/**
 * `struct sembuf[]` for System V semaphore sets: encoding operations,
 * recognising a reused array, and value checks.
 *
 * @module
 */
import { describe } from "./_validate.ts";
import { setField } from "../ffi/struct.ts";
import { sysv, sysvLayout } from "../ffi/sysv.ts";
import { invalidArgument, ipcError } from "./_errors.ts";
import { shown } from "./_sysv_key.ts";
import { sysvLimits } from "./_sysv_limits.ts";
import { SEMVMX, type SysvSemOp } from "./_sysv_sem_types.ts";

/** Operations encoded as `struct sembuf[]`, with a snapshot to detect changes. */
export interface Encoded {
  snapshot: SysvSemOp[];
  nowait: Uint8Array<ArrayBuffer>;
  wait: Uint8Array<ArrayBuffer>;
  n: bigint;
}

export function sameOps(a: SysvSemOp[], b: SysvSemOp[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x.index !== y?.index || x.delta !== y.delta || x.undo !== !!y.undo) return false;
  }
  return true;
}

export function checkValue(v: unknown, syscall: string, object: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw invalidArgument(syscall, object, `a semaphore value must be an integer, got ${shown(v)}`);
  }
  if (v < 0 || v > SEMVMX) {
    throw ipcError({
      code: "ERANGE",
      syscall,
      object,
      detail: `a semaphore value must be an integer from 0 to ${SEMVMX} (SEMVMX), got ${v}`,
      limit: "SEMVMX",
    });
  }
  return v;
}

/**
 * Encodes `ops` as `struct sembuf[]`: one buffer with `IPC_NOWAIT` (the
 * attempt on the JS thread) and one without (the timed park on the pool).
 * `index` validates a semaphore index.
 */
export function encodeOps(
  ops: SysvSemOp[],
  syscall: string,
  name: string,
  index: (i: unknown) => number,
): [Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>] {
  if (!Array.isArray(ops) || ops.length === 0) {
    throw invalidArgument(syscall, name, "pass at least one operation");
  }
  const { semopm } = sysvLimits();
  if (ops.length > semopm) {
    throw ipcError({
      code: "E2BIG",
      syscall,
      object: name,
      detail: `${ops.length} operations exceed SEMOPM (${semopm}) per call`,
      limit: "kernel.sem (SEMOPM)",
    });
  }
  const C = sysv();
  const L = sysvLayout().sembuf;
  const nowait = new Uint8Array(L.size * ops.length);
  const wait = new Uint8Array(L.size * ops.length);
  const vn = new DataView(nowait.buffer);
  const vw = new DataView(wait.buffer);
  ops.forEach((op, i) => {
    if (typeof op !== "object" || op === null) {
      throw invalidArgument(syscall, name, "each operation is { index, delta, undo? }");
    }
    const at = index(op.index);
    const d = op.delta;
    if (typeof d !== "number" || !Number.isInteger(d) || d < -SEMVMX || d > SEMVMX) {
      throw ipcError({
        code: "ERANGE",
        syscall,
        object: name,
        detail: `delta must be an integer from -${SEMVMX} to ${SEMVMX}, got ${describe(d)}`,
        limit: "SEMVMX",
      });
    }
    const flags = op.undo ? C.SEM_UNDO : 0;
    for (const [v, f] of [[vn, flags | C.IPC_NOWAIT], [vw, flags]] as const) {
      setField(v, L, "sem_num", at, i * L.size);
      setField(v, L, "sem_op", d, i * L.size);
      setField(v, L, "sem_flg", f, i * L.size);
    }
  });
  return [nowait, wait];
}
