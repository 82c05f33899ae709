#!/usr/bin/env bash
# Unpack of a large real image: a Debian rootfs (default: the one
# fixtures/scripts/local-registry.sh debootstraps, less the
# device nodes under /dev, which a build context cannot COPY) as a one-layer image made
# by tsbuild (`FROM scratch` + `COPY rootfs/ /`) and exported as an OCI layout with a
# gzip layer. Timed, as a ratio:
#   tsbuild: a node script opening a store that holds the imported image (its gzip blob,
#            no snapshot yet) and calling ensureSnapshots: gunzip, verify the diff_id,
#            apply into a snapshot dir;
#   umoci:   `umoci unpack --image LAYOUT:bench BUNDLE` of the same layout (it also
#            writes an mtree manifest of the result).
# Each run starts from a fresh copy of the store / an empty bundle (hyperfine --prepare).
# Not a test.
#
#   bench/unpack.sh [--runs N] [--rootfs DIR]
#
# Needs: `npm run build`, jq, hyperfine, umoci; run as root (device nodes, owners).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=5
ROOTFS=${TSBUILD_FIXTURES:-/var/cache/tsbuild-fixtures}/debian-rootfs
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --rootfs) ROOTFS=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
WORK=${BENCH_WORK:-/var/tmp/tsbuild-bench}/unpack
LAYERSTORE=$repo/packages/layerstore/dist/index.js
rm -rf "$WORK"; mkdir -p "$WORK/ctx/rootfs" "$WORK/results"

tar -C "$ROOTFS" --exclude='./dev/*' -cf - . | tar -C "$WORK/ctx/rootfs" -xf -
printf 'FROM scratch\nCOPY rootfs/ /\n' >"$WORK/ctx/Dockerfile"
TSBUILD_ROOT=$WORK/build-store node "$repo/packages/builder/dist/cli.js" build -q -t debian:bench \
  -o "type=oci,dest=$WORK/layout,tar=false" "$WORK/ctx" >/dev/null
rm -rf "$WORK/build-store" "$WORK/ctx"

cat >"$WORK/import.mjs" <<EOF
import { Store, importOciLayout } from '$LAYERSTORE';
const [root, layout] = process.argv.slice(2);
const store = await Store.open(root);
const image = await importOciLayout(store, layout, { platform: { architecture: 'amd64', os: 'linux' } });
await store.tag(image, 'debian:bench');
await store.close();
EOF
cat >"$WORK/unpack.mjs" <<EOF
import { Store, ensureSnapshots } from '$LAYERSTORE';
const store = await Store.open(process.argv[2]);
const image = await store.resolveImage('debian:bench');
const dirs = await ensureSnapshots(store, image.manifest.layers, image.config.rootfs.diff_ids);
await store.close();
console.log(dirs.at(-1));
EOF
node "$WORK/import.mjs" "$WORK/pristine" "$WORK/layout"
layer=$(jq -r '.layers[0] | "\(.mediaType) \(.size)"' "$WORK/layout/blobs/sha256/$(jq -r '.manifests[0].digest[7:]' "$WORK/layout/index.json")")

hyperfine --style none --runs "$RUNS" --prepare "rm -rf $WORK/store && cp -a $WORK/pristine $WORK/store" \
  --export-json "$WORK/results/tsbuild.json" "node $WORK/unpack.mjs $WORK/store" >/dev/null
hyperfine --style none --runs "$RUNS" --prepare "rm -rf $WORK/bundle" \
  --export-json "$WORK/results/umoci.json" "umoci unpack --image $WORK/layout:bench $WORK/bundle" >/dev/null

# Same tree on both sides (a count, as a sanity check; the tests compare trees in full).
snap=$(node "$WORK/unpack.mjs" "$WORK/store")
n_ours=$(find "$snap" | wc -l)
n_umoci=$(find "$WORK/bundle/rootfs" | wc -l)
t_ours=$(jq '.results[0].median' "$WORK/results/tsbuild.json")
t_umoci=$(jq '.results[0].median' "$WORK/results/umoci.json")
{
  printf '### Unpack of %s (%s, %s files; median of %s runs, %s CPUs)\n\n' "$ROOTFS" "$layer bytes" "$n_ours" "$RUNS" "$(nproc)"
  printf '| tool | time (s) | min (s) | ratio |\n|---|---|---|---|\n'
  printf '| tsbuild ensureSnapshots | %.2f | %.2f | %.2f x umoci |\n' "$t_ours" "$(jq '.results[0].min' "$WORK/results/tsbuild.json")" "$(jq -n "$t_ours / $t_umoci")"
  printf '| umoci unpack | %.2f | %.2f | 1 |\n' "$t_umoci" "$(jq '.results[0].min' "$WORK/results/umoci.json")"
  [[ $n_ours == "$n_umoci" ]] || printf '\nWARNING: %s entries in our snapshot, %s in umoci'"'"'s rootfs\n' "$n_ours" "$n_umoci"
} | tee "$WORK/results/table.md"
echo "raw hyperfine results: $WORK/results/"
