/* Signal round trip between two processes: signal_pingpong N -> microseconds per round trip.
 * Both block SIGUSR2 and wait with sigwaitinfo; the child answers the sender's si_pid. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 10000;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, NULL);
  pid_t child = fork();
  if (child == 0) {
    for (long i = 0; i < n; i++) {
      siginfo_t si;
      sigwaitinfo(&set, &si);
      kill(si.si_pid, SIGUSR2);
    }
    _exit(0);
  }
  double t0 = now();
  for (long i = 0; i < n; i++) {
    siginfo_t si;
    kill(child, SIGUSR2);
    sigwaitinfo(&set, &si);
  }
  double per = (now() - t0) / n;
  waitpid(child, NULL, 0);
  printf("%.3f\n", per);
  return 0;
}
