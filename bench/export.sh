#!/usr/bin/env bash
# Export of one large layer with gzip and with zstd (default levels), side by side with
# `pigz -p 2` and `zstd -T2 -3` compressing the same uncompressed layer tar; and the peak
# RSS of tsbuild at each layer size, to show memory stays flat as the layer grows.
# Not a test.
#
#   bench/export.sh [--runs N] [--sizes "256 1024"]
#
# The layer is one file of MiB deterministic bytes, 7 bits/byte, from bench/gen.mjs,
# in an image made by
# `FROM scratch` + `COPY` (no RUN). Export time = (cached build + -o type=oci) minus the
# cached build alone, with the compressed-blob records removed before each run so every
# run compresses again. It includes reading the layer verified against its digest,
# storing the compressed blob (hashed, fsynced) and writing the OCI archive (fsynced);
# pigz/zstd only compress. The "compressor alone" rows pipe the same file through
# tsbuild's compressor (the layerstore package's `compressor()`) into a file, like
# pigz/zstd do, to compare the compression itself.
# Time ratios are of medians; "min" (export: min minus the cached build's min) is less
# disturbed by other load on a shared machine.
# Needs: `npm run build`, jq, hyperfine, pigz, zstd, skopeo, GNU time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=3
SIZES="256 1024"
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
WORK=${BENCH_WORK:-/var/tmp/tsbuild-bench}/export
TSBUILD="node $repo/packages/builder/dist/cli.js"
rm -rf "$WORK"; mkdir -p "$WORK/results"
cat >"$WORK/compress.mjs" <<EOF
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { compressor } from '$repo/packages/layerstore/dist/index.js';
const [format, from, to] = process.argv.slice(2);
await pipeline(createReadStream(from, { highWaterMark: 1 << 20 }), compressor(format), createWriteStream(to));
EOF

median() { jq '.results[0].median' "$WORK/results/$1.json"; }
fastest() { jq '.results[0].min' "$WORK/results/$1.json"; }
bench() { # name prepare command
  local name=$1 prepare=$2 cmd=$3
  if [[ -n $prepare ]]; then
    hyperfine --style none --runs "$RUNS" --prepare "$prepare" --export-json "$WORK/results/$name.json" "$cmd" >/dev/null
  else
    hyperfine --style none --runs "$RUNS" --export-json "$WORK/results/$name.json" "$cmd" >/dev/null
  fi
}
peak_mib() { # command... -> peak RSS in MiB (GNU time %M is KiB)
  /usr/bin/time -f %M -o "$WORK/results/rss" "$@" >/dev/null
  echo $(($(tail -n1 "$WORK/results/rss") / 1024))
}
mib() { jq -n "$1 / 1048576 | . * 10 | round / 10"; }

