/**
 * `<sys/ipc.h>`, `<sys/msg.h>`, `<sys/sem.h>`, `<sys/shm.h>`: System V message
 * queues, semaphore sets and shared memory.
 *
 * Calling-convention notes:
 *
 * - `msgrcv` returns `ssize_t` but is declared `i32`: a message is at most
 *   `kernel.msgmax` bytes (far below 2^31), so the low 32 bits hold the whole
 *   value and -1 stays -1, without allocating a BigInt.
 * - `semctl` is variadic; its fourth argument is a `union semun` passed by
 *   value. The union is 8 bytes (an `int` or a pointer) and travels in an
 *   integer register on both x86_64 and aarch64 Linux, so it is declared
 *   twice: `semctl` with a `u64` (for `SETVAL`'s value, or 0) and
 *   `semctl_buf` with a `"buffer"` (the pointer member: `IPC_STAT`/`IPC_SET`
 *   buffers and the `GETALL`/`SETALL` array), which keeps the memory alive
 *   for the call.
 * - `semtimedop_nb` is the one pool call: a timed slice used only as a
 *   wake-up hint by `untilAcquired` (its errno is never read).
 * - `semid_ds` is the only layout here that differs between the two
 *   architectures (104 bytes on x86_64, 88 on aarch64).
 *
 * @module
 */
import { lazyTable, type PerArch } from "./platform.ts";
import type { Layout } from "./struct.ts";

/** libc symbols for this area. */
export const sysvSymbols = {
  ftok: { parameters: ["buffer", "i32"], result: "i32" },
  msgget: { parameters: ["i32", "i32"], result: "i32" },
  msgsnd: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  msgrcv: { parameters: ["i32", "buffer", "usize", "i64", "i32"], result: "i32" },
  msgctl: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  semget: { parameters: ["i32", "i32", "i32"], result: "i32" },
  semop: { parameters: ["i32", "buffer", "usize"], result: "i32" },
  /** Pool slice for semaphore waits: a wake-up hint, errno never read. */
  semtimedop_nb: {
    name: "semtimedop",
    parameters: ["i32", "buffer", "usize", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  /**
   * A short sleep on the pool: message-queue waits poll with it for their
   * first milliseconds, finer than Deno's timers (about 2 ms per tick).
   */
  usleep_nb: { name: "usleep", parameters: ["u32"], result: "i32", nonblocking: true },
  semctl: { parameters: ["i32", "i32", "i32", "u64"], result: "i32" },
  semctl_buf: { name: "semctl", parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  shmget: { parameters: ["i32", "usize", "i32"], result: "i32" },
  shmat: { parameters: ["i32", "pointer", "i32"], result: "pointer" },
  shmdt: { parameters: ["pointer"], result: "i32" },
  shmctl: { parameters: ["i32", "i32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Constants for this area, checked against C by `tests/layout_test.ts`. */
export const sysvConstants: PerArch<Record<string, number>> = {
  common: {
    IPC_PRIVATE: 0,
    IPC_CREAT: 0o1000,
    IPC_EXCL: 0o2000,
    IPC_NOWAIT: 0o4000,
    IPC_RMID: 0,
    IPC_SET: 1,
    IPC_STAT: 2,
    MSG_NOERROR: 0o10000,
    MSG_EXCEPT: 0o20000,
    SEM_UNDO: 0x1000,
    GETPID: 11,
    GETVAL: 12,
    GETALL: 13,
    GETNCNT: 14,
    GETZCNT: 15,
    SETVAL: 16,
    SETALL: 17,
    SHM_RDONLY: 0o10000,
    SHM_DEST: 0o1000,
    SHM_LOCKED: 0o2000,
  },
};

const ipcPermFields = {
  __key: [0, 4],
  uid: [4, 4],
  gid: [8, 4],
  cuid: [12, 4],
  cgid: [16, 4],
  mode: [20, 4],
  __seq: [24, 2],
} as const;

/** Struct layouts for this area. */
export const sysvLayouts: PerArch<Record<string, Layout>> = {
  common: {
    ipc_perm: { c: "struct ipc_perm", size: 48, fields: ipcPermFields },
    msqid_ds: {
      c: "struct msqid_ds",
      size: 120,
      fields: {
        msg_perm: [0, 48],
        msg_stime: [48, 8],
        msg_rtime: [56, 8],
        msg_ctime: [64, 8],
        msg_cbytes: [72, 8],
        msg_qnum: [80, 8],
        msg_qbytes: [88, 8],
        msg_lspid: [96, 4],
        msg_lrpid: [100, 4],
      },
    },
    shmid_ds: {
      c: "struct shmid_ds",
      size: 112,
      fields: {
        shm_perm: [0, 48],
        shm_segsz: [48, 8],
        shm_atime: [56, 8],
        shm_dtime: [64, 8],
        shm_ctime: [72, 8],
        shm_cpid: [80, 4],
        shm_lpid: [84, 4],
        shm_nattch: [88, 8],
      },
    },
    sembuf: {
      c: "struct sembuf",
      size: 6,
      fields: { sem_num: [0, 2], sem_op: [2, 2], sem_flg: [4, 2] },
    },
    semun: { c: "union semun", size: 8, fields: { val: [0, 4], buf: [0, 8], array: [0, 8] } },
    msgbuf: { c: "struct msgbuf", size: 16, fields: { mtype: [0, 8], mtext: [8, 1] } },
    timespec: { c: "struct timespec", size: 16, fields: { tv_sec: [0, 8], tv_nsec: [8, 8] } },
  },
  x86_64: {
    semid_ds: {
      c: "struct semid_ds",
      size: 104,
      fields: { sem_perm: [0, 48], sem_otime: [48, 8], sem_ctime: [64, 8], sem_nsems: [80, 8] },
    },
  },
  aarch64: {
    semid_ds: {
      c: "struct semid_ds",
      size: 88,
      fields: { sem_perm: [0, 48], sem_otime: [48, 8], sem_ctime: [56, 8], sem_nsems: [64, 8] },
    },
  },
};

/** Headers the layout probe includes for this area. */
export const sysvHeaders: string[] = ["sys/ipc.h", "sys/msg.h", "sys/sem.h", "sys/shm.h", "time.h"];

/**
 * C declarations the layout probe needs: `<sys/sem.h>` leaves `union semun`
 * to the caller (`_SEM_SEMUN_UNDEFINED`).
 */
export const sysvPrelude = `union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
};`;

/** The running arch's constants for this area. */
export const sysv = lazyTable(sysvConstants);
/** The running arch's layouts for this area. */
export const sysvLayout = lazyTable(sysvLayouts);
