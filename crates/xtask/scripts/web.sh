#!/usr/bin/env bash
# The page: build | test | bench | serve. Called by `cargo xtask`; needs the tools of
# install-tools.sh (trunk, wasm-bindgen-cli, npm binaryen + playwright-core, chromium).
#
#   web.sh build   dist/: trunk release build (wasm-release profile) + wasm-opt -Oz + CSP loader
#   web.sh browser-tests  only the wasm-bindgen-test browser tests
#   web.sh test    browser tests (wasm-bindgen-test in headless Chromium), then build + e2e
#   web.sh bench   build, then size / first render / keystroke on the page, and natively
#   web.sh serve   build and serve on http://127.0.0.1:8080
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "${root}"
# shellcheck source-path=SCRIPTDIR source=nightly.sh
source "${root}/crates/xtask/scripts/nightly.sh"
export PATH="${root}/target/node-tools/node_modules/.bin:${CARGO_HOME:-${HOME}/.cargo}/bin:${HOME}/.cargo/bin:${PATH}"

# The page's wasm is built on the pinned nightly (nightly.sh) when it has rust-src: std is rebuilt with
# panic=immediate-abort, without panic locations and with its optimize_for_size algorithms,
# which drops the panic and formatting machinery (~90 KB of wasm, ~35 KB gzip). A panic
# then traps; the loader shows the crash banner.
trunk_env() {
  local toolchain
  toolchain="$(page_nightly)"
  if [[ -n "$toolchain" ]] &&
    rustup component list --toolchain "$toolchain" --installed 2>/dev/null | grep -q '^rust-src'; then
    export RUSTUP_TOOLCHAIN="$toolchain" CARGO_UNSTABLE_BUILD_STD=std,panic_abort CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none"
  else
    echo "web.sh: no ${PAGE_NIGHTLY} with rust-src (install-tools.sh nightly): building the page on stable, ~90 KB more wasm (~35 KB more gzip)" >&2
  fi
}

build() {
  # The post_build hook in Trunk.toml (web/build/finish.mjs) runs wasm-opt -Oz and writes
  # the CSP-safe loader.
  (trunk_env && trunk build --release --cargo-profile wasm-release "$@")
}

browser_tests() {
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    CHROMEDRIVER="$(command -v chromedriver)" \
    WASM_BINDGEN_TEST_TIMEOUT=300 \
    cargo test -p cicd-access-web --target wasm32-unknown-unknown
}

case "${1:-}" in
  build)
    shift
    build "$@"
    ;;
  browser-tests)
    browser_tests
    ;;
  test)
    browser_tests
    build
    cargo test -p cicd-access-tests --test web_e2e -- --nocapture
    ;;
  bench)
    build
    node tests/web/bench.mjs dist "${RUNS:-15}"
    cargo bench -p cicd-access-web --bench regen
    ;;
  serve)
    # trunk serve builds (with the same post-build hook) before it serves.
    trunk_env
    exec trunk serve --release --cargo-profile wasm-release --address 127.0.0.1 --port 8080
    ;;
  *)
    echo "usage: $0 build|test|browser-tests|bench|serve" >&2
    exit 2
    ;;
esac
