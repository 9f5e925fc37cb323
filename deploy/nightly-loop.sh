#!/bin/sh
# Runs `bankbot nightly` once a day at NIGHTLY_AT (HH:MM, UTC; default 02:15), for containers without cron.
# A run that is still going when the next one is due is not overlapped (the loop waits for it), and the
# database's nightly lock also makes a second nightly anywhere in the cluster exit at once.
set -u
at="${NIGHTLY_AT:-02:15}"
while true; do
  now=$(date -u +%s)
  next=$(date -u -d "today ${at}" +%s) || { echo "NIGHTLY_AT=${at} is not HH:MM" >&2; exit 2; }
  [ "$next" -gt "$now" ] || next=$(date -u -d "tomorrow ${at}" +%s)
  echo "bankbot-nightly-loop: next run $(date -u -d "@${next}" '+%Y-%m-%d %H:%M UTC')"
  sleep $((next - now))
  # A failed night is logged and the loop goes on: the next night starts afresh.
  bankbot nightly || echo "bankbot-nightly-loop: bankbot nightly exited with $?" >&2
done
