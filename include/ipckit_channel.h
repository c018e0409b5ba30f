/*
 * ipckit_channel.h: the ipckit channel (layout version 1) in C, header-only.
 *
 * A single-producer single-consumer ring of messages in shared memory,
 * compatible with ipckit's `@ipckit/ipckit/channel` in Deno. Either side may
 * be C or Deno. Layout and protocol: docs/channel.md. Linux only (futex).
 * Header-only; gcc's default gnu mode is fine, a strict -std=c11 needs
 * -D_GNU_SOURCE (for syscall() and kill()). Also compiles as C++.
 *
 *   ipckit_channel ch;
 *   if (ipckit_channel_open(&ch, "/jobs", IPCKIT_CHANNEL_RECEIVE) < 0) err(1, "open");
 *   char buf[4096];
 *   int n = ipckit_channel_receive(&ch, buf, sizeof buf, -1);   // -1: wait forever
 *   ipckit_channel_close(&ch);
 *
 * Functions return -1 and set errno on failure: EPIPE when the peer closed
 * or died (after the ring is drained), ETIMEDOUT, EAGAIN from the try_ forms
 * when they would wait, EMSGSIZE for a message larger than message_size (or
 * than the caller's buffer), EPROTO for a corrupt ring, EBUSY when a live
 * process already holds the end.
 *
 * Memory ordering (matches the JS side, whose Atomics are seq-cst): the
 * sender writes payload and length with plain stores and publishes `tail`
 * with a seq-cst store (a release would do for the data; seq-cst orders it
 * before the load of the receiver's sleep word, see below). The receiver
 * loads `tail` with acquire, reads the slot, then publishes `head` with a
 * seq-cst store. A side going to sleep stores its sleep word (seq-cst),
 * re-loads the watched position (seq-cst) and calls FUTEX_WAIT on it with the
 * value it saw; the other side publishes, then loads the sleep word: by
 * sequential consistency one of the two sees the other's store, and the
 * futex re-checks the value in the kernel, so no wake-up is lost.
 */
#ifndef IPCKIT_CHANNEL_H
#define IPCKIT_CHANNEL_H

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define IPCKIT_CHANNEL_MAGIC 0x4c4e4843u /* "CHNL" little-endian */
#define IPCKIT_CHANNEL_VERSION 1u
#define IPCKIT_CHANNEL_HEADER_SIZE 1024u
#define IPCKIT_CHANNEL_SLOT_HEADER 8u
#define IPCKIT_CHANNEL_MAX_CAPACITY (1u << 24)

/* Byte offsets of the header words (all 32-bit). */
#define IPCKIT_CH_OFF_MAGIC 0
#define IPCKIT_CH_OFF_VERSION 4
#define IPCKIT_CH_OFF_HEADER_SIZE 8
#define IPCKIT_CH_OFF_CAPACITY 12
#define IPCKIT_CH_OFF_SLOT_SIZE 16
#define IPCKIT_CH_OFF_MESSAGE_SIZE 20
#define IPCKIT_CH_OFF_FLAGS 24
#define IPCKIT_CH_OFF_SENDER_PID 32
#define IPCKIT_CH_OFF_RECEIVER_PID 36
#define IPCKIT_CH_OFF_CLOSED 40
#define IPCKIT_CH_OFF_TAIL 128
#define IPCKIT_CH_OFF_HEAD 256
#define IPCKIT_CH_OFF_RECEIVER_SLEEP 384
#define IPCKIT_CH_OFF_SENDER_SLEEP 512

#define IPCKIT_CH_CLOSED_SEND 1u
#define IPCKIT_CH_CLOSED_RECEIVE 2u

enum { IPCKIT_CHANNEL_SEND = 0, IPCKIT_CHANNEL_RECEIVE = 1 };

/** Spin iterations before sleeping (about 20 µs here). */
#ifndef IPCKIT_CHANNEL_SPIN
#define IPCKIT_CHANNEL_SPIN 2000
#endif

typedef struct ipckit_channel {
  uint8_t *base;
  size_t size;
  uint32_t capacity, mask, slot_size, message_size;
  int end;      /* IPCKIT_CHANNEL_SEND or IPCKIT_CHANNEL_RECEIVE */
  uint32_t pos; /* our position: tail (sender) or head (receiver) */
  uint32_t peer; /* last seen peer position */
  int fd;
} ipckit_channel;