TIMES="| layer | what | time (s) | min (s) | compressed (MiB) | time ratio |\n|---|---|---|---|---|---|\n"
RSS="| layer | cached build, no export | + export gzip | + export zstd |\n|---|---|---|---|\n"
for size in $SIZES; do
  ctx=$WORK/ctx$size
  store=$WORK/store$size
  mkdir -p "$ctx"
  node "$here/gen.mjs" 1 "$size" >"$ctx/big.bin"
  printf 'FROM scratch\nCOPY big.bin /big.bin\n' >"$ctx/Dockerfile"
  TSBUILD_ROOT=$store $TSBUILD build -q -t "bench:$size" "$ctx" >/dev/null
  diff_id=$(TSBUILD_ROOT=$store $TSBUILD inspect "bench:$size" | jq -r '.[0].RootFS.Layers[0]')
  layer=$store/blobs/sha256/${diff_id#sha256:}
  forget="rm -rf $store/cache/compressed"
  base="env TSBUILD_ROOT=$store $TSBUILD build -q -t bench:$size $ctx"

  bench "base-$size" "" "$base"
  bench "gzip-$size" "$forget" "$base -o type=oci,dest=$WORK/out-gzip.tar"
  bench "zstd-$size" "$forget" "$base --compression zstd -o type=oci,dest=$WORK/out-zstd.tar"
  bench "engine-gzip-$size" "" "node $WORK/compress.mjs gzip $layer $WORK/engine.gz"
  bench "engine-zstd-$size" "" "node $WORK/compress.mjs zstd $layer $WORK/engine.zst"
  bench "pigz-$size" "" "pigz -p 2 -c $layer >$WORK/layer.tar.gz"
  bench "zstdcli-$size" "" "zstd -q -T2 -3 -c $layer >$WORK/layer.tar.zst"

  t_base=$(median "base-$size")
  t_gzip=$(jq -n "$(median "gzip-$size") - $t_base")
  t_zstd=$(jq -n "$(median "zstd-$size") - $t_base")
  t_pigz=$(median "pigz-$size")
  t_zcli=$(median "zstdcli-$size")
  s_gzip=$(skopeo inspect --raw "oci-archive:$WORK/out-gzip.tar" | jq '.layers[0].size')
  s_zstd=$(skopeo inspect --raw "oci-archive:$WORK/out-zstd.tar" | jq '.layers[0].size')
  row() { # what seconds min-seconds compressed-bytes ratio
    TIMES+="| $size MiB | $1 | $(printf %.2f "$2") | $(printf %.2f "$3") | ${4:+$(mib "$4")} | $5 |\n"
  }
  row "cached build, no export" "$t_base" "$(fastest "base-$size")" "" ""
  row "tsbuild export gzip (-o type=oci)" "$t_gzip" "$(jq -n "$(fastest "gzip-$size") - $(fastest "base-$size")")" "$s_gzip" "$(printf %.2f "$(jq -n "$t_gzip / $t_pigz")") x pigz"
  row "tsbuild gzip compressor alone" "$(median "engine-gzip-$size")" "$(fastest "engine-gzip-$size")" "$(stat -c %s "$WORK/engine.gz")" "$(printf %.2f "$(jq -n "$(median "engine-gzip-$size") / $t_pigz")") x pigz"
  row "pigz -p 2" "$t_pigz" "$(fastest "pigz-$size")" "$(stat -c %s "$WORK/layer.tar.gz")" 1
  row "tsbuild export zstd (--compression zstd)" "$t_zstd" "$(jq -n "$(fastest "zstd-$size") - $(fastest "base-$size")")" "$s_zstd" "$(printf %.2f "$(jq -n "$t_zstd / $t_zcli")") x zstd"
  row "tsbuild zstd compressor alone" "$(median "engine-zstd-$size")" "$(fastest "engine-zstd-$size")" "$(stat -c %s "$WORK/engine.zst")" "$(printf %.2f "$(jq -n "$(median "engine-zstd-$size") / $t_zcli")") x zstd"
  row "zstd -T2 -3" "$t_zcli" "$(fastest "zstdcli-$size")" "$(stat -c %s "$WORK/layer.tar.zst")" 1

  r_base=$(peak_mib env TSBUILD_ROOT="$store" node "$repo/packages/builder/dist/cli.js" build -q -t "bench:$size" "$ctx")
  $forget
  r_gzip=$(peak_mib env TSBUILD_ROOT="$store" node "$repo/packages/builder/dist/cli.js" build -q -t "bench:$size" -o "type=oci,dest=$WORK/out-gzip.tar" "$ctx")
  $forget
  r_zstd=$(peak_mib env TSBUILD_ROOT="$store" node "$repo/packages/builder/dist/cli.js" build -q -t "bench:$size" --compression zstd -o "type=oci,dest=$WORK/out-zstd.tar" "$ctx")
  RSS+="| $size MiB | $r_base MiB | $r_gzip MiB | $r_zstd MiB |\n"
  rm -rf "$ctx" "$store" "$WORK"/out-*.tar "$WORK"/layer.tar.* "$WORK"/engine.*
done
{
  printf '### Export time (median of %s runs, %s CPUs)\n\n' "$RUNS" "$(nproc)"
  printf "$TIMES"
  printf '\n### Peak RSS of tsbuild (GNU time %%M)\n\n'
  printf "$RSS"
} | tee "$WORK/results/table.md"
echo "raw hyperfine results: $WORK/results/"
