/* C baseline for the pipe benchmark: the same work as bench/pipe_worker.ts.
 *   pipe_baseline pingpong ROUNDS          -> prints microseconds per 64-byte round trip
 *   pipe_baseline echo RFD WFD ROUNDS      -> echo peer for ipckit: read 64 B from RFD, write to WFD
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void full(int fd, char *p, size_t n, int writing) {
  while (n > 0) {
    ssize_t r = writing ? write(fd, p, n) : read(fd, p, n);
    if (r <= 0) exit(1);
    p += r;
    n -= (size_t)r;
  }
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "echo") == 0) {
    int r = atoi(argv[2]), w = atoi(argv[3]);
    long rounds = atol(argv[4]);
    char msg[64];
    for (long i = 0; i < rounds; i++) {
      full(r, msg, sizeof msg, 0);
      full(w, msg, sizeof msg, 1);
    }
    return 0;
  }
  if (argc != 3) return 2;
  long n = atol(argv[2]);
  if (strcmp(argv[1], "pingpong") == 0) {
    int a[2], b[2];
    if (pipe(a) || pipe(b)) return 1;
    char msg[64];
    memset(msg, 'x', sizeof msg);
    if (fork() == 0) {
      for (long i = 0; i < n; i++) {
        full(a[0], msg, sizeof msg, 0);
        full(b[1], msg, sizeof msg, 1);
      }
      _exit(0);
    }
    double t0 = now();
    for (long i = 0; i < n; i++) {
      full(a[1], msg, sizeof msg, 1);
      full(b[0], msg, sizeof msg, 0);
    }
    double secs = now() - t0;
    wait(NULL);
    printf("%.3f\n", secs / n * 1e6);
    return 0;
  }
  return 2;
}
