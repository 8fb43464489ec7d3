#!/usr/bin/env bash
# Fuzzes every parser of user input (fuzz/fuzz_targets), or replays the seeds (for the tests).
#
#   fuzz.sh run [SECONDS] [TARGET...]  each target SECONDS (default 600) on the pinned nightly
#                                      with libFuzzer + AddressSanitizer; a summary at the end
#   fuzz.sh replay                     each target once over its seeds and past findings, built
#                                      on stable without instrumentation
#
# Bounded work is part of every run: an input that takes over TIMEOUT seconds, allocates over
# MALLOC_MB at once or grows the process over RSS_MB is a finding like a panic.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "${root}"
mkdir -p target
# shellcheck source-path=SCRIPTDIR source=nightly.sh
source "${root}/crates/xtask/scripts/nightly.sh"
export PATH="${CARGO_HOME:-${HOME}/.cargo}/bin:${HOME}/.cargo/bin:${PATH}"

TIMEOUT=5
MALLOC_MB=512
RSS_MB=2048
# Inputs up to 128 KiB: deep nesting and long lines show their cost well below the 1 MiB
# limits, and larger inputs slow the search down more than they find.
MAX_LEN=131072

all_targets() {
  local file
  for file in fuzz/fuzz_targets/*.rs; do
    basename "${file}" .rs
  done
}

replay() {
  cargo build --release --locked --manifest-path fuzz/Cargo.toml
  local target inputs
  for target in $(all_targets); do
    inputs=("fuzz/seeds/${target}")
    [[ -d "fuzz/regressions/${target}" ]] && inputs+=("fuzz/regressions/${target}")
    "fuzz/target/release/${target}" -runs=0 -timeout="${TIMEOUT}" -rss_limit_mb="${RSS_MB}" \
      -malloc_limit_mb="${MALLOC_MB}" "${inputs[@]}" 2>"target/fuzz-replay-${target}.log" || {
      tail -n 30 "target/fuzz-replay-${target}.log" >&2
      echo "fuzz.sh: ${target} failed on a seed or a past finding (log: target/fuzz-replay-${target}.log)" >&2
      return 1
    }
    echo "fuzz.sh: ${target}: $(find -L "${inputs[@]}" -type f | wc -l) inputs replayed" >&2
  done
}

# The last value of libFuzzer's final statistic $2 in log $1.
stat_of() { sed -n "s/^stat::$2: *//p" "$1" | tail -n 1; }

run() {
  local seconds="${1:-600}"
  shift || true
  local targets=("$@")
  [[ ${#targets[@]} -gt 0 ]] || mapfile -t targets < <(all_targets)
  local toolchain
  toolchain="$(page_nightly)"
  if [[ -z "${toolchain}" ]]; then
    echo "fuzz.sh: no ${PAGE_NIGHTLY} toolchain: run \`cargo xtask install\` first" >&2
    return 1
  fi
  if ! cargo fuzz --version 2>/dev/null | grep -qF "cargo-fuzz ${CARGO_FUZZ}"; then
    cargo install cargo-fuzz --version "${CARGO_FUZZ}" --locked
  fi
  # Built first, so that each target's time is its fuzzing alone.
  cargo "+${toolchain}" fuzz build
  local summary="target/fuzz-summary.txt" target log started
  printf '%-14s %8s %12s %10s %8s %10s %8s  %s\n' target seconds executions "execs/s" corpus "slowest s" "rss MB" findings >"${summary}"
  for target in "${targets[@]}"; do
    log="target/fuzz-${target}.log"
    mkdir -p "fuzz/corpus/${target}"
    echo "fuzz.sh: ${target} for ${seconds}s (log: ${log})" >&2
    local status=0
    started=${SECONDS}
    cargo "+${toolchain}" fuzz run "${target}" "fuzz/corpus/${target}" "fuzz/seeds/${target}" -- \
      -max_total_time="${seconds}" -timeout="${TIMEOUT}" -rss_limit_mb="${RSS_MB}" \
      -malloc_limit_mb="${MALLOC_MB}" -max_len="${MAX_LEN}" -print_final_stats=1 \
      >"${log}" 2>&1 || status=$?
    local findings="none"
    if [[ ${status} -ne 0 ]]; then
      findings="$(grep -m1 -oE 'ERROR: libFuzzer: [a-z-]+|panicked at [^:]+:[0-9]+' "${log}" || echo "exit ${status}")"
      findings="${findings} ($(grep -m1 -oE 'fuzz/artifacts/[^ ]+' "${log}" || echo 'see log'))"
    fi
    local executions rate
    executions="$(stat_of "${log}" number_of_executed_units)"
    rate="$(stat_of "${log}" average_exec_per_sec)"
    printf '%-14s %8s %12s %10s %8s %10s %8s  %s\n' "${target}" "$((SECONDS - started))" "${executions:-?}" \
      "${rate:-?}" "$(grep -oE 'corp: [0-9]+' "${log}" | tail -n 1 | cut -d' ' -f2)" \
      "$(stat_of "${log}" slowest_unit_time_sec)" "$(stat_of "${log}" peak_rss_mb)" \
      "${findings}" >>"${summary}"
  done
  cat "${summary}"
  ! grep -qv '  none$' <(tail -n +2 "${summary}")
}

case "${1:-}" in
  run) shift; run "$@" ;;
  replay) replay ;;
  *) echo "usage: fuzz.sh run [SECONDS] [TARGET...] | replay" >&2; exit 2 ;;
esac
