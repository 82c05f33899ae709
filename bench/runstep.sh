#!/usr/bin/env bash
# Per-step overhead of `RUN true`: cold builds of `FROM busybox` + K x `RUN true`
# for K=1 and K=21, timed with hyperfine; overhead per step = (t21 - t1) / 20.
# Side by side with BuildKit (docker build --no-cache) and buildah (bud --no-cache,
# runc), on the same machine in the same run. Not a test.
#
#   bench/runstep.sh [--runs N] [--builders tsbuild,buildkit,buildah] [--network default|host|none]
#
# --network is the network of the RUN steps (default: `default`, each step in a network
# namespace of its own with user-mode networking, as BuildKit runs RUN; `host` shares the
# host's, which needs `--allow network.host` for tsbuild and is what the reference
# builders get with `--network host`). Other than `default`, tsbuild's Dockerfiles say
# `RUN --network=X true` and BuildKit and buildah get `--network X` on their command line
# (their default: BuildKit's bridge network, buildah's netavark/CNI namespace).
#
# Needs: `npm run build`, hyperfine, and for the reference builders the machine set up by
# dockerd with BuildKit (Debian's docker.io) and buildah, with a busybox image in both.
# tsbuild's store is seeded with busybox:latest built from fixtures/busybox.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=5
BUILDERS=tsbuild,buildkit,buildah
NETWORK=default
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --builders) BUILDERS=$2; shift 2 ;;
    --network) NETWORK=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
DOCKER=${DOCKER:-/usr/bin/docker}
WORK=${BENCH_WORK:-/var/tmp/tsbuild-bench}/runstep
BUILDAH_ROOT=${BUILDAH_STORE:-/var/tmp/tsbuild-bench/buildah}
TSBUILD="node $repo/packages/builder/dist/cli.js"
rm -rf "$WORK"; mkdir -p "$WORK/results"
flag=""; [[ $NETWORK != default ]] && flag="--network=$NETWORK "
for k in 1 21; do
  mkdir -p "$WORK/ctx$k" "$WORK/ctx-tsbuild$k"
  { echo "FROM busybox"; for ((i = 1; i <= k; i++)); do echo "RUN true"; done; } >"$WORK/ctx$k/Dockerfile"
  { echo "FROM busybox"; for ((i = 1; i <= k; i++)); do echo "RUN ${flag}true"; done; } >"$WORK/ctx-tsbuild$k/Dockerfile"
done

# tsbuild: a store holding busybox:latest from the fixture (Debian's busybox-static)
mkdir -p "$WORK/bbctx"
tar -C "$repo/fixtures/busybox" --exclude=./prepare.sh -cf - . | tar -C "$WORK/bbctx" -xf -
sh "$repo/fixtures/busybox/prepare.sh" "$WORK/bbctx"
TSBUILD_ROOT=$WORK/tsbuild-store $TSBUILD build -q -t busybox:latest "$WORK/bbctx" >/dev/null

ALLOW=""; [[ $NETWORK == host ]] && ALLOW="--allow network.host"
REFNET=""; [[ $NETWORK != default ]] && REFNET="--network $NETWORK"
cmd_for() { # builder k
  case $1 in
    tsbuild) echo "TSBUILD_ROOT=$WORK/tsbuild-store $TSBUILD build -q --no-cache $ALLOW -t runstep:k$2 $WORK/ctx-tsbuild$2" ;;
    buildkit) echo "DOCKER_BUILDKIT=1 $DOCKER build -q --no-cache $REFNET -t runstep:k$2 $WORK/ctx$2" ;;
    buildah) echo "buildah --root $BUILDAH_ROOT/root --runroot $BUILDAH_ROOT/run --storage-driver overlay bud -q --runtime runc --layers --no-cache --pull=false $REFNET -t runstep:k$2 $WORK/ctx$2" ;;
  esac
}

IFS=, read -ra LIST <<<"$BUILDERS"
echo "RUN network: $NETWORK" >"$WORK/results/table.md"
printf '| builder | K=1 (s) | K=21 (s) | per RUN step (ms) |\n|---|---|---|---|\n' >>"$WORK/results/table.md"
declare -A PER
for b in "${LIST[@]}"; do
  for k in 1 21; do
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$WORK/results/$b-k$k.json" "$(cmd_for "$b" "$k")" >/dev/null
  done
  t1=$(jq '.results[0].median' "$WORK/results/$b-k1.json")
  t21=$(jq '.results[0].median' "$WORK/results/$b-k21.json")
  per=$(jq -n "($t21 - $t1) / 20 * 1000")
  PER[$b]=$per
  printf '| %s | %.3f | %.3f | %.1f |\n' "$b" "$t1" "$t21" "$per" >>"$WORK/results/table.md"
done
cat "$WORK/results/table.md"
if [[ -n ${PER[tsbuild]:-} ]]; then
  for b in buildkit buildah; do
    [[ -n ${PER[$b]:-} ]] && printf 'tsbuild / %s per-step ratio: %.2f\n' "$b" "$(jq -n "${PER[tsbuild]} / ${PER[$b]}")"
  done
fi
echo "raw hyperfine results: $WORK/results/"
