#!/usr/bin/env bash
# One command on a fresh GPU machine, from the kit folder (scripts/build-gpu.sh
# makes it; this script travels inside it) and, for a kit inside an nrun
# checkout, the earlier export the checkout keeps:
#
#   KIT/gpu-run.sh OUT [--minutes 9] [--later 0] [--pipeline mnist_superres]
#                      [--scale full] [--device auto]
#                      [--speed-rounds 1 | --no-speed]
#                      [--speed-shape 'BENCH FLAGS']... [--slots-shape 'BENCH FLAGS']
#                      [--max-out 62M] [--bf16-check 'NRUN SELECTION']
#                      [-- NRUN_RUN_OPTIONS...]
#
# Within --minutes of wall time it
#   1. checks itself (seconds): python and torch, the GPU, driver, CUDA,
#      cuDNN and libtorch versions, that the nrun binary starts, and that a
#      training step runs with libtorch's fused Adam (else burn's Adam,
#      NRUN_ADAM=burn) and with a CUDA stream per training (else all on the
#      default stream, NRUN_CUDA_STREAM=shared), and whether a step replayed
#      from a CUDA graph trains as an eager one does;
#   2. imports the earlier exports KIT/imports.txt names, if any; runs
#      only the cells KIT/targets/PIPELINE.SCALE.txt names, if there is one
#      (the cells no earlier run finished: scripts/gpu-keep.sh), unless the
#      nrun options name --target;
#   3. times one Table 1 outer step side by side, nrun against PyTorch eager,
#      in f32 and bf16 (and nrun f32 with burn's Adam instead of libtorch's
#      fused one; nrun replaying its steps from CUDA graphs, where the probe
#      passed: the pipeline then runs with NRUN_CUDA_GRAPHS=1 if that made
#      f32 steps 5% faster), rounds alternating (if the kit has the benchmark), at
#      Table 1's batch (16 x 4) unless --speed-shape names others (say
#      '--batch 64 --z 4 --channels 128 --layers 7 --steps 3 --warmup 2': a
#      gap that closes at a larger batch is launch overhead); the first
#      round's f32 runs also count one more step's operators, PyTorch's
#      beside nrun's (bench/census.py: kernel launches and read-backs);
#   4. measures how many outer steps per second 1, 2, 3 and all of the
#      unfinished trainings make in total when they share the GPU, and
#      (scripts/plan_slots.py) picks --slots-per-gpu to finish the most
#      trainings in the time left (plus --later minutes of later commands
#      on this machine that go on from here: they need NRUN_GPU_WORK, the
#      work folder, to stay put), unless the nrun options name
#      --slots-per-gpu: a stopped run hands on its finished trainings and
#      only as many checkpoints as fit (one, when no --later follows);
#   5. runs the pipeline with --time-limit set to what is left, less the
#      time to pack up: finished trainings are cached, running ones
#      checkpoint, the nearest to done start first;
#   6. writes into OUT at most 8 files of at most 15 MiB, OUT's total within
#      --max-out: log.txt (everything, written as it goes), versions.txt,
#      speed.txt, report.tar.gz when the pipeline's report is done, and
#      export.part.* (`cat export.part.* | nrun import -` on the next machine
#      resumes exactly where this one stopped), the most costly to
#      recompute first. 62M by default: all that comes back; what is sent
#      on to the next machine must fit beside the checkout and the kit
#      (64 MiB in all), so the repository keeps it trimmed (README.md);
#   7. with --bf16-check '--grid cost=weak_quadratic --grid gamma=0' (nrun
#      options choosing one cell, say), when the pipeline is done with 3
#      minutes to spare: trains that cell again in bf16 (`--set
#      precision=bf16`) and writes OUT/bf16.txt, `nrun show` of the cell in
#      f32 and in bf16: bf16 goes into a table only where one cell run both
#      ways scores within 0.1 dB.
# PYTHON (default python3) names the Python whose torch the binary links.
set -uo pipefail
kit="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 OUT [options] [-- nrun options]" >&2; exit 2; }
out="$1"; shift
minutes=9 later=0 pipeline=mnist_superres scale=full device=auto rounds=1 max_out=62M bf16_check=""
table1="--batch 16 --z 4 --channels 128 --layers 7 --steps 5 --warmup 2"
speed_shapes=("$table1") slots_shape="$table1"
shapes_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --later) later="$2"; shift 2 ;;
    --pipeline) pipeline="$2"; shift 2 ;;
    --scale) scale="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --speed-rounds) rounds="$2"; shift 2 ;;
    --speed-shape)
      [ "$shapes_given" -eq 1 ] || speed_shapes=()
      shapes_given=1; speed_shapes+=("$2"); shift 2 ;;
    --slots-shape) slots_shape="$2"; shift 2 ;;
    --no-speed) rounds=0; shift ;;
    --max-out) max_out="$2"; shift 2 ;;
    --bf16-check) bf16_check="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "gpu-run: unknown option $1" >&2; exit 2 ;;
  esac
