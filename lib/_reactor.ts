/**
 * The reactor behind every descriptor wait (lib/wait.ts): one epoll set per
 * isolate, kept current from the JS thread, and one `epoll_wait` on Deno's
 * blocking pool while anyone waits.
 *
 * @module
 */
import { libc } from "../ffi/libc.ts";
import { off } from "../ffi/struct.ts";
import { unistd, unistdLayout } from "../ffi/unistd.ts";
import { type IpcError, sys, trySys } from "./_errors.ts";

/** One pending descriptor wait. */
export interface FdWaiter {
  fd: number;
  events: number;
  resolve(revents: number): void;
  reject(reason: unknown): void;
}

/** Most events taken from one `epoll_wait`. */
const MAX_EVENTS = 64;

/**
 * The isolate's single wait loop: one epoll instance whose interest list is
 * kept up to date from this thread (`epoll_ctl`, one-shot per wait), and one
 * `epoll_wait` on Deno's pool while anyone waits. Adding or giving up a wait
 * therefore never interrupts the pending pool call, and a wake-up costs the
 * same with 1 or 1000 descriptors registered.
 */
export class Reactor {
  /** Pending waits by descriptor. */
  readonly #byFd = new Map<number, FdWaiter[]>();
  /** Events each descriptor is armed for (one-shot: dropped when it fires). */
  readonly #armed = new Map<number, number>();
  /** Descriptors in the interest list, armed or spent. */
  readonly #known = new Set<number>();
  #count = 0;
  #running = false;
  #epfd = -1;
  #wakeFd = -1;
  readonly #drain = new Uint8Array(8);
  readonly #one = new BigUint64Array([1n]);
  // Off-heap (own ArrayBuffers over 64 bytes), as FFI "buffer" arguments prefer.
  readonly #ctl = new Uint8Array(new ArrayBuffer(128));
  readonly #ctlView = new DataView(this.#ctl.buffer);
  #events?: Uint8Array<ArrayBuffer>;

