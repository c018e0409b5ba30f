/* C baselines for bench/posix_bench.ts. Each mode prints one number.
 *   mq-try SIZE N        µs per trySend+tryReceive pair (O_NONBLOCK, one process)
 *   mq-rtt SIZE N        µs per round trip between two processes over two queues
 *   sem-try N            µs per sem_post+sem_trywait pair
 *   sem-rtt N            µs per ping-pong round trip over two named semaphores
 *   memcpy MIB N         MiB/s memcpy into a shm mapping
 */
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static mqd_t mkq(const char *name, long size, int flags) {
  struct mq_attr a = {0};
  a.mq_maxmsg = 10;
  a.mq_msgsize = size;
  mq_unlink(name);
  mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | flags, 0600, &a);
  if (q == (mqd_t)-1) { perror("mq_open"); exit(1); }
  return q;
}

int main(int argc, char **argv) {
  const char *mode = argv[1];
  char n1[64], n2[64];
  snprintf(n1, sizeof n1, "/ipckit-bench-c-%d-a", getpid());
  snprintf(n2, sizeof n2, "/ipckit-bench-c-%d-b", getpid());
  if (!strcmp(mode, "mq-try") || !strcmp(mode, "mq-rtt")) {
    long size = atol(argv[2]), n = atol(argv[3]);
    char *buf = calloc(1, size);
    unsigned prio;
    if (!strcmp(mode, "mq-try")) {
      mqd_t q = mkq(n1, size, O_NONBLOCK);
      mq_unlink(n1);
      double t0 = now();
      for (long i = 0; i < n; i++) {
        mq_send(q, buf, size, 0);
        mq_receive(q, buf, size, &prio);
      }
      printf("%f\n", (now() - t0) / n);
      return 0;
    }
    mqd_t a = mkq(n1, size, 0), b = mkq(n2, size, 0);
    mq_unlink(n1);
    mq_unlink(n2);
    pid_t pid = fork();
    if (pid == 0) {
      for (long i = 0; i < n; i++) {
        mq_receive(a, buf, size, &prio);
        mq_send(b, buf, size, 0);
      }
      _exit(0);
    }
    double t0 = now();
    for (long i = 0; i < n; i++) {
      mq_send(a, buf, size, 0);
      mq_receive(b, buf, size, &prio);
    }
    double dt = now() - t0;
    waitpid(pid, NULL, 0);
    printf("%f\n", dt / n);
    return 0;
  }
  if (!strcmp(mode, "sem-try")) {
    long n = atol(argv[2]);
    sem_t *s = sem_open(n1, O_CREAT | O_EXCL, 0600, 0);
    sem_unlink(n1);
    double t0 = now();
    for (long i = 0; i < n; i++) {
      sem_post(s);
      sem_trywait(s);
    }
    printf("%f\n", (now() - t0) / n);
    return 0;
  }
  if (!strcmp(mode, "sem-rtt")) {
    long n = atol(argv[2]);
    sem_t *a = sem_open(n1, O_CREAT | O_EXCL, 0600, 0), *b = sem_open(n2, O_CREAT | O_EXCL, 0600, 0);
    sem_unlink(n1);
    sem_unlink(n2);
    pid_t pid = fork();
    if (pid == 0) {
      for (long i = 0; i < n; i++) { sem_wait(a); sem_post(b); }
      _exit(0);
    }
    double t0 = now();
    for (long i = 0; i < n; i++) { sem_post(a); sem_wait(b); }
    double dt = now() - t0;
    waitpid(pid, NULL, 0);
    printf("%f\n", dt / n);
    return 0;
  }
  if (!strcmp(mode, "memcpy")) {
    long mib = atol(argv[2]), n = atol(argv[3]);
    size_t len = (size_t)mib << 20;
    int fd = shm_open(n1, O_RDWR | O_CREAT | O_EXCL, 0600);
    shm_unlink(n1);
    posix_fallocate(fd, 0, len);
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *src = malloc(len);
    memset(src, 1, len);
    memcpy(p, src, len); /* fault the pages in once */
    double t0 = now();
    for (long i = 0; i < n; i++) { src[0] = i; memcpy(p, src, len); }
    double dt = now() - t0;
    printf("%f\n", (double)mib * n / (dt / 1e6));
    return p[0] == 42 ? 1 : 0;
  }
  return 2;
}
