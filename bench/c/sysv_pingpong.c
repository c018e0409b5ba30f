/* C baseline for bench/sysv_bench.ts.
 *
 *   sysv_pingpong msg-sync N        msgsnd+msgrcv of 64 B on one queue, N times: prints us/op
 *   sysv_pingpong sem-sync N        semop(+1) then semop(-1), N times: prints us/op
 *   sysv_pingpong msg-echo ID       echo type-1 messages back as type 2 until the queue goes
 *   sysv_pingpong sem-echo ID       wait sem 0, post sem 1, until the set goes
 *   sysv_pingpong msg-client ID N   N round trips against msg-echo: prints us/round trip
 *   sysv_pingpong sem-client ID N   N round trips against sem-echo: prints us/round trip
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <time.h>

struct msg { long mtype; char mtext[64]; };

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int sem_do(int id, unsigned short num, short op) {
  struct sembuf b = {num, op, 0};
  while (semop(id, &b, 1) < 0) {
    if (errno != EINTR) return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  const char *cmd = argv[1];
  struct msg m;
  memset(&m, 'x', sizeof m);
  if (!strcmp(cmd, "msg-sync")) {
    long n = atol(argv[2]);
    int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
      m.mtype = 1;
      if (msgsnd(id, &m, 64, IPC_NOWAIT) < 0) return 1;
      if (msgrcv(id, &m, 64, 0, IPC_NOWAIT) < 0) return 1;
    }
    printf("%f\n", (now_us() - t0) / n);
    msgctl(id, IPC_RMID, NULL);
    return 0;
  }
  if (!strcmp(cmd, "sem-sync")) {
    long n = atol(argv[2]);
    int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    struct sembuf up = {0, 1, IPC_NOWAIT}, down = {0, -1, IPC_NOWAIT};
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
      if (semop(id, &up, 1) < 0 || semop(id, &down, 1) < 0) return 1;
    }
    printf("%f\n", (now_us() - t0) / (2.0 * n));
    semctl(id, 0, IPC_RMID, 0);
    return 0;
  }
  int id = atoi(argv[2]);
  if (!strcmp(cmd, "msg-echo")) {
    for (;;) {
      ssize_t n = msgrcv(id, &m, 64, 1, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return 0; /* removed */
      }
      m.mtype = 2;
      if (msgsnd(id, &m, n, 0) < 0) return 0;
    }
  }
  if (!strcmp(cmd, "sem-echo")) {
    for (;;) {
      if (sem_do(id, 0, -1) < 0 || sem_do(id, 1, 1) < 0) return 0;
    }
  }
  if (!strcmp(cmd, "msg-client") && argc == 4) {
    long n = atol(argv[3]);
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
      m.mtype = 1;
      if (msgsnd(id, &m, 64, 0) < 0) return 1;
      while (msgrcv(id, &m, 64, 2, 0) < 0) {
        if (errno != EINTR) return 1;
      }
    }
    printf("%f\n", (now_us() - t0) / n);
    return 0;
  }
  if (!strcmp(cmd, "sem-client") && argc == 4) {
    long n = atol(argv[3]);
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
      if (sem_do(id, 0, 1) < 0 || sem_do(id, 1, -1) < 0) return 1;
    }
    printf("%f\n", (now_us() - t0) / n);
    return 0;
  }
  return 2;
}
