#!/usr/bin/env bash
# The release artifacts, in target/dist/. Called by `cargo xtask dist` and `cargo xtask test`,
# and by .github/workflows/release.yml, which runs `build` on macOS for the macOS binaries
# (so `build` keeps to bash 3.2 and BSD tools) and `package` once, on Linux, for everything.
#
#   dist.sh build TARGET...   target/dist/bin/TARGET/kubectl-cicd[.exe]: the shipped profile (fat
#                             LTO, one codegen unit, stripped; Cargo.toml)
#   dist.sh package           one archive per target in target/dist/bin/, the page's archive
#                             (from dist/), sha256sums.txt and the krew manifest
#   dist.sh check-workflows   the Actions and workflows in .github/ and action.yml against
#                             GitHub's schemas, then zizmor's audits
#   dist.sh version           the workspace's version, which names the release (v...)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$root"
out="$root/target/dist"
# Where releases are published: the krew manifest's URIs. crates/cli/Cargo.toml's
# [package.metadata.binstall] spells the same URLs (tests/tests/dist.rs holds them equal).
repository="cicd-access/cicd-access"
# The name krew installs the plugin under: `kubectl cicd-access`. Krew's naming guide refuses
# generic words, and a bare `cicd` would claim every CI/CD plugin's name.
krew_name="cicd-access"

say() { echo "dist.sh: $*" >&2; }
fail() {
  echo "dist.sh: error: $*" >&2
  exit 1
}

workspace_version() {
  awk '/^\[workspace\.package\]/ { inside = 1; next } /^\[/ { inside = 0 }
       inside && $1 == "version" { gsub(/"/, "", $3); print $3; exit }' Cargo.toml
}

binary_name() {
  case "$1" in
    *-windows-*) echo kubectl-cicd.exe ;;
    *) echo kubectl-cicd ;;
  esac
}

build() {
  (($#)) || fail "build needs at least one target, e.g. x86_64-unknown-linux-musl"
  local target binary started
  # musl binaries are static-pie by default: no loader and no library, but a dynamic section
  # for their own relocations. Issue 22 asks for a static executable with none (readelf -d:
  # "There is no dynamic section"); the cost is that the kernel loads it at a fixed address
  # (no ASLR for the executable itself; the stack, heap and mmaps are still randomized).
  local static="-C relocation-model=static"
  for target in "$@"; do
    started=$SECONDS
    say "building kubectl-cicd for $target"
    # Cross C compilers and linkers for ring's C code (Debian's gcc-aarch64-linux-gnu and
    # mingw-w64; musl-gcc for x86_64). The aarch64 binary links Rust's own musl (self-contained),
    # so a glibc cross compiler is enough. Only this build sees these variables.
    (
      case "$target" in
        x86_64-unknown-linux-musl)
          export CC_x86_64_unknown_linux_musl=musl-gcc
          export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="$static"
          ;;
        aarch64-unknown-linux-musl)
          export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
          export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
          export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="$static"
          ;;
        x86_64-pc-windows-gnu)
          export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
          export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
          ;;
      esac
      cargo build --quiet --locked --profile shipped -p kubectl-cicd --bin kubectl-cicd --target "$target"
    )
    binary="$(binary_name "$target")"
    mkdir -p "$out/bin/$target"
    cp "target/$target/shipped/$binary" "$out/bin/$target/$binary"
    say "$target: $(wc -c <"$out/bin/$target/$binary" | tr -d ' ') bytes, $((SECONDS - started)) s"
  done
}

# The krew platform of a Rust target (krew's os and arch names: Go's).
krew_platform() {
  case "$1" in
    x86_64-unknown-linux-musl) echo "linux amd64" ;;
    aarch64-unknown-linux-musl) echo "linux arm64" ;;
    x86_64-apple-darwin) echo "darwin amd64" ;;
    aarch64-apple-darwin) echo "darwin arm64" ;;
    x86_64-pc-windows-gnu) echo "windows amd64" ;;
    *) fail "no krew platform for $1: add it to krew_platform in dist.sh" ;;
  esac
}

archive_name() {
  case "$2" in
    *-windows-*) echo "kubectl-cicd-$1-$2.zip" ;;
    *) echo "kubectl-cicd-$1-$2.tar.gz" ;;
  esac
}

# Archives are byte-for-byte reproducible: sorted names, no owners, every time the commit's.
tar_gz() {
  local archive="$1" dir="$2"
  shift 2
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    --format=gnu -C "$dir" -cf - "$@" | gzip -9n >"$archive"
}

