#!/bin/bash
# Stage 2 of the guest: PID 1 in the final root (the host's bash), started by init.sh.
#
# PID 1 and its helpers stay in /init.scope (init.sh put it there); the nofile limit is
# systemd's, 1024 soft / 524288 hard. Under emulation every exec costs, so this script
# uses bash's builtins where it can.
#
# The command runs in $CWD with the host's environment (as run-in-guest.sh saved it),
# stdin /dev/null, stdout and stderr pipes (as in CI) relayed to the host over two
# virtio serial ports; the third port carries "started", then "exit N". Whatever the
# command leaves running is killed (and named on its stderr) before the guest powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
G=/run/guest
. $G/conf

log() { echo "guest: $*" >/dev/console; }
uptime() { local u _; read -r u _ </proc/uptime; echo "${u}s"; }
poweroff() { echo o >/proc/sysrq-trigger; sleep 60; }
trap '' INT TERM

# The devices of the virtio serial ports, by name: ports[guest.stdout]=/dev/vport0p1, ...
declare -A ports=()
for f in /sys/class/virtio-ports/*/name; do
  read -r name <"$f" && f=${f%/name} && ports[$name]=/dev/${f##*/}
done
for name in guest.stdout guest.stderr guest.status; do
  [[ -n ${ports[$name]-} ]] || { log "error: no virtio port named $name"; poweroff; }
done
out=${ports[guest.stdout]} err=${ports[guest.stderr]} status=${ports[guest.status]}
dir=/sys/fs/cgroup$CGROUP

ulimit -Hn 524288 && ulimit -Sn 1024

exec 5>"$status" 3> >(exec cat >"$out")
relay_out=$!
exec 4> >(exec cat >"$err" 3>&-)
relay_err=$!
mapfile -d '' -t argv <$G/argv
[[ -d $CWD ]] || { log "error: the guest has no directory $CWD"; poweroff; }
log "command starting at $(uptime): ${argv[*]}"
echo started >&5
(
  echo $BASHPID >"$dir/cgroup.procs" || exit 125
  . $G/env
  cd -- "$CWD" || exit 125
  exec "${argv[@]}"
) </dev/null >&3 2>&4 3>&- 4>&- 5>&-
rc=$?
log "command exited $rc at $(uptime)"

# Everything outside /init.scope (and the root cgroup's kernel threads) outlived the command.
leftovers() {
  local p cg
  for p in /proc/[0-9]*; do
    read -r cg 2>/dev/null <"$p/cgroup" || continue
    [[ $cg == 0::/ || $cg == 0::/init.scope ]] || echo "${p#/proc/}"
  done
}
left=$(leftovers)
if [[ -n $left ]]; then
  names=$(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null; echo; done | sort | uniq -c \
    | awk '{ n = $1; $1 = ""; printf "%s%s%s", sep, substr($0, 2), (n > 1 ? " (" n "x)" : ""); sep = "; " }')
  set -- $left
  echo "run-in-guest: $# process$( (($# == 1)) || echo es) outlived the command and were killed: $names" >&4
  for _ in 1 2 3 4 5; do
    for p in $left; do kill -9 "$p" 2>/dev/null; done
    left=$(leftovers)
    [[ -n $left ]] || break
    sleep 0.2
  done
fi
exec 3>&- 4>&-
wait "$relay_out" "$relay_err"
echo "exit $rc" >&5
exec 5>&-
poweroff
