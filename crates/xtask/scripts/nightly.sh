# shellcheck shell=bash
# Sourced by install-tools.sh and web.sh: the nightly toolchain that builds the page's wasm.
# Pinned in versions.env: -Cpanic=immediate-abort and std's build features are unstable and
# can change between nightlies. The machine's `nightly` is used when it is that rustc,
# otherwise the channel is installed beside it. Only rust-src is needed: the build rebuilds
# std (-Zbuild-std), so the wasm32 target's prebuilt std is not.
# shellcheck source-path=SCRIPTDIR source=../versions.env
source "$(dirname "${BASH_SOURCE[0]}")/../versions.env"

# Prints the toolchain name to use, or nothing when neither is installed.
page_nightly() {
  if rustup run "$PAGE_NIGHTLY" rustc --version >/dev/null 2>&1; then
    echo "$PAGE_NIGHTLY"
  elif rustup run nightly rustc --version 2>/dev/null | grep -qF "($PAGE_NIGHTLY_RUSTC)"; then
    echo "nightly"
  fi
}