#define IPCKIT_CH_WORD(ch, off) ((uint32_t *)((ch)->base + (off)))

static inline uint32_t ipckit_channel_slot_size_for(uint32_t message_size) {
  return (message_size + IPCKIT_CHANNEL_SLOT_HEADER + 7u) & ~7u;
}

static inline size_t ipckit_channel_bytes(uint32_t capacity, uint32_t slot_size) {
  return IPCKIT_CHANNEL_HEADER_SIZE + (size_t)capacity * slot_size;
}

static inline uint8_t *ipckit_channel_slot(const ipckit_channel *ch, uint32_t pos) {
  return ch->base + IPCKIT_CHANNEL_HEADER_SIZE + (size_t)(pos & ch->mask) * ch->slot_size;
}

static inline int ipckit_channel_pid_alive(int pid) {
  return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

static inline void ipckit_channel_futex_wake(uint32_t *word) {
  syscall(SYS_futex, word, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

/* Validates the header of a mapping of `size` bytes and attaches `end`. */
static inline int ipckit_channel_attach(ipckit_channel *ch, void *base, size_t size, int end) {
  memset(ch, 0, sizeof *ch);
  ch->fd = -1;
  ch->base = (uint8_t *)base;
  ch->size = size;
  ch->end = end;
  if (size < IPCKIT_CHANNEL_HEADER_SIZE) return errno = EPROTO, -1;
  if (__atomic_load_n(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_MAGIC), __ATOMIC_ACQUIRE) != IPCKIT_CHANNEL_MAGIC ||
      *IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_VERSION) != IPCKIT_CHANNEL_VERSION ||
      *IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_HEADER_SIZE) != IPCKIT_CHANNEL_HEADER_SIZE)
    return errno = EPROTO, -1;
  uint32_t cap = *IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_CAPACITY);
  uint32_t slot = *IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_SLOT_SIZE);
  uint32_t msg = *IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_MESSAGE_SIZE);
  if (cap < 2 || cap > IPCKIT_CHANNEL_MAX_CAPACITY || (cap & (cap - 1)) || slot < 16 || slot % 8 ||
      msg < 1 || msg > slot - IPCKIT_CHANNEL_SLOT_HEADER || ipckit_channel_bytes(cap, slot) > size)
    return errno = EPROTO, -1;
  ch->capacity = cap;
  ch->mask = cap - 1;
  ch->slot_size = slot;
  ch->message_size = msg;
  uint32_t *pidw = IPCKIT_CH_WORD(ch, end == IPCKIT_CHANNEL_SEND ? IPCKIT_CH_OFF_SENDER_PID
                                                                 : IPCKIT_CH_OFF_RECEIVER_PID);
  uint32_t me = (uint32_t)getpid();
  for (;;) {
    uint32_t old = 0;
    if (__atomic_compare_exchange_n(pidw, &old, me, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) break;
    if (old == me || ipckit_channel_pid_alive((int)old)) return errno = EBUSY, -1;
    /* The holder died without closing: take its place. */
    if (__atomic_compare_exchange_n(pidw, &old, me, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) break;
  }
  __atomic_fetch_and(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_CLOSED),
                     ~(end == IPCKIT_CHANNEL_SEND ? IPCKIT_CH_CLOSED_SEND : IPCKIT_CH_CLOSED_RECEIVE),
                     __ATOMIC_SEQ_CST);
  int send = end == IPCKIT_CHANNEL_SEND;
  ch->pos = __atomic_load_n(IPCKIT_CH_WORD(ch, send ? IPCKIT_CH_OFF_TAIL : IPCKIT_CH_OFF_HEAD), __ATOMIC_SEQ_CST);
  ch->peer = __atomic_load_n(IPCKIT_CH_WORD(ch, send ? IPCKIT_CH_OFF_HEAD : IPCKIT_CH_OFF_TAIL), __ATOMIC_SEQ_CST);
  return 0;
}

