#!/usr/bin/env bash
# leftovers.sh: did anything of tsbuild's outlive the tests?
#
#   leftovers.sh snapshot FILE   record the mount table in FILE
#   leftovers.sh check FILE      list the mounts made since FILE and the processes left
#                                running, and exit 1 if there are any
#
# In a run-in-guest.sh guest nothing else runs, so every new mount counts, and so does
# every process outside /init.scope (the guest's PID 1 and its relays) other than this
# script and its callers. On a host shared with other work only tsbuild's count: mounts
# whose line names tsbuild, processes running the CLI or the sandbox's init (a memfd
# called tsbuild-init).
set -euo pipefail
export LC_ALL=C
(($# == 2)) && [[ $1 == snapshot || $1 == check ]] || { echo "usage: leftovers.sh snapshot|check FILE" >&2; exit 2; }
in_guest=0
[[ -e /run/guest/pid1.sh && $(tr '\0' ' ' </proc/1/cmdline) == *pid1.sh* ]] && in_guest=1

# A mountinfo line without the two mount ids, which say nothing about what is mounted.
mounts() { cut -d' ' -f3- /proc/self/mountinfo | sort; }
if [[ $1 == snapshot ]]; then mounts >"$2"; exit 0; fi

new_mounts=$(mounts | comm -13 "$2" -)
((in_guest)) || new_mounts=$(grep -E 'tsbuild' <<<"$new_mounts" || true)

# This script and the processes it runs under.
declare -A mine=()
p=$$
while [[ $p =~ ^[0-9]+$ && $p != 0 ]]; do
  mine[$p]=1
  read -r stat <"/proc/$p/stat" || break
  stat=${stat##*) }
  read -r _ p _ <<<"$stat"
done
procs=()
for dir in /proc/[0-9]*; do
  pid=${dir#/proc/}
  [[ -z ${mine[$pid]-} ]] || continue
  if ((in_guest)); then
    read -r cg 2>/dev/null <"$dir/cgroup" || continue
    [[ $cg == 0::/ || $cg == 0::/init.scope ]] && continue
  else
    exe=$(readlink "$dir/exe" 2>/dev/null || true)
    cmd=$(tr '\0' ' ' 2>/dev/null <"$dir/cmdline" || true)
    [[ $exe == *memfd:tsbuild-init* || $cmd == *packages/builder/dist/cli.js* ]] || continue
  fi
  procs+=("$pid $(tr '\0' ' ' 2>/dev/null <"$dir/cmdline" || true)")
done

where=$( ((in_guest)) && echo "in the guest" || echo "of tsbuild's on this host")
rc=0
if [[ -n $new_mounts ]]; then
  echo "leftovers: mounts $where made since the snapshot and still there:"
  sed 's/^/  /' <<<"$new_mounts"
  rc=1
fi
if ((${#procs[@]})); then
  echo "leftovers: processes $where still running:"
  printf '  %s\n' "${procs[@]}"
  rc=1
fi
((rc)) || echo "leftovers: no mount and no process left $where"
exit "$rc"
