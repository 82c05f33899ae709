#!/usr/bin/env bash
# smoke.sh: the guest smoke set. Runs the ava runs listed in smoke.list (or in the file
# given as $1), then leftovers.sh, from the checkout's root after `npm run build`. Made to
# run in a run-in-guest.sh guest (.ci/run does it in a 6.1 and a 6.12 guest):
#
#   test/kernels/run-in-guest.sh --kernel 6.12 --timeout 2400 -- test/kernels/smoke.sh
#
# It also runs on a host. Exits 1 when a run or the leftover check fails. Never judges
# time: a run fails after 10 minutes without a test finishing (ava --timeout). Test files
# run one at a time (their tests still run concurrently), so a file that hangs or floods
# the guest with processes cannot stall the file beside it.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
list=${1:-$root/test/kernels/smoke.list}
cd "$root" || exit 1
ava=$root/node_modules/.bin/ava
[[ -x $ava ]] || { echo "smoke: no $ava: run npm ci and npm run build first" >&2; exit 1; }
[[ -r $list ]] || { echo "smoke: cannot read $list" >&2; exit 1; }
# The store goes to tmpfs: overlayfs cannot take its upper dirs from 9p or an overlay.
export TSBUILD_ROOT=${TSBUILD_ROOT:-/tmp/tsbuild-smoke}

cgroups() {
  if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then echo "cgroup v2 ($(</sys/fs/cgroup/cgroup.controllers))"
  elif [[ -d /sys/fs/cgroup/unified ]]; then echo "cgroup v1 + v2 (hybrid)"
  else echo "cgroup v1"; fi
}
echo "smoke: kernel $(uname -r), $(cgroups), in $(sed -n 's/^0:://p' /proc/self/cgroup)"
snapshot=$(mktemp /tmp/smoke-mounts.XXXXXX)
test/kernels/leftovers.sh snapshot "$snapshot"

failed=() results=()
started=$SECONDS
while read -r line; do
  [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
  read -ra words <<<"$line"
  dir=${words[0]} args=("${words[@]:1}")
  echo "smoke: ${line}"
  t=$SECONDS
  (cd "$dir" && "$ava" --concurrency=1 --timeout=10m ${args[@]+"${args[@]}"})
  rc=$?
  took="$(( (SECONDS - t) / 60 ))m$(( (SECONDS - t) % 60 ))s"
  if ((rc == 0)); then results+=("ok" "$took  $line"); else results+=("FAILED" "$took  $line"); failed+=("$line"); fi
done <"$list"

if test/kernels/leftovers.sh check "$snapshot"; then results+=(ok "leftover check"); else results+=(FAILED "leftover check"); failed+=(leftovers); fi
rm -f "$snapshot"
echo "smoke: kernel $(uname -r), $(( (SECONDS - started) / 60 ))m$(( (SECONDS - started) % 60 ))s in all:"
printf 'smoke:   %-8s%s\n' "${results[@]}"
((${#failed[@]} == 0)) || { echo "smoke: ${#failed[@]} failed"; exit 1; }
echo "smoke: passed"