/* Maps the channel behind `fd` (not closed on failure) and attaches `end`. */
static inline int ipckit_channel_open_fd(ipckit_channel *ch, int fd, int end) {
  struct stat st;
  if (fstat(fd, &st) < 0) return -1;
  if ((size_t)st.st_size < IPCKIT_CHANNEL_HEADER_SIZE) return errno = EPROTO, -1;
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return -1;
  if (ipckit_channel_attach(ch, p, (size_t)st.st_size, end) < 0) {
    int e = errno;
    munmap(p, (size_t)st.st_size);
    return errno = e, -1;
  }
  ch->fd = fd;
  return 0;
}

/* Opens the existing channel `name` ("/jobs"). Checks it is ours and not group/other-writable. */
static inline int ipckit_channel_open(ipckit_channel *ch, const char *name, int end) {
  int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 022))) {
    int e = errno;
    close(fd);
    return errno = (e == 0 || e == EINTR ? EPERM : e), -1;
  }
  if (ipckit_channel_open_fd(ch, fd, end) < 0) {
    int e = errno;
    close(fd);
    return errno = e, -1;
  }
  return 0;
}

/* Initialises a header in fresh zeroed memory of at least ipckit_channel_bytes() bytes. */
static inline void ipckit_channel_init(void *base, uint32_t capacity, uint32_t message_size) {
  uint8_t *b = (uint8_t *)base;
  *(uint32_t *)(b + IPCKIT_CH_OFF_VERSION) = IPCKIT_CHANNEL_VERSION;
  *(uint32_t *)(b + IPCKIT_CH_OFF_HEADER_SIZE) = IPCKIT_CHANNEL_HEADER_SIZE;
  *(uint32_t *)(b + IPCKIT_CH_OFF_CAPACITY) = capacity;
  *(uint32_t *)(b + IPCKIT_CH_OFF_SLOT_SIZE) = ipckit_channel_slot_size_for(message_size);
  *(uint32_t *)(b + IPCKIT_CH_OFF_MESSAGE_SIZE) = message_size;
  __atomic_store_n((uint32_t *)(b + IPCKIT_CH_OFF_MAGIC), IPCKIT_CHANNEL_MAGIC, __ATOMIC_SEQ_CST);
}

/* Creates the channel `name` (O_EXCL, exact `mode`) and attaches `end`. */
static inline int ipckit_channel_create(ipckit_channel *ch, const char *name, int end,
                                        uint32_t capacity, uint32_t message_size, mode_t mode) {
  if (capacity < 2 || capacity > IPCKIT_CHANNEL_MAX_CAPACITY || (capacity & (capacity - 1)) ||
      message_size < 1 || message_size > (1u << 30))
    return errno = EINVAL, -1;
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  size_t size = ipckit_channel_bytes(capacity, ipckit_channel_slot_size_for(message_size));
  int e = 0;
  if (fchmod(fd, mode) < 0) e = errno;
  else if ((e = posix_fallocate(fd, 0, (off_t)size)) == 0) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) e = errno;
    else {
      ipckit_channel_init(p, capacity, message_size);
      munmap(p, size);
      if (ipckit_channel_open_fd(ch, fd, end) == 0) return 0;
      e = errno;
    }
  }
  close(fd);
  shm_unlink(name);
  return errno = e, -1;
}

/* Wakes the peer if its sleep word says it sleeps at a position older than ours. */
static inline void ipckit_channel_wake_peer(ipckit_channel *ch, uint32_t sleep_off, uint32_t word_off) {
  uint32_t *sleep = IPCKIT_CH_WORD(ch, sleep_off);
  uint32_t w = __atomic_load_n(sleep, __ATOMIC_SEQ_CST);
  uint32_t mine = ch->pos | 0x80000000u;
  while (w != 0 && w != mine) {
    if (__atomic_compare_exchange_n(sleep, &w, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      ipckit_channel_futex_wake(IPCKIT_CH_WORD(ch, word_off));
      return;
    }
  }
}

static inline int ipckit_channel_peer_gone(ipckit_channel *ch) {
  int send = ch->end == IPCKIT_CHANNEL_SEND;
  uint32_t closed = __atomic_load_n(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_CLOSED), __ATOMIC_SEQ_CST);
  if (closed & (send ? IPCKIT_CH_CLOSED_RECEIVE : IPCKIT_CH_CLOSED_SEND)) return 1;
  int pid = (int)__atomic_load_n(
      IPCKIT_CH_WORD(ch, send ? IPCKIT_CH_OFF_RECEIVER_PID : IPCKIT_CH_OFF_SENDER_PID), __ATOMIC_SEQ_CST);
  return pid > 0 && !ipckit_channel_pid_alive(pid);
}

