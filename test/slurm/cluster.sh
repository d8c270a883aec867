#!/usr/bin/env bash
# A private one-node Slurm cluster for tests: its own munge key and socket, slurm.conf, ports,
# state and logs, all under one folder, so it neither needs nor touches a system Slurm.
#   test/slurm/cluster.sh start <dir>   prints `export SLURM_CONF=<dir>/slurm.conf` once the node is idle
#   test/slurm/cluster.sh stop <dir>    stops the daemons it started (by their PID files)
# Needs Debian's slurm-wlm and munge (slurmctld, slurmd, munged on PATH or in /usr/sbin) and root
# (slurmd starts each job as its user). Environment: TUNEGRID_SLURM_MAX_ARRAY_SIZE (default 1001,
# Slurm's own default) sets MaxArraySize, so tests can make arrays split; TUNEGRID_SLURM_ACCOUNTING=1
# also starts a private MariaDB and slurmdbd (Debian's slurmdbd and mariadb-server), so sacct works.
set -euo pipefail
PATH="$PATH:/usr/sbin:/sbin"

usage() { echo "usage: $0 start|stop <dir>" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)

stop() {
  # Jobs first: a task's slurmstepd and trainer outlive slurmd if nobody cancels them.
  if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    SLURM_CONF="$dir/slurm.conf" scancel --me 2>/dev/null || true
    for _ in $(seq 1 60); do
      [ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h --me 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  # Then slurmd (it may still be ending job steps), slurmctld, slurmdbd and its database, and munged.
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/slurmdbd.pid" "$dir/db/mariadb.pid" "$dir/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
}

free_port() {
  # A TCP port nothing listens on now (Slurm needs two; a clash would only fail this start).
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free TCP port found" >&2; exit 1
}

# A MariaDB on its own data folder and port, and slurmdbd in front of it; prints the slurm.conf lines.
start_accounting() {
  for tool in slurmdbd mariadbd mariadb-install-db mariadb; do
    command -v "$tool" >/dev/null || { echo "$tool not found: accounting needs Debian's slurmdbd and mariadb-server" >&2; exit 3; }
  done
  local db_port dbd_port
  db_port=$(free_port)
  dbd_port=$(free_port)
  while [ "$dbd_port" = "$db_port" ]; do dbd_port=$(free_port); done
  mkdir -p "$dir/db"
  [ -d "$dir/db/data/mysql" ] || mariadb-install-db --datadir="$dir/db/data" --user=root --auth-root-authentication-method=normal >"$dir/log/mariadb-install.log" 2>&1
  mariadbd --datadir="$dir/db/data" --socket="$dir/db/mysql.sock" --port="$db_port" --bind-address=127.0.0.1 --user=root \
    --pid-file="$dir/db/mariadb.pid" --log-error="$dir/log/mariadb.log" >/dev/null 2>&1 &
  for _ in $(seq 1 60); do mariadb --socket="$dir/db/mysql.sock" -uroot -e "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
  mariadb --socket="$dir/db/mysql.sock" -uroot -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" >&2
  cat >"$dir/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=root
PidFile=$dir/slurmdbd.pid
LogFile=$dir/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
CONF
  chmod 600 "$dir/slurmdbd.conf"
  SLURM_CONF="$dir/slurm.conf" slurmdbd >&2 # it reads slurmdbd.conf beside slurm.conf
  for _ in $(seq 1 60); do (exec 3<>"/dev/tcp/127.0.0.1/$dbd_port") 2>/dev/null && break; sleep 0.5; done
  # slurmctld reaches slurmdbd through the munged named by AccountingStoragePass (not AuthInfo)
  printf 'AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=127.0.0.1\nAccountingStoragePort=%s\nAccountingStoragePass=%s\n' "$dbd_port" "$dir/munge/munge.socket"
}

start() {
  for tool in slurmctld slurmd munged scontrol sbatch; do
    command -v "$tool" >/dev/null || { echo "$tool not found: install Debian's slurm-wlm and munge (apt-get install slurm-wlm munge)" >&2; exit 3; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "a test Slurm cluster needs root (slurmd runs each job as its owner)" >&2; exit 3; }
  stop
  mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir/munge"

  # munge: a fresh key for this cluster only; daemon on a private socket.
  [ -f "$dir/munge/munge.key" ] || dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/munge/munge.key"
  munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

  # The node as slurmd sees this machine (name, CPUs, sockets, cores); memory a little under
  # what it reports, so the node is never drained for "Low RealMemory".
  local node_line node cpus mem
  node_line=$(slurmd -C | head -1)
  node=$(sed -n 's/.*NodeName=\([^ ]*\).*/\1/p' <<<"$node_line")
  cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
  mem=$((mem * 9 / 10))

  local ctld_port slurmd_port
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done

  local accounting="AccountingStorageType=accounting_storage/none"
  if [ "${TUNEGRID_SLURM_ACCOUNTING:-0}" = 1 ]; then
    touch "$dir/slurm.conf" # slurmdbd finds its own config beside this one
    accounting=$(start_accounting)
  fi

  cat >"$dir/slurm.conf" <<EOF
# one-node test cluster written by test/slurm/cluster.sh
ClusterName=tunegridtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
$accounting
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MaxArraySize=${TUNEGRID_SLURM_MAX_ARRAY_SIZE:-1001}
# finished jobs stay visible to \`scontrol show job\` for an hour (there is no accounting here)
MinJobAge=3600
# seconds between SIGTERM and SIGKILL when a job is cancelled or times out (Slurm's default is 30)
KillWait=10
SchedulerParameters=sched_interval=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -f "$SLURM_CONF" -i
  slurmd -f "$SLURM_CONF"

  # Ready when the node takes jobs.
  local state=""
  for _ in $(seq 1 120); do
    state=$(sinfo -h -N -o "%T" 2>/dev/null | head -1 || true)
    case "$state" in idle|mixed|allocated) echo "export SLURM_CONF=$SLURM_CONF"; return ;; esac
    case "$state" in down*|drain*|fail*) scontrol update nodename="$node" state=resume 2>/dev/null || true ;; esac
    sleep 0.5
  done
  echo "the test cluster did not come up (node state: ${state:-none}); logs in $dir/log:" >&2
  tail -n 20 "$dir"/log/*.log >&2 || true
  stop
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
