# shellcheck shell=bash
# Sourced by install-tools.sh and web.sh: the nightly toolchain that builds the page's wasm.
# Pinned: -Cpanic=immediate-abort and std's build features are unstable and can change
# between nightlies. The pin is the channel (the rustc in channel nightly-2026-05-20 is
# dated 2026-05-19); the machine's `nightly` is used when it is that rustc, otherwise the
# channel is installed beside it. Only rust-src is needed: the build rebuilds std
# (-Zbuild-std), so the wasm32 target's prebuilt std is not (the 2026-05-19 channel has none).
page_nightly_channel="nightly-2026-05-20"
page_nightly_rustc="(e50aa6fba 2026-05-19)"

# Prints the toolchain name to use, or nothing when neither is installed.
page_nightly() {
  if rustup run "$page_nightly_channel" rustc --version >/dev/null 2>&1; then
    echo "$page_nightly_channel"
  elif rustup run nightly rustc --version 2>/dev/null | grep -qF " $page_nightly_rustc"; then
    echo "nightly"
  fi
}
