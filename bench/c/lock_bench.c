/* Uncontended lock+unlock: lock_bench PATH flock|ofd N -> prints microseconds per lock+unlock. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int fd = open(argv[1], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) { perror("open"); return 1; }
  int ofd = strcmp(argv[2], "ofd") == 0;
  long n = atol(argv[3]);
  struct flock fl = {0};
  fl.l_whence = SEEK_SET;
  fl.l_len = 16;
  double t0 = now();
  for (long i = 0; i < n; i++) {
    if (ofd) {
      fl.l_type = F_WRLCK;
      if (fcntl(fd, F_OFD_SETLK, &fl) != 0) { perror("lock"); return 1; }
      fl.l_type = F_UNLCK;
      if (fcntl(fd, F_OFD_SETLK, &fl) != 0) { perror("unlock"); return 1; }
    } else {
      if (flock(fd, LOCK_EX | LOCK_NB) != 0) { perror("flock"); return 1; }
      if (flock(fd, LOCK_UN) != 0) { perror("unlock"); return 1; }
    }
  }
  printf("%.4f\n", (now() - t0) / n);
  return 0;
}
