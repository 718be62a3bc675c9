#!/usr/bin/env bash
# Keeps a GPU machine's work in this repository, so that no session ever
# trains a cell twice although no cache outlives a session here, and what
# travels to the next GPU machine stays small.
#
#   scripts/gpu-keep.sh [--pipeline mnist_superres] [--scale full] [--stage scores]
#                       [--max-size 40M] [OUT...] [-- NRUN_OPTIONS]
#
# Run from the checkout's root, with nrun on PATH (or NRUN=path/to/nrun).
# In results/<pipeline>/gpu-export/:
#   1. loads into nrun's cache every export kept in git history (kept.txt:
#      blob, file name, the training's key, its cell; `git cat-file blob`
#      reads them), the export kept for the next trip (export.tar.xz), and
#      each OUT's export (a GPU run's `OUT/export.part.*`);
#   2. keeps each finished training (of the trainings --stage reads) not
#      kept yet as one file, `<cell>.tar.xz` (that cell's --stage and what
#      it reads, as far as built: the training, its samples and scores, the
#      data), commits it, then records its blob in kept.txt and
#      removes the file in a second commit: git history holds every
#      finished cell while the tree, all of which travels to a GPU machine
#      (64 MiB with the kit), holds none;
#   3. writes what the next GPU run needs: targets-<scale>.txt, the
#      --target of each unfinished cell, `scores[cost=weak_kernel gamma=1
#      seed=0]` (scripts/pack-gpu-kit.sh puts it in the kit and gpu-run.sh
#      runs exactly those), and export.tar.xz, the checkpoints furthest
#      along that fit in --max-size. Commit those two.
#      When every training is finished both go, and the report is built
#      here: nrun pipelines/<pipeline>.yaml --scale <scale>.
# NRUN_OPTIONS (--grid, --set) choose the cells as a run would; give the
# GPU run the same (gpu-run.sh runs the kit's cells only without --grid).
set -euo pipefail
nrun="${NRUN:-nrun}"
pipeline=mnist_superres scale=full stage=scores max_size=40M
outs=() options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --pipeline) pipeline="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --stage) stage="$2"; shift 2 ;;
    --max-size) max_size="$2"; shift 2 ;;
    --) shift; options=("$@"); break ;;
    -*) echo "gpu-keep: unknown option $1" >&2; exit 2 ;;
    *) outs+=("$1"); shift ;;
  esac
done
say() { echo "gpu-keep: $*" >&2; }
fail() { say "$*"; exit 1; }
file="pipelines/$pipeline.yaml"
[ -f "$file" ] || fail "no $file here: run from the checkout's root"
dir="results/$pipeline/gpu-export"
kept="$dir/kept.txt"
targets="$dir/targets-$scale.txt"
mkdir -p "$dir"
run() { "$nrun" "$@" "$file" --scale "$scale" "${options[@]}"; }

# 1. Everything kept, and what came back.
if [ -f "$kept" ]; then
  while read -r blob name _; do
    case "$blob" in ''|'#'*) continue ;; esac
    git cat-file blob "$blob" | xz -dc | "$nrun" import - >/dev/null \
      || fail "importing $name (blob $blob) from $kept"
  done <"$kept"
fi
if [ -f "$dir/export.tar.xz" ]; then
  xz -dc "$dir/export.tar.xz" | "$nrun" import - >/dev/null || fail "importing $dir/export.tar.xz"
fi
for out in "${outs[@]}"; do
  compgen -G "$out/export.part.*" >/dev/null || fail "no $out/export.part.*"
  cat "$out"/export.part.* | "$nrun" import - || fail "importing $out/export.part.*"
done

# 2. The trainings: `<cell as PARAM=VALUE ...> <state> <key>`, one per
# line. A finished one is kept once, by its key (another scale or param
# is another key).
states=$(run status --target "$stage" --json | python3 -c '
import json, sys
for row in json.load(sys.stdin):
    if not row.get("steps"):
        continue  # not a training
    # As --target takes a cell: a value with a space or a comma quoted.
    value = lambda v: (f"\x27{v}\x27" if any(c in v for c in " ,") else v) \
        if isinstance(v, str) else json.dumps(v)
    cell = " ".join(f"{k}={value(v)}" for k, v in row["cell"].items())
    if not cell:
        sys.exit("gpu-keep: a training of no grid cell cannot be named cell by cell")
    print(cell + "\t" + row["state"] + "\t" + row["key"])')
[ -n "$states" ] || fail "$stage reads no training in $file"
finished=$(awk -F'\t' '$2 == "cached" { print $3 "\t" $1 }' <<<"$states")
unfinished=$(awk -F'\t' '$2 != "cached" { print $1 }' <<<"$states")
is_kept() { [ -f "$kept" ] && awk -v key="$1" '$1 !~ /^#/ && $3 == key { found = 1 } END { exit !found }' "$kept"; }
new=() keys=() files=()
while IFS=$'\t' read -r key cell; do
  [ -n "$key" ] && ! is_kept "$key" || continue
  name="$dir/$(tr ' ' ',' <<<"$cell").tar.xz"
  run export --target "$stage[$cell]" | xz -9 -T1 >"$name"
  new+=("$cell") keys+=("$key") files+=("$name")
done <<<"$finished"
if [ ${#new[@]} -gt 0 ]; then
  git add -- "${files[@]}"
  # (Already committed by a run stopped before its second commit: the
  # same export gives the same bytes.)
  git diff --cached --quiet HEAD -- "${files[@]}" \
    || git commit -q -m "GPU work kept: ${#new[@]} finished $pipeline training(s) ($scale), one file each" -- "${files[@]}"
  [ -f "$kept" ] || printf '# Finished GPU work kept in git history (scripts/gpu-keep.sh): blob, file, key, cell.\n' >"$kept"
  for i in "${!new[@]}"; do
    blob=$(git rev-parse "HEAD:${files[$i]}")
    echo "$blob $(basename "${files[$i]}") ${keys[$i]} ${new[$i]}" >>"$kept"
    say "kept ${new[$i]} ($(du -h "${files[$i]}" | cut -f1), blob $blob)"
  done
  git rm -q -- "${files[@]}"
  git add -- "$kept"
  git commit -q -m "GPU work kept: the $pipeline cells' blobs in $kept, their files out of the tree" -- "${files[@]}" "$kept"
fi

# 3. The next trip.
if [ -z "$unfinished" ]; then
  rm -f "$targets" "$dir/export.tar.xz"
  say "every training is finished: commit the removal of $targets and $dir/export.tar.xz, and build the report here, nrun $file --scale $scale"
  exit 0
fi
sed "s/.*/$stage[&]/" <<<"$unfinished" >"$targets"
args=()
while IFS= read -r target; do args+=(--target "$target"); done <"$targets"
run export "${args[@]}" --max-size "$max_size" | xz -9 -T1 >"$dir/export.tar.xz.new"
mv "$dir/export.tar.xz.new" "$dir/export.tar.xz"
say "$(grep -c . "$targets") unfinished cells in $targets; $dir/export.tar.xz $(du -h "$dir/export.tar.xz" | cut -f1) (commit both)"