package_target() {
  local target="$1" stage binary archive
  binary="$(binary_name "$target")"
  [[ -f "$out/bin/$target/$binary" ]] || fail "no $binary in $out/bin/$target: run dist.sh build $target first"
  stage="$(mktemp -d)"
  cp "$out/bin/$target/$binary" "$stage/$binary"
  chmod 0755 "$stage/$binary"
  cp LICENSE README.md "$stage/"
  chmod 0644 "$stage/LICENSE" "$stage/README.md"
  archive="$(archive_name "$version" "$target")"
  case "$archive" in
    *.zip)
      touch -d "@$epoch" "$stage"/*
      (cd "$stage" && TZ=UTC zip -q -X -9 "$out/$archive" "$binary" LICENSE README.md)
      ;;
    *) tar_gz "$out/$archive" "$stage" "$binary" LICENSE README.md ;;
  esac
  rm -rf "$stage"
  say "$archive"
}

# The page's bundle: site/ is dist/ as built (relative URLs, so any host and any path), beside
# the snippet that embeds it.
package_page() {
  [[ -f dist/index.html ]] || fail "no built page in dist/: build it with crates/xtask/scripts/web.sh build (cargo xtask dist does)"
  local name="cicd-access-page-$version" stage
  stage="$(mktemp -d)"
  mkdir -p "$stage/$name"
  cp -R dist "$stage/$name/site"
  [[ -f dist/embed.js ]] || fail "no embed.js in dist/: rebuild the page with crates/xtask/scripts/web.sh build"
  cat >"$stage/$name/embed-snippet.html" <<EOF
<!-- cicd-access $version: serve site/ from any path of any static host, then put this where the
     page belongs in your documentation, with both URLs pointing at that path. embed.js (in
     site/) turns the element into the compact ?embed view in a sandboxed iframe that takes the
     height of its content; spec="spec=..." (the page's "Copy embed code") prefills it, empty
     opens the defaults; the link is what readers without JavaScript get. -->
<script src="https://docs.example.com/cicd-access/embed.js" defer></script>
<cicd-access spec=""><a href="https://docs.example.com/cicd-access/">Open cicd-access</a></cicd-access>
EOF
  tar_gz "$out/$name.tar.gz" "$stage" "$name"
  rm -rf "$stage"
  say "$name.tar.gz"
}

krew_manifest() {
  local target platform os arch archive sha
  cat <<EOF
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: $krew_name
spec:
  version: v$version
  homepage: https://github.com/$repository
  shortDescription: Least-privilege kubeconfig for a CI/CD pipeline
  description: |
    Gives a push-style CI/CD pipeline (GitHub Actions, GitLab CI) a kubeconfig for one
    namespace that can do what the pipeline deploys and nothing more: a Role, a ServiceAccount,
    a RoleBinding and a token Secret, checked against your own rights before anything is
    created, then the kubeconfig, written and verified.
  caveats: |
    The kubeconfig that \`kubectl $krew_name apply\` writes holds a ServiceAccount token:
    store it only as a protected CI secret (a GitHub Actions secret, a GitLab protected
    variable), never in a repository. \`kubectl $krew_name revoke\` makes the token worthless.
  platforms:
EOF
  for target in "${targets[@]}"; do
    platform="$(krew_platform "$target")"
    os="${platform% *}"
    arch="${platform#* }"
    archive="$(archive_name "$version" "$target")"
    sha="$(sha256sum "$out/$archive" | cut -d' ' -f1)"
    cat <<EOF
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: https://github.com/$repository/releases/download/v$version/$archive
    sha256: $sha
    files:
    - from: $(binary_name "$target")
      to: .
    - from: LICENSE
      to: .
    bin: $(binary_name "$target")
EOF
  done
}

package() {
  version="$(workspace_version)"
  [[ -n "$version" ]] || fail "no version in Cargo.toml's [workspace.package]"
  # The commit's time, so a rebuild of one commit gives the same archives.
  epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
  targets=()
  local dir
  for dir in "$out"/bin/*/; do
    [[ -d "$dir" ]] && targets+=("$(basename "$dir")")
  done
  ((${#targets[@]})) || fail "no binaries in $out/bin: run dist.sh build TARGET first"
  rm -f "$out"/*.tar.gz "$out"/*.zip "$out/sha256sums.txt" "$out"/*.yaml
  local target
  for target in "${targets[@]}"; do
    package_target "$target"
  done
  package_page
  krew_manifest >"$out/$krew_name.yaml"
  (
    cd "$out"
    shopt -s nullglob
    sha256sum -- *.tar.gz *.zip >sha256sums.txt
  )
  say "wrote $out: ${targets[*]}, the page, sha256sums.txt, $krew_name.yaml"
}

check_workflows() {
  local tools="$root/target/python-tools/bin"
  [[ -x "$tools/check-jsonschema" && -x "$tools/zizmor" ]] ||
    fail "check-jsonschema and zizmor not found in target/python-tools: install them with crates/xtask/scripts/install-tools.sh workflow-checks (cargo xtask test does)"
  local workflows=(.github/workflows/*.yml) actions=(action.yml .github/actions/*/action.yml)
  "$tools/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
  "$tools/check-jsonschema" --builtin-schema vendor.github-actions "${actions[@]}"
  # Offline: its online audits ask GitHub's API, which this machine cannot reach.
  "$tools/zizmor" --offline --no-progress "${actions[@]}" "${workflows[@]}"
}

case "${1:-}" in
  build)
    shift
    build "$@"
    ;;
  package) package ;;
  check-workflows) check_workflows ;;
  version) workspace_version ;;
  *)
    echo "usage: $0 build TARGET...|package|check-workflows|version" >&2
    exit 2
    ;;
esac
