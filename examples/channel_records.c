/*
 * The C half of examples/channel_records.ts: receives fixed-size records
 * from a Deno producer over an ipckit channel and prints a summary.
 *
 *   gcc -O2 -I include -o records examples/channel_records.c && ./records /records
 *
 * A record, little-endian: u32 id, u32 flags, f64 value, char label[16] (NUL-padded).
 */
#define _GNU_SOURCE
#include "../include/ipckit_channel.h"
#include <stdio.h>

struct record {
  uint32_t id;
  uint32_t flags;
  double value;
  char label[16];
};

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  ipckit_channel ch;
  if (ipckit_channel_open(&ch, argv[1], IPCKIT_CHANNEL_RECEIVE) < 0) {
    perror("ipckit_channel_open");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  struct record r;
  long n = 0;
  double sum = 0;
  char last[17] = "";
  for (;;) {
    int len = ipckit_channel_receive(&ch, &r, sizeof r, 10000);
    if (len < 0) {
      if (errno == EPIPE) break; /* the producer closed and everything is read */
      perror("ipckit_channel_receive");
      return 1;
    }
    if (len != sizeof r || r.id != (uint32_t)n) {
      fprintf(stderr, "bad record %ld (length %d, id %u)\n", n, len, r.id);
      return 1;
    }
    sum += r.value;
    memcpy(last, r.label, 16);
    n++;
  }
  printf("records %ld sum %.1f last %s\n", n, sum, last);
  ipckit_channel_close(&ch);
  return 0;
}
