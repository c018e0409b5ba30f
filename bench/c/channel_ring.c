/*
 * C baseline for bench/channel_cases.ts: the same ring, layout and protocol
 * as ipckit's channel (include/ipckit_channel.h), between two forked
 * processes over an anonymous MAP_SHARED mapping.
 *
 *   channel_ring stream COUNT SIZE    prints "<msg/s> <MiB/s>" (batched publish, like sendMany/receiveEach)
 *   channel_ring pingpong COUNT busy  prints µs per round trip, both sides busy-polling
 *   channel_ring pingpong COUNT park  prints µs per round trip, both sides sleeping on the futex at once
 *   channel_ring pingpong COUNT wait  the same with the header's spin before sleeping
 *   channel_ring memcpy SIZE TOTAL    prints MiB/s of memcpy of SIZE-byte blocks (one process)
 */
#define _GNU_SOURCE
#include "../../include/ipckit_channel.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void *make(uint32_t capacity, uint32_t msg) {
  size_t size = ipckit_channel_bytes(capacity, ipckit_channel_slot_size_for(msg));
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) exit(1);
  ipckit_channel_init(p, capacity, msg);
  return p;
}

static size_t bytes_of(uint32_t capacity, uint32_t msg) {
  return ipckit_channel_bytes(capacity, ipckit_channel_slot_size_for(msg));
}

/* Waits for space/messages: spin only when busy, else the header's spin-then-futex wait. */
static void wait_for(ipckit_channel *ch, int busy) {
  if (busy == 2) {
    if (ipckit_channel_wait_spin(ch, -1, 0) < 0) exit(3);
    return;
  }
  if (busy) {
    while (!(ch->end == IPCKIT_CHANNEL_SEND ? ipckit_channel_free(ch) : ipckit_channel_available(ch))) {
    }
    return;
  }
  if (ipckit_channel_wait(ch, -1) < 0) exit(3);
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  if (strcmp(argv[1], "memcpy") == 0) {
    size_t size = (size_t)atol(argv[2]);
    size_t total = (size_t)atol(argv[3]);
    /* b sits 64 KiB + 320 B after a: equal low address bits (4K aliasing) would slow memcpy. */
    char *block = malloc(2 * size + 4096);
    char *a = block, *b = block + size + 320;
    memset(a, 1, size);
    memset(b, 2, size);
    double t0 = now();
    for (size_t done = 0; done < total; done += size) {
      memcpy(b, a, size);
      __asm__ volatile("" ::"r"(b) : "memory");
    }
    printf("%.1f\n", total / 1048576.0 / (now() - t0));
    return 0;
  }
  long count = atol(argv[2]);
  if (strcmp(argv[1], "stream") == 0) {
    uint32_t size = (uint32_t)atol(argv[3]);
    uint32_t cap = size <= 1024 ? 4096 : 64;
    void *p = make(cap, size);
    size_t total = bytes_of(cap, size);
    uint8_t *msg = calloc(1, size);
    pid_t pid = fork();
    ipckit_channel ch;
    if (pid == 0) {
      if (ipckit_channel_attach(&ch, p, total, IPCKIT_CHANNEL_SEND) < 0) _exit(1);
      for (long i = 0; i < count;) {
        uint32_t n = ipckit_channel_free(&ch);
        if (n == 0) {
          wait_for(&ch, 0);
          continue;
        }
        if (n > 64) n = 64;
        if ((long)n > count - i) n = (uint32_t)(count - i);
        size_t unpublished = 0;
        for (uint32_t k = 0; k < n; k++, i++) {
          memcpy(msg, &i, 4);
          ipckit_channel_put(&ch, msg, size);
          /* Like ipckit's sendMany: publish at least every 16 KiB. */
          if ((unpublished += size + 8) >= 16384 && k < n - 1) {
            ipckit_channel_publish(&ch);
            unpublished = 0;
          }
        }
        ipckit_channel_publish(&ch);
      }
      _exit(0);
    }
    if (ipckit_channel_attach(&ch, p, total, IPCKIT_CHANNEL_RECEIVE) < 0) return 1;
    double t0 = now();
    uint64_t sum = 0;
    for (long i = 0; i < count;) {
      uint32_t n = ipckit_channel_available(&ch);
      if (n == 0) {
        wait_for(&ch, 0);
        continue;
      }
      for (uint32_t k = 0; k < n; k++, i++) {
        uint8_t *slot = ipckit_channel_slot(&ch, ch.pos);
        uint32_t len = *(uint32_t *)slot;
        if (size <= 1024) sum += *(uint32_t *)(slot + 8); /* read in place, like receiveEach */
        else memcpy(msg, slot + 8, len);                   /* copy out, like receiveInto */
        ch.pos++;
      }
      ipckit_channel_consume(&ch);
    }
    double dt = now() - t0;
    waitpid(pid, NULL, 0);
    printf("%.0f %.1f\n", count / dt, (double)count * size / 1048576.0 / dt + 0 * (double)sum);
    return 0;
  }
  if (strcmp(argv[1], "pingpong") == 0) {
    /* busy: spin only; park: sleep on the futex at once; wait: the header's spin, then sleep. */
    int busy = strcmp(argv[3], "busy") == 0 ? 1 : strcmp(argv[3], "park") == 0 ? 2 : 0;
    void *a = make(4, 64), *b = make(4, 64);
    size_t total = bytes_of(4, 64);
    uint8_t buf[64] = {0};
    pid_t pid = fork();
    ipckit_channel in, out;
    if (pid == 0) {
      ipckit_channel_attach(&in, a, total, IPCKIT_CHANNEL_RECEIVE);
      ipckit_channel_attach(&out, b, total, IPCKIT_CHANNEL_SEND);
      for (long i = 0; i < count; i++) {
        while (ipckit_channel_try_receive(&in, buf, 64) < 0) wait_for(&in, busy);
        ipckit_channel_try_send(&out, buf, 64);
      }
      _exit(0);
    }
    ipckit_channel_attach(&out, a, total, IPCKIT_CHANNEL_SEND);
    ipckit_channel_attach(&in, b, total, IPCKIT_CHANNEL_RECEIVE);
    double t0 = now();
    for (long i = 0; i < count; i++) {
      ipckit_channel_try_send(&out, buf, 64);
      while (ipckit_channel_try_receive(&in, buf, 64) < 0) wait_for(&in, busy);
    }
    double dt = now() - t0;
    waitpid(pid, NULL, 0);
    printf("%.2f\n", dt * 1e6 / count);
    return 0;
  }
  return 2;
}