  add(w: FdWaiter): void {
    this.#open();
    let list = this.#byFd.get(w.fd);
    if (!list) this.#byFd.set(w.fd, list = []);
    list.push(w);
    this.#count++;
    let pollable: boolean;
    try {
      pollable = this.#arm(w.fd, list);
    } catch (e) {
      this.remove(w);
      throw e;
    }
    if (!pollable) {
      // Not pollable (a regular file: always ready, as poll() says) or not
      // open: let the caller's next attempt find out.
      this.remove(w);
      w.resolve(w.events);
      return;
    }
    if (!this.#running) this.#run();
  }

  remove(w: FdWaiter): void {
    const list = this.#byFd.get(w.fd);
    const i = list ? list.indexOf(w) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    this.#count--;
    if (list!.length === 0) {
      this.#byFd.delete(w.fd);
      if (this.#armed.has(w.fd)) this.#forget(w.fd);
    }
    // Nobody left: end the pending epoll_wait so it keeps nothing alive.
    if (this.#count === 0 && this.#running) this.#wake();
  }

  /** Rejects every wait on `fd` and drops it from the interest list (its handle is closing). */
  cancelFd(fd: number, reason: unknown): void {
    for (const w of this.#take(fd)) w.reject(reason);
    if (this.#known.has(fd)) this.#forget(fd);
  }

  /**
   * Removes every wait on `fd` at once and returns them. (Removing them one
   * by one while iterating the same array skipped every other wait, which
   * then never settled and kept the process alive.)
   */
  #take(fd: number): FdWaiter[] {
    const list = this.#byFd.get(fd) ?? [];
    if (list.length === 0) return list;
    this.#byFd.delete(fd);
    this.#count -= list.length;
    if (this.#armed.has(fd)) this.#forget(fd);
    // Nobody left: end the pending epoll_wait so it keeps nothing alive.
    if (this.#count === 0 && this.#running) this.#wake();
    return list;
  }

  get size(): number {
    return this.#count;
  }

  #open(): void {
    if (this.#epfd >= 0) return;
    const lib = libc();
    const C = unistd();
    const epfd = sys(() => lib.epoll_create1(C.EPOLL_CLOEXEC), "epoll_create1", "ipckit reactor");
    this.#wakeFd = sys(
      () => lib.eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC),
      "eventfd",
      "ipckit reactor",
    );
    this.#epfd = epfd;
    // The wake-up eventfd stays registered, level-triggered.
    this.#ctlOp(C.EPOLL_CTL_ADD, this.#wakeFd, C.POLLIN);
    this.#known.add(this.#wakeFd);
  }

  /** epoll_ctl(op, fd, events) with `data` = fd; throws the IpcError. */
  #ctlOp(op: number, fd: number, events: number, wouldBlock?: string[]): number | null {
    const L = unistdLayout().epoll_event;
    const v = this.#ctlView;
    v.setUint32(off(L, "events"), events >>> 0, true);
    v.setInt32(off(L, "data"), fd, true);
    v.setInt32(off(L, "data") + 4, 0, true);
    const epfd = this.#epfd;
    return trySys(
      () => libc().epoll_ctl(epfd, op, fd, this.#ctl),
      "epoll_ctl",
      fd,
      undefined,
      wouldBlock,
    );
  }

  /** Arms `fd` one-shot for what `list` waits for; false if it cannot be polled. */
  #arm(fd: number, list: FdWaiter[]): boolean {
    let events = 0;
    for (const w of list) events |= w.events;
    if (this.#armed.get(fd) === events) return true;
    const C = unistd();
    const want = events | C.EPOLLONESHOT;
    try {
      // A descriptor we registered before is re-armed; one we do not know,
      // or that was closed and reopened under the same number, is added.
      const again = this.#known.has(fd) &&
        this.#ctlOp(C.EPOLL_CTL_MOD, fd, want, ["ENOENT"]) !== null;
      if (!again && this.#ctlOp(C.EPOLL_CTL_ADD, fd, want, ["EEXIST"]) === null) {
        this.#ctlOp(C.EPOLL_CTL_MOD, fd, want);
      }
    } catch (e) {
      const code = (e as IpcError).code;
      if (code === "EPERM" || code === "EBADF") return false;
      throw e;
    }
    this.#known.add(fd);
    this.#armed.set(fd, events);
    return true;
  }

  /** Drops `fd` from the interest list (errors ignored: it may be closed already). */
  #forget(fd: number): void {
    this.#armed.delete(fd);
    this.#known.delete(fd);
    try {
      this.#ctlOp(unistd().EPOLL_CTL_DEL, fd, 0, ["ENOENT", "EBADF"]);
    } catch {
      // Nothing to undo.
    }
  }

  #wake(): void {
    libc().write(this.#wakeFd, this.#one, 8n);
  }

  async #run(): Promise<void> {
    const lib = libc();
    const C = unistd();
    const L = unistdLayout().epoll_event;
    const [eventsAt, dataAt] = [off(L, "events"), off(L, "data")];
    const buf = this.#events ??= new Uint8Array(L.size * MAX_EVENTS);
    const view = new DataView(buf.buffer);
    const always = C.POLLERR | C.POLLHUP | C.POLLNVAL;
    this.#running = true;
    try {
      while (this.#count > 0) {
        // A hint only: errno after a pool call belongs to another thread.
        const n = await lib.epoll_wait_nb(this.#epfd, buf, MAX_EVENTS, 1000);
        for (let i = 0; i < n; i++) {
          const revents = view.getUint32(i * L.size + eventsAt, true);
          const fd = view.getInt32(i * L.size + dataAt, true);
          if (fd === this.#wakeFd) {
            lib.read(this.#wakeFd, this.#drain, 8n);
            continue;
          }
          this.#armed.delete(fd); // one-shot: spent
          const list = this.#byFd.get(fd);
          if (!list) continue;
          const rest: FdWaiter[] = [];
          for (const w of list) {
            if ((revents & (w.events | always)) !== 0) {
              this.#count--;
              w.resolve(revents);
            } else rest.push(w);
          }
          if (rest.length === 0) this.#byFd.delete(fd);
          else {
            this.#byFd.set(fd, rest);
            if (!this.#arm(fd, rest)) {
              for (const w of this.#take(fd)) w.resolve(w.events);
            }
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

/** The isolate's reactor. */
export const reactor: Reactor = new Reactor();

/** Poll event bits to wait for. */
export type Interest = "read" | "write" | number;

/** The poll/epoll event bits of `interest`. */
export function eventsOf(interest: Interest): number {
  const C = unistd();
  if (interest === "read") return C.POLLIN;
  if (interest === "write") return C.POLLOUT;
  return interest;
}