/* Free slots (sender), refreshing head only when the cached view says full. */
static inline uint32_t ipckit_channel_free(ipckit_channel *ch) {
  uint32_t used = ch->pos - ch->peer;
  if (used < ch->capacity) return ch->capacity - used;
  ch->peer = __atomic_load_n(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_HEAD), __ATOMIC_ACQUIRE);
  used = ch->pos - ch->peer;
  return used > ch->capacity ? 0 : ch->capacity - used;
}

/* Messages waiting (receiver), refreshing tail only when the cached view says empty. */
static inline uint32_t ipckit_channel_available(ipckit_channel *ch) {
  uint32_t n = ch->peer - ch->pos;
  if (n > 0) return n;
  ch->peer = __atomic_load_n(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_TAIL), __ATOMIC_ACQUIRE);
  n = ch->peer - ch->pos;
  return n > ch->capacity ? 0 : n;
}

/* Writes one message into the next slot without publishing it (caller checked free() > 0). */
static inline void ipckit_channel_put(ipckit_channel *ch, const void *data, uint32_t len) {
  uint8_t *slot = ipckit_channel_slot(ch, ch->pos);
  memcpy(slot + IPCKIT_CHANNEL_SLOT_HEADER, data, len);
  *(uint32_t *)slot = len;
  ch->pos++;
}

/* Publishes the slots written so far and wakes a sleeping receiver. */
static inline void ipckit_channel_publish(ipckit_channel *ch) {
  __atomic_store_n(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_TAIL), ch->pos, __ATOMIC_SEQ_CST);
  ipckit_channel_wake_peer(ch, IPCKIT_CH_OFF_RECEIVER_SLEEP, IPCKIT_CH_OFF_TAIL);
}

/* Frees the slots read so far and wakes a sleeping sender. */
static inline void ipckit_channel_consume(ipckit_channel *ch) {
  __atomic_store_n(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_HEAD), ch->pos, __ATOMIC_SEQ_CST);
  ipckit_channel_wake_peer(ch, IPCKIT_CH_OFF_SENDER_SLEEP, IPCKIT_CH_OFF_HEAD);
}

/* 0 if sent, -1 with errno EAGAIN (full), EPIPE or EMSGSIZE. */
static inline int ipckit_channel_try_send(ipckit_channel *ch, const void *data, uint32_t len) {
  if (len > ch->message_size) return errno = EMSGSIZE, -1;
  if (__atomic_load_n(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_CLOSED), __ATOMIC_RELAXED) & IPCKIT_CH_CLOSED_RECEIVE)
    return errno = EPIPE, -1;
  if (ipckit_channel_free(ch) == 0) return errno = EAGAIN, -1;
  ipckit_channel_put(ch, data, len);
  ipckit_channel_publish(ch);
  return 0;
}

/* Length of the next message copied into buf, or -1 with errno EAGAIN (empty), EMSGSIZE, EPROTO. */
static inline int ipckit_channel_try_receive(ipckit_channel *ch, void *buf, uint32_t cap) {
  if (ipckit_channel_available(ch) == 0) return errno = EAGAIN, -1;
  uint8_t *slot = ipckit_channel_slot(ch, ch->pos);
  uint32_t len = *(uint32_t *)slot;
  if (len > ch->message_size) return errno = EPROTO, -1;
  if (len > cap) return errno = EMSGSIZE, -1;
  memcpy(buf, slot + IPCKIT_CHANNEL_SLOT_HEADER, len);
  ch->pos++;
  ipckit_channel_consume(ch);
  return (int)len;
}

static inline double ipckit_channel_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/*
 * Waits until the side can proceed (space for the sender, a message for the
 * receiver): spins, then sleeps on the futex in slices of at most 100 ms,
 * checking the peer between slices. 0, or -1 with EPIPE or ETIMEDOUT.
 * timeout_ms < 0 waits forever; spins = 0 sleeps at once.
 */