done
for number in "$minutes" "$later" "$rounds"; do
  [[ "$number" =~ ^[0-9]+$ ]] || { echo "gpu-run: $number: a whole number is needed" >&2; exit 2; }
done
# The nrun options that choose what runs, for `nrun status` too.
selection=()
rest=("$@")
for ((i = 0; i < ${#rest[@]}; i++)); do
  case "${rest[i]}" in
    --grid|--set|--target) selection+=("${rest[i]}" "${rest[i + 1]:-}"); i=$((i + 1)) ;;
    --grid=*|--set=*|--target=*) selection+=("${rest[i]}") ;;
  esac
done
# The cells no earlier GPU run finished (scripts/gpu-keep.sh lists them,
# the kit carries the list), unless the options choose cells themselves
# (--grid, --target); the self-check sees that nrun takes them.
kit_targets="$kit/targets/$pipeline.$scale.txt"
kit_args=()
if [ -f "$kit_targets" ] && ! printf '%s\n' "${selection[@]}" | grep -q '^--\(target\|grid\)'; then
  while IFS= read -r target || [ -n "$target" ]; do
    [ -n "$target" ] && kit_args+=(--target "$target")
  done <"$kit_targets"
fi
python="${PYTHON:-python3}"
start=$(date +%s)
mkdir -p "$out"
out="$(cd "$out" && pwd)"
log="$out/log.txt"
exec > >(tee -a "$log") 2>&1
say() { echo "[gpu-run $(( $(date +%s) - start ))s] $*"; }
left() { echo $(( minutes * 60 - ($(date +%s) - start) )); }
fail() { say "FAILED: $*"; exit 1; }

# 1. Self-check.
say "kit $kit ($(cat "$kit/commit.txt" 2>/dev/null || echo 'no commit recorded')), out $out, ${minutes} min"
"$python" - >"$out/versions.txt" <<'PY' || fail "python with torch is needed ($python)"
import platform, subprocess, torch
print("python", platform.python_version())
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
if torch.cuda.is_available():
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        print(f"gpu {i}", p.name, f"{p.total_memory / 2**30:.0f} GiB", f"sm {p.major}.{p.minor}")
    try:
        print("driver", subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                       capture_output=True, text=True, timeout=20).stdout.strip())
    except Exception as e:
        print("driver unknown:", e)
else:
    print("gpu none")
PY
cat "$out/versions.txt"
torch_lib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ "$later" -gt 0 ] && [ -z "${NRUN_GPU_WORK:-}" ]; then
  say "WARNING: --later without NRUN_GPU_WORK: the later commands will not find this one's work"
fi
work="${NRUN_GPU_WORK:-$(mktemp -d)}"
mkdir -p "$work/bin"
xz -dc "$kit/nrun.xz" > "$work/bin/nrun" && chmod +x "$work/bin/nrun" || fail "unpacking nrun"
if [ -f "$kit/train_step.xz" ]; then
  xz -dc "$kit/train_step.xz" > "$work/bin/train_step" && chmod +x "$work/bin/train_step"
