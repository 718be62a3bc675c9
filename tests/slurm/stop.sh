#!/usr/bin/env bash
# Stops the test cluster that tests/slurm/start.sh started from STATE.
#
#   tests/slurm/stop.sh [STATE] [--purge]     STATE defaults to /tmp/nrun-slurm
#
# Cancels the cluster's unfinished jobs first (slurmd leaves running jobs
# behind when it stops), then stops slurmd, slurmctld and munged through
# their pid files and removes those. It keeps STATE's config, key, logs and
# Slurm state, so a later start.sh recovers the job records and goes on
# with the job ids; --purge deletes STATE instead. Stopping a cluster that
# is not running is not an error.
set -euo pipefail

die() { echo "slurm/stop.sh: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then exec sudo -- "$0" "$@"; fi

state=/tmp/nrun-slurm purge=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    -*) die "unknown option $arg" ;;
    *) state=$arg ;;
  esac
done
[ -d "$state" ] || exit 0
state=$(cd "$state" && pwd -P)
export SLURM_CONF=$state/slurm.conf

# Is the pid in FILE alive and running COMMAND (not a recycled pid)?
alive() { local pid; pid=$(cat "$1" 2>/dev/null) && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; }

if alive "$state/slurmctld.pid" slurmctld; then
  jobs=$(squeue -h -t pending,running,suspended,requeued -o %A 2>/dev/null || true)
  if [ -n "$jobs" ]; then
    echo "slurm/stop.sh: cancelling jobs $(echo $jobs)" >&2
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    # Jobs get SIGKILL KillWait (5 s) after SIGTERM: wait a little longer.
    for _ in $(seq 50); do
      [ -z "$(squeue -h -t running,completing,suspended -o %A 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
fi

# All three at once: each takes about 2 s to exit, and none needs the
# others to shut down (the jobs are gone already).
pids=()
for d in slurmd:slurmd slurmctld:slurmctld munge/munged:munged; do
  pidfile=$state/${d%%:*}.pid name=${d##*:}
  if alive "$pidfile" "$name"; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
    echo "slurm/stop.sh: stopping $name ($pid)" >&2
  fi
  rm -f "$pidfile"
done
for _ in $(seq 50); do
  left=()
  for pid in ${pids[@]+"${pids[@]}"}; do [ -d "/proc/$pid" ] && left+=("$pid"); done
  [ ${#left[@]} -eq 0 ] && break
  sleep 0.2
done
for pid in ${left[@]+"${left[@]}"}; do
  echo "slurm/stop.sh: $pid ignored SIGTERM for 10 s: SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
done
rm -f "$state/munge/munge.socket.2" "$state/munge/munge.socket.2.lock"

if [ $purge -eq 1 ]; then
  # Only ever delete a folder that start.sh made.
  [ -f "$state/slurm.conf" ] || die "$state has no slurm.conf: not deleting it"
  rm -rf "$state"
  echo "slurm/stop.sh: deleted $state" >&2
fi
