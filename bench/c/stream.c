/* C baseline for streaming throughput (bench/stream_worker.ts does the same in ipckit):
 *   stream pipe|socket|mq|sysv SIZE COUNT  -> MiB/s of COUNT messages of SIZE bytes sent
 *   by a forked child and received by the parent. Byte streams (pipe, socket) are read with
 *   a 64 KiB buffer (whatever is ready); queues (mq, sysv) receive one message per call.
 *   The clock starts once the first quarter of the bytes (messages) has arrived, so start-up and
 *   warm-up are not counted (bench/stream_worker.ts does the same).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void put(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r <= 0) exit(1);
    p += r;
    n -= (size_t)r;
  }
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  const char *mech = argv[1];
  long size = atol(argv[2]), count = atol(argv[3]);
  long total = size * count;
  char *msg = calloc(1, size + 8), *buf = malloc(size > 65536 ? size + 8 : 65536 + 8);
  double t0 = 0;
  long warm = count / 4; /* messages received before the clock starts */
  long first = (warm + 1) * size; /* bytes received when the clock starts (queues: message warm) */
  if (!strcmp(mech, "pipe") || !strcmp(mech, "socket")) {
    int fds[2];
    if (!strcmp(mech, "pipe") ? pipe(fds) : socketpair(AF_UNIX, SOCK_STREAM, 0, fds)) return 1;
    if (fork() == 0) {
      close(fds[0]);
      for (long i = 0; i < count; i++) put(fds[1], msg, size);
      _exit(0);
    }
    close(fds[1]);
    long got = 0;
    int timing = 0;
    while (got < total) {
      ssize_t r = read(fds[0], buf, 65536);
      if (r <= 0) return 1;
      got += r;
      if (!timing && got >= warm * size) {
        t0 = now();
        first = got;
        timing = 1;
      }
    }
  } else if (!strcmp(mech, "mq")) {
    char name[64];
    snprintf(name, sizeof name, "/ipckit-bench-stream-%d", getpid());
    struct mq_attr a = {0};
    a.mq_maxmsg = 10;
    a.mq_msgsize = size;
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
    if (q == (mqd_t)-1) { perror("mq_open"); return 1; }
    mq_unlink(name);
    if (fork() == 0) {
      for (long i = 0; i < count; i++) mq_send(q, msg, size, 0);
      _exit(0);
    }
    for (long i = 0; i < count; i++) {
      if (mq_receive(q, buf, size, NULL) < 0) return 1;
      if (i == warm) t0 = now();
    }
  } else if (!strcmp(mech, "sysv")) {
    int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (id < 0) return 1;
    if (fork() == 0) {
      *(long *)msg = 1;
      for (long i = 0; i < count; i++) msgsnd(id, msg, size, 0);
      _exit(0);
    }
    for (long i = 0; i < count; i++) {
      if (msgrcv(id, buf, size, 0, 0) < 0) return 1;
      if (i == warm) t0 = now();
    }
    msgctl(id, IPC_RMID, NULL);
  } else {
    return 2;
  }
  double secs = now() - t0;
  wait(NULL);
  printf("%.3f\n", (double)(total - first) / secs / 1048576.0);
  return 0;
}
