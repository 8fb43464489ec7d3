# shellcheck shell=bash
# Sourced by install-tools.sh and web.sh: the nightly toolchain that builds the page's wasm.
# Pinned: -Cpanic=immediate-abort and std's build features are unstable and can change
# between nightlies. The machine's `nightly` is used when it is that date; otherwise the
# dated toolchain is installed beside it.
page_nightly_date="2026-05-19"

# Prints the toolchain name to use, or nothing when neither is installed.
page_nightly() {
  if rustup run "nightly-${page_nightly_date}" rustc --version >/dev/null 2>&1; then
    echo "nightly-${page_nightly_date}"
  elif rustup run nightly rustc --version 2>/dev/null | grep -qF " ${page_nightly_date})"; then
    echo "nightly"
  fi
}
