#!/usr/bin/env bash
# Installs the tools the tests and the page build need, skipping what is already there.
# Usage: install-tools.sh [apt|wasm|nightly|trunk|node|crates|all]...
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
wasm_bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' "$root/Cargo.lock")"
export DEBIAN_FRONTEND=noninteractive

say() { echo "xtask: $*" >&2; }
# shellcheck source-path=SCRIPTDIR source=nightly.sh
source "$root/crates/xtask/scripts/nightly.sh"

apt_tools() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  # The bench's first headless Chromium: what Playwright runs for headless by default.
  command -v chromium-headless-shell >/dev/null || missing+=(chromium-headless-shell)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v openssl >/dev/null || missing+=(openssl)
  if ((${#missing[@]})); then
    say "installing ${missing[*]} with apt-get"
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

wasm_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -qF " $wasm_bindgen_version"; then
    say "installing wasm-bindgen-cli $wasm_bindgen_version (~2 min, once)"
    # Not --locked: its lockfile can pin versions this registry mirror does not have.
    cargo install --quiet wasm-bindgen-cli --version "=$wasm_bindgen_version"
  fi
}

nightly_tools() {
  # The page's release build rebuilds std on a pinned nightly with panic=immediate-abort
  # (web.sh, nightly.sh): about 90 KB less wasm. Without it web.sh builds on stable.
  local toolchain
  toolchain="$(page_nightly)"
  if [[ -z "$toolchain" ]]; then
    toolchain="$page_nightly_channel"
    say "installing $toolchain with rust-src (minimal profile, once)"
    # --no-self-update: installing a toolchain must not replace the machine's rustup.
    rustup toolchain install "$toolchain" --profile minimal --component rust-src --no-self-update
  fi
  if ! rustup component list --toolchain "$toolchain" --installed | grep -q '^rust-src'; then
    say "adding rust-src to $toolchain"
    rustup component add rust-src --toolchain "$toolchain"
  fi
  # -Zbuild-std compiles std's own dependencies (library/Cargo.lock of rust-src), and Trunk
  # runs cargo --offline: they must be in cargo's cache before the page is built.
  say "fetching std's dependencies for $toolchain's -Zbuild-std"
  rustup run "$toolchain" cargo fetch --quiet \
    --manifest-path "$(rustup run "$toolchain" rustc --print sysroot)/lib/rustlib/src/rust/library/Cargo.toml"
}

trunk_tool() {
  if ! trunk --version 2>/dev/null | grep -qF "0.21.14"; then
    say "installing trunk 0.21.14 (~8 min, once; newer trunk needs a newer rustc)"
    cargo install --quiet trunk --version 0.21.14 --locked
  fi
}

node_tools() {
  # wasm-opt from npm's binaryen: Debian's is too old to read current wasm-bindgen output.
  local dir="$root/target/node-tools"
  # zopfli (wasm, no native build) deflates the page's wasm ~5% below gzip -9; esbuild
  # bundles and minifies the loader, glue and stylesheet.
  if [[ ! -x "$dir/node_modules/.bin/wasm-opt" || ! -d "$dir/node_modules/playwright-core" || ! -d "$dir/node_modules/@gfx/zopfli" || ! -x "$dir/node_modules/.bin/esbuild" ]]; then
    say "installing binaryen (wasm-opt), playwright-core, @gfx/zopfli and esbuild from npm into $dir"
    mkdir -p "$dir"
    (cd "$dir" && [[ -f package.json ]] || echo '{"private":true}' > package.json)
    (cd "$dir" && npm install --silent --no-audit --no-fund binaryen@132.0.0 playwright-core@1.65.1 @gfx/zopfli@1.0.15 esbuild@0.28.2 >/dev/null)
  fi
}

crates() {
  # Trunk builds the page with cargo --offline: the workspace's crates must be fetched first.
  say "fetching the workspace's crates"
  (cd "$root" && cargo fetch --locked --quiet)
}

targets=("$@")
((${#targets[@]})) || targets=(all)
for target in "${targets[@]}"; do
  case "$target" in
    apt) apt_tools ;;
    wasm) wasm_tools ;;
    nightly) nightly_tools ;;
    trunk) trunk_tool ;;
    node) node_tools ;;
    crates) crates ;;
    all) apt_tools; wasm_tools; nightly_tools; trunk_tool; node_tools; crates ;;
    *) say "unknown tool set $target"; exit 2 ;;
  esac
done