fi
nrun="$work/bin/nrun"
"$nrun" --version || fail "nrun does not start (libtorch at $torch_lib?)"
cp -r "$kit/pipelines" "$work/" && tar -xJf "$kit/data.tar.xz" -C "$work" || fail "unpacking the pipelines and data"
cd "$work"
if [ ${#kit_args[@]} -gt 0 ] \
   && check=$("$nrun" status "pipelines/$pipeline.yaml" --scale "$scale" "${selection[@]}" "${kit_args[@]}" 2>&1 >/dev/null); then
  rest+=("${kit_args[@]}") selection+=("${kit_args[@]}")
  say "the $(( ${#kit_args[@]} / 2 )) cells no earlier run finished (${kit_targets#"$kit"/}): ${selection[*]}"
else
  [ ${#kit_args[@]} -eq 0 ] || say "WARNING: the kit's cells do not fit this pipeline ($check); running all of it"
  "$nrun" status "pipelines/$pipeline.yaml" --scale "$scale" >/dev/null || fail "the pipeline does not load"
fi
say "self-check passed"

# 2. Earlier work.
while read -r export; do
  [ -n "$export" ] || continue
  if [ ! -f "$kit/$export" ]; then
    say "WARNING: the kit's earlier export $kit/$export is missing; going on without it"
    continue
  fi
  xz -dc "$kit/$export" | "$nrun" import - || fail "importing the kit's earlier export $export"
done < <(cat "$kit/imports.txt" 2>/dev/null)

# The fused Adam and the CUDA streams on this GPU: tiny steps, seconds.
# Should either fail, the pipeline runs without it: burn's Adam
# (NRUN_ADAM=burn), every training on the default stream
# (NRUN_CUDA_STREAM=shared). The benchmark runs below follow suit.
adam_flag=() stream_flag=()
cuda=0 graphs_ok=0 agree=""
"$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' && cuda=1
if [ -x "$work/bin/train_step" ] && [ "$cuda" -eq 1 ]; then
  probe=(--batch 2 --z 2 --channels 8 --layers 2 --steps 1 --warmup 0 --device cuda)
  steps_run=1
  if timeout 120 "$work/bin/train_step" "${probe[@]}" --shared-stream >"$work/probe.txt" 2>&1; then
    say "fused Adam probe passed"
  elif timeout 120 "$work/bin/train_step" "${probe[@]}" --shared-stream --burn-adam >>"$work/probe.txt" 2>&1; then
    export NRUN_ADAM=burn
    adam_flag=(--burn-adam)
    say "fused Adam failed on this GPU, burn's works: running with NRUN_ADAM=burn ($(head -c 300 "$work/probe.txt"))"
  else
    steps_run=0
    say "the training step probe failed with either Adam, streams not probed: $(tail -c 300 "$work/probe.txt")"
  fi
  if [ "$steps_run" -eq 1 ]; then
    if timeout 120 "$work/bin/train_step" "${probe[@]}" "${adam_flag[@]}" --parallel 2 >"$work/probe.txt" 2>&1; then
      say "CUDA stream probe passed (2 trainings, a stream each)"
    else
      export NRUN_CUDA_STREAM=shared
      stream_flag=(--shared-stream)
      say "a stream per training failed on this GPU: running with NRUN_CUDA_STREAM=shared ($(tail -c 300 "$work/probe.txt"))"
    fi
  fi
  # CUDA graphs (NRUN_CUDA_GRAPHS=1, each outer step recorded once and
  # replayed): checked here on a tiny training with a large learning rate,
  # replayed against eager, step by step (within 1%: cuDNN may pick other
  # kernels in another process, while a replay that read stale draws or
  # weights is off by tens of percent); used only if that agrees and the
  # speed check (3) finds it faster. They need the fused Adam and a
  # stream per training.
  if [ -s "$work/graphs.txt" ]; then
    # A later command on this machine keeps the first one's verdict.
    if [ "$(cat "$work/graphs.txt")" = on ]; then
      graphs_ok=1
      export NRUN_CUDA_GRAPHS=1
    fi
    say "CUDA graphs $(cat "$work/graphs.txt"), as an earlier command here found"
  elif [ "$steps_run" -eq 1 ] && [ ${#adam_flag[@]} -eq 0 ] && [ ${#stream_flag[@]} -eq 0 ]; then
    gprobe=(--batch 2 --z 2 --channels 8 --layers 2 --steps 4 --warmup 3 --lr 0.01 --device cuda)
    if timeout 120 "$work/bin/train_step" "${gprobe[@]}" >"$work/eager.json" 2>"$work/probe.txt" \
       && timeout 120 "$work/bin/train_step" "${gprobe[@]}" --cuda-graphs >"$work/graphs.json" 2>>"$work/probe.txt" \
       && grep -q "recorded in a CUDA graph" "$work/probe.txt" \
       && agree=$("$python" - "$work/eager.json" "$work/graphs.json" <<'PY'
import json, sys
eager, graphs = ([json.loads(l) for l in open(p) if l.startswith("{")][-1] for p in sys.argv[1:])
pairs = list(zip(eager["t_losses"] + eager["f_losses"], graphs["t_losses"] + graphs["f_losses"]))
worst = max(abs(a - b) / (1 + abs(a)) for a, b in pairs)
print(f"{len(pairs)} losses, at most {worst:.1e} apart")
sys.exit(0 if len(eager["t_losses"]) == len(graphs["t_losses"]) > 3 and worst <= 1e-2 else 1)
PY
); then
      graphs_ok=1
      say "CUDA graph probe passed: replayed steps train as eager ones ($agree)"
    else
      say "CUDA graph probe failed, graphs stay off: ${agree:+$agree; }$(tail -c 300 "$work/probe.txt")"
    fi
  fi
fi

# 3. Speed, side by side; about a third of the time at most.
# The batch a --speed-shape names (its rows are tagged with it).
batch_of() { echo "$1" | sed -n 's/.*--batch \([0-9]*\).*/\1/p'; }
if [ "$rounds" -gt 0 ] && [ -x "$work/bin/train_step" ]; then
  gpu_device=cpu
  if [ "$cuda" -eq 1 ]; then gpu_device=cuda; fi
  cap=$(( $(left) / 3 / (rounds * 7 * ${#speed_shapes[@]}) )); [ "$cap" -ge 20 ] || cap=20
  say "speed check: $rounds rounds of ${#speed_shapes[@]} shapes, each run capped at ${cap}s ($gpu_device)"
  rows="$work/speed.jsonl"
  : >"$rows"
  for round in $(seq "$rounds"); do
    for shape in "${speed_shapes[@]}"; do
      batch=$(batch_of "$shape")
      tag="\"round\": $round, \"batch\": \"${batch:-?}\", "
      for precision in f32 bf16; do
        flag=(); [ "$precision" = bf16 ] && flag=(--bf16)
        # The first round's f32 runs also count the operators of one more
        # step (bench/census.py): what each asks of the GPU, by name.
        census=(); [ "$round" = 1 ] && [ "$precision" = f32 ] && census=(--count-ops)
        # shellcheck disable=SC2086
        timeout "$cap" "$python" "$kit/torch_step.py" --device "$gpu_device" $shape "${flag[@]}" \
          "${census[@]}" | sed "s/^{/{$tag/" >>"$rows"
        # The benchmark's device filter: "cuda" picks libtorch's GPU, "flex" the CPU build.
        nrun_device=cuda; [ "$gpu_device" = cpu ] && nrun_device=flex
        # shellcheck disable=SC2086
        timeout "$cap" "$work/bin/train_step" $shape --device "$nrun_device" "${flag[@]}" \
          "${stream_flag[@]}" "${census[@]}" | sed "s/^{/{$tag/" >>"$rows"
        if [ "$graphs_ok" -eq 1 ]; then
          # shellcheck disable=SC2086
          timeout "$cap" "$work/bin/train_step" $shape --device "$nrun_device" "${flag[@]}" \
            --cuda-graphs | sed "s/^{/{$tag/" >>"$rows"
        fi
        if [ "$precision" = f32 ]; then
          # burn's Adam in place of libtorch's fused one: what that lever is worth.
          # shellcheck disable=SC2086
          timeout "$cap" "$work/bin/train_step" $shape --device "$nrun_device" --burn-adam \
            "${stream_flag[@]}" | sed "s/^{/{$tag/" >>"$rows"
        fi
      done
    done
  done
  "$python" - "$rows" >"$out/speed.txt" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ref = {(r["round"], r["batch"], r["precision"]): r["seconds_per_step"] for r in rows if r["impl"] == "pytorch"}
print(f"{'batch':>5} {'implementation':<30}{'s/step':>9}  {'vs PyTorch same precision':>26}  {'vs PyTorch f32':>18}  {'issuing':>8}")
for batch, *impl in sorted({(r["batch"], r["impl"], r["device"], r["precision"]) for r in rows}, key=lambda k: (int(k[0]) if k[0].isdigit() else 0, k[1:])):
    mine = [r for r in rows if (r["batch"], r["impl"], r["device"], r["precision"]) == (batch, *impl)]
    secs = statistics.median(r["seconds_per_step"] for r in mine)
    same = [ref[(r["round"], batch, r["precision"])] / r["seconds_per_step"] for r in mine if (r["round"], batch, r["precision"]) in ref]
    f32 = [ref[(r["round"], batch, "f32")] / r["seconds_per_step"] for r in mine if (r["round"], batch, "f32") in ref]
    fmt = lambda xs: f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})" if xs else "-"
    issue = [r["issue_seconds_per_step"] / r["seconds_per_step"] for r in mine if "issue_seconds_per_step" in r]
    issuing = f"{statistics.median(issue):.0%}" if issue else "-"
    print(f"{batch:>5} {' '.join(impl):<30}{secs:>9.4f}  {fmt(same):>26}  {fmt(f32):>18}  {issuing:>8}")
print(f"({len({r['round'] for r in rows})} rounds alternating; medians, ranges over rounds; issuing: the share")
print(" of a step spent issuing its work before its one read back, near 100% when launches limit it)")
PY
  for shape in "${speed_shapes[@]}"; do
    batch=$(batch_of "$shape")
    echo; echo "batch ${batch:-?}:"
    { grep "\"round\": 1, \"batch\": \"${batch:-?}\"" "$rows" || true; } | "$python" "$kit/census.py" /dev/stdin
  done >>"$out/speed.txt"
  cat "$out/speed.txt"
  if [ "$graphs_ok" -eq 1 ]; then
    # Graphs for the pipeline if they made the f32 step (its precision)
    # at least 5% faster at the first shape.
    if "$python" - "$rows" "$(batch_of "${speed_shapes[0]}")" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def median(impl):
    xs = [r["seconds_per_step"] for r in rows
          if r["impl"] == impl and r["precision"] == "f32" and r["batch"] == sys.argv[2]]
    return statistics.median(xs) if xs else None
eager, graphs = median("nrun"), median("nrun-graphs")
sys.exit(0 if eager and graphs and graphs < 0.95 * eager else 1)
PY
    then
      export NRUN_CUDA_GRAPHS=1
      echo on >"$work/graphs.txt"
      say "CUDA graphs were faster: running with NRUN_CUDA_GRAPHS=1"
    else
      echo off >"$work/graphs.txt"
      say "CUDA graphs were not faster: they stay off"
    fi
  fi
else
  say "speed check skipped"
fi

# 4. How many trainings share the GPU: small ones leave it idle while each
# issues its kernels, so several at once go faster in total; but the more
# run at once, the later each finishes, and a run stopped by its time
# limit hands on only as many checkpoints as the export can carry.
slots=()
slots_named=0
for arg in "$@"; do [ "$arg" = --slots-per-gpu ] && slots_named=1; done
if [ "$slots_named" -eq 0 ] && [ -x "$work/bin/train_step" ] && [ "$cuda" -eq 1 ]; then
  # The outer steps each unfinished training has still to run.
  to_go=$("$nrun" status "pipelines/$pipeline.yaml" --scale "$scale" "${selection[@]}" --json \
         | "$python" -c '
import json, sys
rows = json.load(sys.stdin)
print(",".join(str(r["steps"] - r.get("resumes_at", 0)) for r in rows
               if r.get("steps") and r["state"] != "cached"))')
  trainings=$(echo "$to_go" | tr ',' '\n' | grep -c .)
  probe_up_to=$trainings rates="" most=0 most_rate=0
  # A later command on this machine plans with the rates measured before.
  measured="$work/slots-rates.txt"
  if [ -s "$measured" ]; then
    rates=$(sed -n 1p "$measured")
    [ "$(sed -n 2p "$measured")" = shared ] && export NRUN_CUDA_STREAM=shared
    say "slots: the rates measured earlier on this machine, $rates${NRUN_CUDA_STREAM:+ (one shared stream)}"
    probe_up_to=0
  fi
  # K trainings at once of the slots' shape (and FLAGS): sets `line`, the
  # benchmark's JSON, and `rate`, their outer steps per second in total
  # (empty if it failed).
  probe_slots() {
    local k="$1"; shift
    # shellcheck disable=SC2086
    local graphs=(); [ "${NRUN_CUDA_GRAPHS:-}" = 1 ] && graphs=(--cuda-graphs)
    line=$(timeout 90 "$work/bin/train_step" $slots_shape --device cuda --parallel "$k" \
           "${adam_flag[@]}" "${graphs[@]}" "$@" | grep '^{' | tail -1)
    rate=$(echo "$line" | sed -n 's/.*"steps_per_second_total": \([0-9.e+-]*\).*/\1/p')
  }
  # 1, 2, 3 and all at once: sets `rates`, `most` and `most_rate`.
  probe_counts() {
    for k in $(printf '%s\n' 1 2 3 "$probe_up_to" | awk -v n="$probe_up_to" '$1 >= 1 && $1 <= n' | sort -un); do
      [ "$(left)" -gt 240 ] || break
      probe_slots "$k" "${stream_flag[@]}"
      if [ -z "$rate" ] && [ "${NRUN_CUDA_GRAPHS:-}" = 1 ]; then
        # Graphs that record alone but not side by side: off for the
        # pipeline too, and every count measured again without them.
        unset NRUN_CUDA_GRAPHS
        echo off >"$work/graphs.txt"
        say "slots probe: $k at once failed with CUDA graphs, which stay off; measuring again without"
        rates="" most=0 most_rate=0
        probe_counts
        return
      fi
      [ -n "$rate" ] || { say "slots probe: $k at once failed"; break; }
      say "slots probe: $k at once, $rate outer steps/s in total"
      echo "slots probe ($k trainings at once): $line" >>"$out/speed.txt"
      rates="${rates:+$rates,}$k:$rate" most=$k most_rate=$rate
    done
  }
  probe_counts
  # What a stream per training is worth: the most at once, on one stream.
  if [ "$most" -gt 1 ] && [ ${#stream_flag[@]} -eq 0 ] && [ "$(left)" -gt 240 ]; then
    probe_slots "$most" --shared-stream
    if [ -n "$rate" ]; then
      say "slots probe: $most at once on one shared stream, $rate outer steps/s in total"
      echo "slots probe ($most trainings at once, one shared stream): $line" >>"$out/speed.txt"
      if awk -v a="$rate" -v b="$most_rate" 'BEGIN { exit !(a > 1.05 * b) }'; then
        export NRUN_CUDA_STREAM=shared
        # Planned with that rate for the most at once (the others were
        # measured with a stream each).
        rates=$(echo "$rates" | sed "s/\(^\|,\)$most:[^,]*/\1$most:$rate/")
        say "one shared stream was faster: running with NRUN_CUDA_STREAM=shared"
      fi
    fi
  fi
  if [ -n "$rates" ]; then
    printf '%s\n%s\n' "$rates" "${NRUN_CUDA_STREAM:-own}" >"$measured"
    # The pipeline's time as step 5 sets it, less 30 s for its start and
    # data stages, plus what later commands leave it (their minutes less
    # about 100 s each to start and pack up). Without later commands only
    # the checkpoint furthest along goes on (the export fits one).
    seconds=$(( $(left) - 90 ))
    carried=1
    if [ "$later" -gt 0 ]; then
      seconds=$(( seconds + (later * 60 > 100 ? later * 60 - 100 : 0) ))
      carried=$trainings
    fi
    plan=$("$python" "$kit/plan_slots.py" "$seconds" "$rates" "$to_go" "$carried")
    echo "$plan" | tail -n +2 | sed 's/^/slots plan: /' | tee -a "$out/speed.txt"
    best=$(echo "$plan" | head -1)
    if [[ "$best" =~ ^[0-9]+$ ]]; then
      slots=(--slots-per-gpu "$best")
      say "the pipeline runs with ${slots[*]}"
    else
      say "the slots plan failed; the pipeline runs with nrun's default slots"
    fi
  fi
fi

# 5. The pipeline, within what is left less 60 s for packing up.
limit=$(( $(left) - 60 ))
[ "$limit" -gt 30 ] || fail "only ${limit}s left for the pipeline"
say "nrun $pipeline --scale $scale for at most ${limit}s"
"$nrun" "pipelines/$pipeline.yaml" --scale "$scale" --device "$device" --time-limit "$limit" \
  "${slots[@]}" "${rest[@]}"
code=$?
say "nrun exited $code (0 done, 75 stopped by the time limit and resumable)"

# 6. Results that travel.
report="results/$pipeline/report"
if [ "$code" -eq 0 ] && [ -d "$report" ]; then
  tar -czhf "$out/report.tar.gz" "$report" && say "report: $(du -h "$out/report.tar.gz" | cut -f1)"
fi

# 7. One cell both ways, with the time to spare.
if [ -n "$bf16_check" ] && [ "$code" -eq 0 ]; then
  limit=$(( $(left) - 90 ))
  if [ "$limit" -ge 90 ]; then
    say "bf16 check: $bf16_check in bf16 for at most ${limit}s"
    # shellcheck disable=SC2086
    "$nrun" "pipelines/$pipeline.yaml" --scale "$scale" --device "$device" --time-limit "$limit" \
      --set precision=bf16 $bf16_check "${slots[@]}"
    say "the bf16 check exited $?"
    for precision in f32 bf16; do
      echo "$precision: $bf16_check"
      # shellcheck disable=SC2086
      "$nrun" show "pipelines/$pipeline.yaml" --scale "$scale" --set precision=$precision $bf16_check
      echo
    done >"$out/bf16.txt" 2>&1
    cat "$out/bf16.txt"
  else
    say "bf16 check skipped: only ${limit}s to spare"
  fi
fi

used=$(du -cb "$out"/* | tail -1 | cut -f1)
budget=$(( $(numfmt --from=iec "$max_out") - used - 2 * 1048576 ))
"$nrun" export "pipelines/$pipeline.yaml" --scale "$scale" "${selection[@]}" --max-size "$budget" \
  | split -b 15M - "$out/export.part." || fail "export"
say "export: $(ls "$out"/export.part.* | wc -l) parts, $(du -ch "$out"/export.part.* | tail -1 | cut -f1)"
say "done: $(ls "$out" | tr '\n' ' ')"
exit "$code"
