#!/usr/bin/env bash
# The property tests of the parsers and matchers with many generated inputs: the same
# ava files the suites run with 200 inputs per property, here with --runs inputs (default
# 100,000) from a seed chosen per run and printed, so a failure can be replayed:
#
#   bench/fuzz.sh [--runs N] [--seed S] [--only REGEX] [--case-budget-ms MS]
#
# Targets: the Dockerfile parser, the word expander, .dockerignore, COPY wildcards, the
# RE2-subset engine, the tar reader. Every input must end in a result or the package's
# typed error within the case budget (default 20 s, far above the milliseconds a case
# takes; a case still running at twice the budget is killed, its input written to stderr).
# Prints, per file, each property with its time and the outcomes it saw, then the totals.
# Needs `npm run build`. Not a test: nothing here judges speed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
RUNS=100000
SEED=$(( $(od -An -N4 -tu4 /dev/urandom) % 2147483647 + 1 ))
ONLY=.
BUDGET=20000
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --case-budget-ms) BUDGET=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
FILES=(
  builder:dist/dockerfile/parse.property.test.js
  builder:dist/dockerfile/shell-lex.property.test.js
  builder:dist/context/dockerignore.property.test.js
  builder:dist/context/glob.property.test.js
  builder:dist/context/re2.property.test.js
  layerstore:dist/tar/reader.property.test.js
)
echo "fuzz: $RUNS inputs per property, seed $SEED (replay: bench/fuzz.sh --runs $RUNS --seed $SEED)"
status=0
total_start=$(date +%s)
for entry in "${FILES[@]}"; do
  pkg=${entry%%:*} file=${entry#*:}
  [[ $entry =~ $ONLY ]] || continue
  if [[ ! -f $repo/packages/$pkg/$file ]]; then
    echo "fuzz: packages/$pkg/$file is missing: run npm run build first" >&2
    exit 2
  fi
  start=$(date +%s)
  rc=0
  log=$(cd "$repo/packages/$pkg" && TSBUILD_FUZZ_RUNS=$RUNS TSBUILD_FUZZ_SEED=$SEED TSBUILD_FUZZ_CASE_BUDGET_MS=$BUDGET \
    "$repo/node_modules/.bin/ava" --timeout 60m "$file" 2>&1) || rc=$?
  echo "== packages/$pkg/$file ($(( $(date +%s) - start )) s)"
  if [[ $rc == 0 ]]; then
    grep -E '✔|ℹ|passed' <<<"$log" | grep -v '^ *$' | awk '!seen[$0]++' | sed 's/^ *//; s/^/   /'
  else
    status=1
    echo "$log" | grep -v '^\s*at ' | tail -60
  fi
done
echo "fuzz: done in $(( $(date +%s) - total_start )) s, seed $SEED: $([[ $status == 0 ]] && echo 'every property held' || echo 'a property FAILED')"
exit $status
