#!/bin/sh
# Two programs coordinated with the ipckit CLI alone: a "server" waits on a
# semaphore until the "client" has written its request into shared memory,
# then answers through a message queue. Run: sh examples/posix_cli_coordination.sh
set -eu
ipckit() { deno run --allow-ffi --allow-read --allow-write --allow-env --allow-run --no-check "$(dirname "$0")/../lib/cli/main.ts" "$@"; }
tag="ipckit-example-$$"
cleanup() {
  ipckit rm posix-sem "/$tag-ready" 2>/dev/null || true
  ipckit rm posix-shm "/$tag-req" 2>/dev/null || true
  ipckit rm posix-mq "/$tag-reply" 2>/dev/null || true
}
trap cleanup EXIT

ipckit sem create "/$tag-ready" --value 0 --exclusive
ipckit shm create "/$tag-req" --size 64
ipckit mq create "/$tag-reply" --max-messages 2 --message-size 128 --exclusive

# Server: wait for the request, read it, answer.
(
  ipckit sem wait "/$tag-ready" --timeout 10000
  req=$(ipckit shm read "/$tag-req" --length 5)
  ipckit mq send "/$tag-reply" "server got: $req"
) &

# Client: write the request, signal, wait for the answer.
printf 'hello' | ipckit shm write "/$tag-req"
ipckit sem post "/$tag-ready"
ipckit mq recv "/$tag-reply" --timeout 10000
wait
