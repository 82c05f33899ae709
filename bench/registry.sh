#!/usr/bin/env bash
# Registry pull and push of the Debian base image: tsbuild's registry client (from the
# built dist, through a tiny node script, so CLI start-up is not in the figure) side by side with
# `skopeo copy`, on the same machine in the same run, reported as ratios. Not a test.
#
#   bench/registry.sh [--runs N] [--image 127.0.0.1:5000/library/debian:bookworm]
#
#   pull: registry -> an empty local store (tsbuild: its store, an OCI layout; it also
#         checks every layer's diff_id by decompressing it while it streams, and fsyncs)
#         vs registry -> an empty OCI layout directory (skopeo copy docker:// oci:).
#   push: that image -> a fresh docker-registry (new port, empty storage, so nothing can
#         be skipped or mounted) for every run: tsbuild from its store, skopeo from the
#         OCI layout the pull made (same compressed layer bytes).
#
# Needs: `npm run build` (or `npx tsc -b packages/layerstore`), skopeo, docker-registry, and
# a registry on 127.0.0.1:5000 serving library/debian:bookworm
# (fixtures/scripts/local-registry.sh starts one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=5
IMAGE=127.0.0.1:5000/library/debian:bookworm
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
DIST=$repo/packages/layerstore/dist/index.js
[[ -f $DIST ]] || { echo "build first: npx tsc -b packages/layerstore" >&2; exit 1; }
if ! curl -fsS "http://${IMAGE%%/*}/v2/" >/dev/null; then
  echo "no registry at ${IMAGE%%/*}: run fixtures/scripts/local-registry.sh" >&2; exit 1
fi
WORK=${BENCH_WORK:-/var/tmp/tsbuild-bench}/registry
rm -rf "$WORK"; mkdir -p "$WORK"

cat >"$WORK/client.mjs" <<EOF
// pull REF STORE | push STORE SRC-TAG DEST-REF
import { Store, RegistryClient, parseReference } from '$DIST';
const [op, a, b, c] = process.argv.slice(2);
const client = new RegistryClient();
if (op === 'pull') {
  const store = await Store.open(b);
  await client.pull(store, parseReference(a), { platform: { os: 'linux', architecture: 'amd64' } });
  await store.close();
} else {
  const store = await Store.open(a);
  await client.push(store, await store.resolveImage(b), parseReference(c));
  await store.close();
}
client.close();
EOF

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2) / 1e9}'; }

REG_PID=
start_registry() { # -> sets REG (host:port); fresh storage every time
  stop_registry
  local port dir=$WORK/reg
  rm -rf "$dir"; mkdir -p "$dir"
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\nhealth:\n  storagedriver:\n    enabled: false\n' "$dir" "$port" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >>"$WORK/registry.log" 2>&1 &
  REG_PID=$!
  REG=127.0.0.1:$port
  for _ in $(seq 100); do curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && return; sleep 0.05; done
  echo "docker-registry did not start" >&2; exit 1
}
stop_registry() { if [[ -n $REG_PID ]]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; REG_PID=; fi; }
trap stop_registry EXIT

measure() { # name cmd...  (one run; appends seconds to $WORK/<name>)
  local name=$1; shift
  local t0; t0=$(now)
  "$@" >/dev/null
  echo $(($(now) - t0)) >>"$WORK/$name"
}

SKOPEO=(skopeo copy -q --insecure-policy --src-tls-verify=false --dest-tls-verify=false)
for ((i = 1; i <= RUNS; i++)); do
  rm -rf "$WORK/store" "$WORK/oci"; sync
  measure pull-tsbuild node "$WORK/client.mjs" pull "$IMAGE" "$WORK/store"
  sync
  measure pull-skopeo "${SKOPEO[@]}" "docker://$IMAGE" "oci:$WORK/oci:img"
  sync
  start_registry
  measure push-tsbuild node "$WORK/client.mjs" push "$WORK/store" "$IMAGE" "$REG/bench/img:1"
  start_registry
  measure push-skopeo "${SKOPEO[@]}" "oci:$WORK/oci:img" "docker://$REG/bench/img:1"
done
stop_registry

size=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
  "http://${IMAGE%%/*}/v2/$(echo "${IMAGE#*/}" | sed 's/:[^:]*$//')/manifests/${IMAGE##*:}" | jq '[.layers[].size] | add')
{
  echo "image: $IMAGE ($((size / 1024 / 1024)) MiB compressed), $RUNS runs each, medians, $(nproc) CPUs"
  echo
  echo "| operation | tsbuild (s) | skopeo (s) | tsbuild / skopeo |"
  echo "|---|---|---|---|"
  for op in pull push; do
    tt=$(median <"$WORK/$op-tsbuild"); ts=$(median <"$WORK/$op-skopeo")
    printf '| %s | %.3f | %.3f | %.2f |\n' "$op" "$tt" "$ts" "$(echo "$tt / $ts" | bc -l)"
  done
} | tee "$WORK/table.md"
