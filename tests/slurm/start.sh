#!/usr/bin/env bash
# Starts a real one-node Slurm cluster on loopback, for end-to-end tests of
# nrun's Slurm executor. Debian 12 (Slurm 22.05), no systemd: the daemons
# are started by hand and everything they write lives under one folder.
#
#   tests/slurm/start.sh [STATE]      STATE defaults to /tmp/nrun-slurm
#   . "$(tests/slurm/start.sh)"       start, then export SLURM_CONF here
#   sbatch --parsable --wrap 'echo hi'
#   tests/slurm/stop.sh [STATE]       stop (--purge also deletes STATE)
#
# Installs slurmctld, slurmd, slurm-client and munge when missing, writes
# STATE/{slurm.conf,env,munge/,log/,ctld/,spool/}, starts munged (as the
# munge user, its own key and socket), slurmctld and slurmd (as root), and
# waits until the node is idle (NRUN_SLURM_TIMEOUT seconds, default 60).
# Its only stdout line is the env file's path; progress goes to stderr.
# Idempotent: when STATE's cluster is already up, it only reports it.
# Needs root (re-runs itself under sudo) and the ports 6817-6818.
set -euo pipefail

die() { echo "slurm/start.sh: $*" >&2; exit 1; }
say() { echo "slurm/start.sh: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then exec sudo -- "$0" "$@"; fi

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "${1:-/tmp/nrun-slurm}"
state=$(cd "${1:-/tmp/nrun-slurm}" && pwd -P)  # daemons need absolute paths
timeout=${NRUN_SLURM_TIMEOUT:-60}
export SLURM_CONF=$state/slurm.conf

# Is the pid in FILE alive and running COMMAND (not a recycled pid)?
alive() { local pid; pid=$(cat "$1" 2>/dev/null) && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; }
node_state() { sinfo -h -n localhost -o %t 2>/dev/null || true; }

if alive "$state/munge/munged.pid" munged && alive "$state/slurmctld.pid" slurmctld \
  && alive "$state/slurmd.pid" slurmd && [[ $(node_state) =~ ^(idle|mix|alloc)$ ]]; then
  say "already up ($state, node $(node_state))"
  echo "$state/env"
  exit 0
fi

# Packages. The Debian package scripts may start the stock daemons where
# policy-rc.d allows it; those use other files but the same ports.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
  || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurmctld slurmd slurm-client munge"
  pkgs=(slurmctld slurmd slurm-client munge)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${pkgs[@]}" >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq "${pkgs[@]}" >/dev/null; } \
    || die "apt-get install ${pkgs[*]} failed"
fi

# Half-up leftovers (a crash, a killed test) would hold pid files and
# sockets: clear them so that the start below is a clean one.
"$here/stop.sh" "$state" >&2

for port in 6817 6818; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is taken (another Slurm cluster? stop it first)"
  fi
done

# munged checks that its key, socket and log paths are not writable by
# others, and clients (any user) must reach the socket: 755 all the way.
chmod 755 "$state"
mkdir -p "$state/munge" "$state/log" "$state/ctld" "$state/spool"
chown munge:munge "$state/munge"
chmod 755 "$state/munge"
if [ ! -s "$state/munge/munge.key" ]; then
  # A key of this cluster's own, so /etc/munge is neither needed nor touched.
  head -c 1024 /dev/urandom >"$state/munge/munge.key"
fi
chown munge:munge "$state/munge/munge.key"
chmod 400 "$state/munge/munge.key"

cpus=$(nproc)
# Above the memory slurmd detects, the node would be drained: stay below.
mem=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10))
cat >"$SLURM_CONF" <<EOF
# Written by tests/slurm/start.sh: a one-node test cluster on loopback.
ClusterName=nrun
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$state/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
# No cgroups in containers: track job processes through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# No slurmdbd: sacct does not work; squeue and scontrol do.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue/scontrol for an hour.
MinJobAge=3600
# A dependency that can never be met cancels the job (not pending forever).
DependencyParameters=kill_invalid_depend
# scancel: SIGKILL 5 s after SIGTERM (default 30) keeps tests and stop fast.
KillWait=5
ReturnToService=2
# A job no node can run (e.g. more CPUs than the node has) is refused by
# sbatch, not left pending forever with Reason=PartitionConfig.
EnforcePartLimits=ALL
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# Daemons get /dev/null and log files for stdio: a caller that captures
# this script's output must not wait for daemons holding its pipes.
say "starting munged, slurmctld, slurmd ($state)"
# From here on a failure stops what did start, keeping the logs: no daemon
# is left holding the ports for the next cluster.
die() { "$here/stop.sh" "$state" >&2 || true; echo "slurm/start.sh: $*" >&2; exit 1; }
runuser -u munge -- munged --force \
  --socket="$state/munge/munge.socket.2" --key-file="$state/munge/munge.key" \
  --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" \
  --seed-file="$state/munge/munged.seed" </dev/null >>"$state/log/munged.out" 2>&1 \
  || die "munged failed to start: see $state/munge/munged.log"
slurmctld -f "$SLURM_CONF" </dev/null >>"$state/log/slurmctld.out" 2>&1 \
  || die "slurmctld failed to start: see $state/log/slurmctld.log"
# The host name (e.g. vm) is not the node name: tell slurmd which it is.
slurmd -N localhost -f "$SLURM_CONF" </dev/null >>"$state/log/slurmd.out" 2>&1 \
  || die "slurmd failed to start: see $state/log/slurmd.log"

printf 'export SLURM_CONF=%q\n' "$SLURM_CONF" >"$state/env"
chmod 644 "$state/env"

started=$SECONDS
deadline=$((SECONDS + timeout))
until [ "$(node_state)" = idle ]; do
  for d in munge/munged:munged slurmctld:slurmctld slurmd:slurmd; do
    # Pid files appear a moment after the fork: give them that moment.
    if [ $((SECONDS - started)) -ge 2 ] && ! alive "$state/${d%%:*}.pid" "${d##*:}"; then
      die "${d##*:} is not running: see $state/log/ and $state/munge/munged.log"
    fi
  done
  if [ $SECONDS -ge $deadline ]; then
    die "node not idle after ${timeout}s (state: '$(node_state)'): see $state/log/"
  fi
  sleep 0.2
done
say "up in ${SECONDS}s ($state, node idle)"
echo "$state/env"
