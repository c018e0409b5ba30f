/* Unix stream socket baseline and peer for bench/socket_bench.ts.
 *   socket_bench server PATH echo|sink   listen, print "ready", serve one connection:
 *                                        echo: echo 64-byte messages; sink: read to EOF, reply 1 byte
 *   socket_bench client PATH rt N        N round trips of 64 B; prints µs per round trip
 *   socket_bench client PATH tp MIB      send MIB MiB in 64 KiB writes, wait for the ack; prints MiB/s
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int readn(int fd, char *b, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, b + got, n - got);
    if (r <= 0) return -1;
    got += r;
  }
  return 0;
}

static int writen(int fd, const char *b, size_t n) {
  size_t put = 0;
  while (put < n) {
    ssize_t r = send(fd, b + put, n - put, MSG_NOSIGNAL);
    if (r <= 0) return -1;
    put += r;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path, argv[2], sizeof a.sun_path - 1);
  static char buf[65536];
  if (!strcmp(argv[1], "server")) {
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(argv[2]);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 8)) { perror("bind"); return 1; }
    printf("ready\n");
    fflush(stdout);
    int c = accept(l, 0, 0);
    if (!strcmp(argv[3], "echo")) {
      while (readn(c, buf, 64) == 0) if (writen(c, buf, 64)) break;
    } else {
      while (read(c, buf, sizeof buf) > 0) {}
      writen(c, "k", 1);
    }
    close(c);
    close(l);
    unlink(argv[2]);
    return 0;
  }
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 1; }
  if (!strcmp(argv[3], "rt")) {
    long n = atol(argv[4]);
    memset(buf, 7, 64);
    for (int i = 0; i < 1000; i++) { writen(s, buf, 64); readn(s, buf, 64); }
    double t0 = now();
    for (long i = 0; i < n; i++) {
      if (writen(s, buf, 64) || readn(s, buf, 64)) return 1;
    }
    printf("%f\n", (now() - t0) * 1e6 / n);
  } else {
    long mib = atol(argv[4]);
    memset(buf, 7, sizeof buf);
    for (int i = 0; i < 16 * 16; i++) writen(s, buf, sizeof buf); /* 16 MiB warm-up */
    double t0 = now();
    for (long i = 0; i < mib * 16; i++) if (writen(s, buf, sizeof buf)) return 1;
    shutdown(s, SHUT_WR);
    if (readn(s, buf, 1)) return 1;
    printf("%f\n", mib / (now() - t0));
  }
  return 0;
}
