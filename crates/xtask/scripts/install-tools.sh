#!/usr/bin/env bash
# Installs the tools the tests and the page build need, skipping what is already there.
# Versions come from ../versions.env. A piece this script cannot install (it is not root,
# or the piece is not in a registry) stops it with one line that names the piece and the fix.
# Usage: install-tools.sh [prereqs|apt|wasm|nightly|trunk|node|crates|all|musl|cross|workflow-checks]...
# (musl, cross and workflow-checks are the release artifacts' tools: not in `all`; `cargo xtask
# test` installs musl and workflow-checks, `cargo xtask dist` musl and cross.)
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
wasm_bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' "$root/Cargo.lock")"
export DEBIAN_FRONTEND=noninteractive
# What `cargo install` puts in $CARGO_HOME/bin (trunk, wasm-bindgen) is checked right after.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$HOME/.cargo/bin:$PATH"

say() { echo "xtask: $*" >&2; }
fail() {
  echo "xtask: error: $*" >&2
  exit 1
}
# shellcheck source-path=SCRIPTDIR source=nightly.sh
source "$root/crates/xtask/scripts/nightly.sh"

# Installs Debian packages, or says which and how when this is not root.
apt_install() {
  if ((EUID != 0)); then
    fail "missing Debian packages: $*; install them as root (sudo apt-get install -y $*), then run this again"
  fi
  say "installing $* with apt-get"
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

# What no registry here provides, checked before anything is installed.
prereqs() {
  command -v rustup >/dev/null || fail "rustup not found: install Rust with rustup (https://rustup.rs)"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    fail "node and npm not found: install Node.js 20+ (apt-get install nodejs npm)"
  fi
  local version
  version="$(kubectl version --client -o json 2>/dev/null |
    sed -n 's/.*"gitVersion": *"v\([0-9]*\.[0-9]*\).*/\1/p')" ||
    true
  if [[ -z "$version" ]]; then
    fail "kubectl not found: the tests need kubectl >= $KUBECTL_MIN; install it (https://kubernetes.io/docs/tasks/tools/)"
  fi
  if ! printf '%s\n%s\n' "$KUBECTL_MIN" "$version" | sort -C -V; then
    fail "kubectl $version is too old: the tests need kubectl >= $KUBECTL_MIN (kubectl create token); Debian 12's package is 1.20: install a current kubectl (https://kubernetes.io/docs/tasks/tools/)"
  fi
}

apt_tools() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  # The bench's first headless Chromium: what Playwright runs for headless by default.
  command -v chromium-headless-shell >/dev/null || missing+=(chromium-headless-shell)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v openssl >/dev/null || missing+=(openssl)
  # The benches read peak memory from GNU time.
  [[ -x /usr/bin/time ]] || missing+=(time)
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
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
  # The page's release build rebuilds std on the pinned nightly with panic=immediate-abort
  # (web.sh, nightly.sh): about 90 KB less wasm.
  local toolchain
  toolchain="$(page_nightly)"
  if [[ -z "$toolchain" ]]; then
    toolchain="$PAGE_NIGHTLY"
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
  say "fetching std's crates for $toolchain's -Zbuild-std"
  rustup run "$toolchain" cargo fetch --quiet \
    --manifest-path "$(rustup run "$toolchain" rustc --print sysroot)/lib/rustlib/src/rust/library/Cargo.toml"
}

trunk_tool() {
  if ! trunk --version 2>/dev/null | grep -qF " $TRUNK"; then
    say "installing trunk $TRUNK (~3 min, once)"
    # Trunk's own release profile is fat LTO in one codegen unit at opt-level 3: ~8 min on two
    # cores for a tool that mostly waits for cargo and runs wasm-bindgen-cli (built apart).
    # Config profiles override the package's.
    CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
      cargo install --quiet trunk --version "$TRUNK" --locked
  fi
}

node_tools() {
  local dir="$root/target/node-tools"
  local packages=(
    "binaryen@$NPM_BINARYEN" "playwright-core@$NPM_PLAYWRIGHT_CORE"
    "@gfx/zopfli@$NPM_ZOPFLI" "esbuild@$NPM_ESBUILD" "axe-core@$NPM_AXE_CORE"
  )
  # One list of what is installed, compared with the pins: a changed pin reinstalls.
  if [[ "$(cat "$dir/installed" 2>/dev/null)" != "${packages[*]}" ]]; then
    say "installing ${packages[*]} from npm into $dir"
    mkdir -p "$dir"
    [[ -f "$dir/package.json" ]] || echo '{"private":true}' >"$dir/package.json"
    (cd "$dir" && npm install --silent --no-audit --no-fund "${packages[@]}" >/dev/null)
    echo "${packages[*]}" >"$dir/installed"
  fi
}

crates() {
  # Trunk builds the page with cargo --offline: the workspace's crates must be fetched first.
  say "fetching the workspace's crates"
  (cd "$root" && cargo fetch --locked --quiet)
}

# Adds the Rust targets that are not installed yet.
rust_targets() {
  local target
  for target in "$@"; do
    if ! rustup target list --installed | grep -qx "$target"; then
      say "adding the $target target"
      rustup target add "$target"
    fi
  done
}

# The static Linux x86_64 binary: ring's C code is compiled with Debian's musl-gcc.
musl_tools() {
  command -v musl-gcc >/dev/null || apt_install musl-tools
  rust_targets x86_64-unknown-linux-musl
}

# The other release binaries Debian can cross-build: Linux aarch64 (its glibc cross gcc compiles
# ring and links Rust's self-contained musl) and Windows x86_64 (mingw-w64); zip for Windows'
# archive, qemu-user to run the aarch64 binary here.
cross_tools() {
  local missing=()
  command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
  command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
  command -v zip >/dev/null || missing+=(zip)
  command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
  fi
  rust_targets aarch64-unknown-linux-musl x86_64-pc-windows-gnu
}

# check-jsonschema and zizmor (PyPI) check action.yml and the workflows: a venv in
# target/python-tools, since Debian's pip refuses to install into the system.
workflow_checks() {
  local dir="$root/target/python-tools"
  local packages=("check-jsonschema==$PYPI_CHECK_JSONSCHEMA" "zizmor==$PYPI_ZIZMOR")
  if [[ "$(cat "$dir/installed" 2>/dev/null)" != "${packages[*]}" ]]; then
    if ! python3 -c 'import ensurepip' 2>/dev/null; then
      apt_install python3-venv
    fi
    say "installing ${packages[*]} from PyPI into $dir"
    python3 -m venv --clear "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"
    echo "${packages[*]}" >"$dir/installed"
  fi
}

targets=("$@")
((${#targets[@]})) || targets=(all)
for target in "${targets[@]}"; do
  case "$target" in
    prereqs) prereqs ;;
    apt) apt_tools ;;
    wasm) wasm_tools ;;
    nightly) nightly_tools ;;
    trunk) trunk_tool ;;
    node) node_tools ;;
    crates) crates ;;
    all) prereqs; apt_tools; wasm_tools; nightly_tools; trunk_tool; node_tools; crates ;;
    musl) musl_tools ;;
    cross) cross_tools ;;
    workflow-checks) workflow_checks ;;
    *) fail "unknown tool set $target" ;;
  esac
done
