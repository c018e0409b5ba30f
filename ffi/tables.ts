/**
 * Every constant and layout table ipckit uses, with the headers that define
 * them: the input of the C layout probe in `tests/layout_test.ts`. A new area
 * adds its tables here so the probe checks them on both architectures.
 *
 * @module
 */
import type { PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";
import { errnoConstants } from "./errno.ts";
import { unistdConstants, unistdHeaders, unistdLayouts } from "./unistd.ts";
import { mqueueConstants, mqueueHeaders, mqueueLayouts } from "./mqueue.ts";
import { semaphoreConstants, semaphoreHeaders, semaphoreLayouts } from "./semaphore.ts";
import { mmanConstants, mmanHeaders, mmanLayouts } from "./mman.ts";
import { sysvConstants, sysvHeaders, sysvLayouts, sysvPrelude } from "./sysv.ts";
import { socketConstants, socketHeaders, socketLayouts } from "./socket.ts";
import { signalConstants, signalHeaders, signalLayouts } from "./signal.ts";
import { lockConstants, lockHeaders, lockLayouts } from "./lock.ts";
import { direntConstants, direntHeaders, direntLayouts } from "./dirent.ts";
import { futexConstants, futexHeaders } from "./futex.ts";

/** One area's tables. */
export interface AreaTables {
  headers: string[];
  constants: PerArch<Record<string, number>>;
  layouts?: PerArch<Record<string, Layout>>;
  /** C declarations the probe needs that no header provides (e.g. `union semun`). */
  prelude?: string;
}

/** All areas, keyed by name. */
export const areas: Record<string, AreaTables> = {
  errno: { headers: ["errno.h"], constants: errnoConstants },
  unistd: { headers: unistdHeaders, constants: unistdConstants, layouts: unistdLayouts },
  mqueue: { headers: mqueueHeaders, constants: mqueueConstants, layouts: mqueueLayouts },
  semaphore: {
    headers: semaphoreHeaders,
    constants: semaphoreConstants,
    layouts: semaphoreLayouts,
  },
  mman: { headers: mmanHeaders, constants: mmanConstants, layouts: mmanLayouts },
  sysv: {
    headers: sysvHeaders,
    constants: sysvConstants,
    layouts: sysvLayouts,
    prelude: sysvPrelude,
  },
  socket: { headers: socketHeaders, constants: socketConstants, layouts: socketLayouts },
  signal: { headers: signalHeaders, constants: signalConstants, layouts: signalLayouts },
  lock: { headers: lockHeaders, constants: lockConstants, layouts: lockLayouts },
  dirent: { headers: direntHeaders, constants: direntConstants, layouts: direntLayouts },
  futex: { headers: futexHeaders, constants: futexConstants },
};