static inline int ipckit_channel_wait_spin(ipckit_channel *ch, int timeout_ms, int spins) {
  int send = ch->end == IPCKIT_CHANNEL_SEND;
  for (int i = 0; i < spins; i++) {
    if (send ? ipckit_channel_free(ch) : ipckit_channel_available(ch)) return 0;
  }
  double end = timeout_ms < 0 ? 0 : ipckit_channel_now_ms() + timeout_ms;
  uint32_t *watched = IPCKIT_CH_WORD(ch, send ? IPCKIT_CH_OFF_HEAD : IPCKIT_CH_OFF_TAIL);
  uint32_t *sleep = IPCKIT_CH_WORD(ch, send ? IPCKIT_CH_OFF_SENDER_SLEEP : IPCKIT_CH_OFF_RECEIVER_SLEEP);
  for (;;) {
    if (send ? ipckit_channel_free(ch) : ipckit_channel_available(ch)) break;
    if (ipckit_channel_peer_gone(ch)) {
      /* The sender publishes before it closes: a receiver looks once more, so
       * messages sent just before the close are not lost behind EPIPE. */
      if (!send && ipckit_channel_available(ch)) break;
      __atomic_store_n(sleep, 0, __ATOMIC_SEQ_CST);
      return errno = EPIPE, -1;
    }
    double left = timeout_ms < 0 ? 100 : end - ipckit_channel_now_ms();
    if (left <= 0) return errno = ETIMEDOUT, -1;
    if (left > 100) left = 100;
    uint32_t seen = ch->peer;
    __atomic_store_n(sleep, seen | 0x80000000u, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(watched, __ATOMIC_SEQ_CST) != seen) continue;
    struct timespec ts = {(time_t)(left / 1000), (long)((left - (time_t)(left / 1000) * 1000) * 1e6)};
    syscall(SYS_futex, watched, FUTEX_WAIT, seen, &ts, NULL, 0);
  }
  __atomic_store_n(sleep, 0, __ATOMIC_SEQ_CST);
  return 0;
}

/* ipckit_channel_wait_spin() with IPCKIT_CHANNEL_SPIN spins first. */
static inline int ipckit_channel_wait(ipckit_channel *ch, int timeout_ms) {
  return ipckit_channel_wait_spin(ch, timeout_ms, IPCKIT_CHANNEL_SPIN);
}

/* Sends one message, waiting while the ring is full. 0 or -1 (EPIPE, ETIMEDOUT, EMSGSIZE). */
static inline int ipckit_channel_send(ipckit_channel *ch, const void *data, uint32_t len, int timeout_ms) {
  for (;;) {
    if (ipckit_channel_try_send(ch, data, len) == 0) return 0;
    if (errno != EAGAIN) return -1;
    if (ipckit_channel_wait(ch, timeout_ms) < 0) return -1;
  }
}

/* Receives one message into buf, waiting while the ring is empty. Its length, or -1 (EPIPE, ETIMEDOUT...). */
static inline int ipckit_channel_receive(ipckit_channel *ch, void *buf, uint32_t cap, int timeout_ms) {
  for (;;) {
    int n = ipckit_channel_try_receive(ch, buf, cap);
    if (n >= 0 || errno != EAGAIN) return n;
    if (ipckit_channel_wait(ch, timeout_ms) < 0) return -1;
  }
}

/* Detaches this end (the peer sees it closed), wakes the peer, unmaps and closes the descriptor. */
static inline void ipckit_channel_close(ipckit_channel *ch) {
  if (!ch->base) return;
  int send = ch->end == IPCKIT_CHANNEL_SEND;
  uint32_t me = (uint32_t)getpid();
  __atomic_compare_exchange_n(IPCKIT_CH_WORD(ch, send ? IPCKIT_CH_OFF_SENDER_PID : IPCKIT_CH_OFF_RECEIVER_PID),
                              &me, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  __atomic_fetch_or(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_CLOSED),
                    send ? IPCKIT_CH_CLOSED_SEND : IPCKIT_CH_CLOSED_RECEIVE, __ATOMIC_SEQ_CST);
  ipckit_channel_futex_wake(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_TAIL));
  ipckit_channel_futex_wake(IPCKIT_CH_WORD(ch, IPCKIT_CH_OFF_HEAD));
  munmap(ch->base, ch->size);
  if (ch->fd >= 0) close(ch->fd);
  ch->base = NULL;
}

#endif
