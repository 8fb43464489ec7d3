#!/usr/bin/env bash
# action.yml's install step: downloads release VERSION of kubectl-cicd for this runner from
# REPOSITORY's GitHub releases, checks its sha256 (EXPECTED_SHA256, else the release's
# sha256sums.txt), unpacks it into $RUNNER_TEMP/kubectl-cicd/bin and puts that on PATH.
# Runs in the bash of every hosted runner: Linux, macOS (bash 3.2) and Windows (Git Bash).
set -euo pipefail

fail() {
  echo "::error title=kubectl-cicd action::$*"
  exit 1
}

# Checked before they go into a URL or a comparison.
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
  fail "input version '$VERSION' is not a release version such as 0.1.0 (no leading v)"
[[ "$REPOSITORY" =~ ^[0-9A-Za-z_.-]+/[0-9A-Za-z_.-]+$ ]] ||
  fail "input repository '$REPOSITORY' is not OWNER/NAME"
if [[ -n "$EXPECTED_SHA256" && ! "$EXPECTED_SHA256" =~ ^[0-9a-f]{64}$ ]]; then
  fail "input sha256 is not 64 lowercase hex digits: copy it from the release's sha256sums.txt"
fi

case "$RUNNER_OS/$RUNNER_ARCH" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  Windows/X64) target=x86_64-pc-windows-gnu ;;
  *) fail "no kubectl-cicd release for $RUNNER_OS $RUNNER_ARCH (there are Linux X64 and ARM64, macOS X64 and ARM64, Windows X64): install it with cargo install instead" ;;
esac
case "$target" in
  *-windows-*) archive="kubectl-cicd-$VERSION-$target.zip" ;;
  *) archive="kubectl-cicd-$VERSION-$target.tar.gz" ;;
esac
release="https://github.com/$REPOSITORY/releases/download/v$VERSION"

dir="$RUNNER_TEMP/kubectl-cicd"
bin="$dir/bin"
rm -rf "$dir"
mkdir -p "$bin"
download() {
  curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$2" "$1" ||
    fail "could not download $1: is v$VERSION released in $REPOSITORY?"
}
download "$release/$archive" "$dir/$archive"

if [[ -z "$EXPECTED_SHA256" ]]; then
  download "$release/sha256sums.txt" "$dir/sha256sums.txt"
  EXPECTED_SHA256="$(awk -v name="$archive" '$2 == name { print $1 }' "$dir/sha256sums.txt")"
  [[ -n "$EXPECTED_SHA256" ]] || fail "$archive is not in the release's sha256sums.txt"
fi
if command -v sha256sum >/dev/null; then
  actual="$(sha256sum "$dir/$archive" | cut -d' ' -f1)"
else
  actual="$(shasum -a 256 "$dir/$archive" | cut -d' ' -f1)"
fi
[[ "$actual" == "$EXPECTED_SHA256" ]] ||
  fail "$archive has sha256 $actual, expected $EXPECTED_SHA256: the download is not the release's archive"

case "$archive" in
  *.zip)
    if command -v unzip >/dev/null; then
      unzip -q "$dir/$archive" -d "$bin"
    else
      pwsh -NoProfile -NonInteractive -Command \
        "Expand-Archive -LiteralPath '$(cygpath -w "$dir/$archive")' -DestinationPath '$(cygpath -w "$bin")'"
    fi
    path="$(cygpath -w "$bin")"
    ;;
  *)
    tar -xzf "$dir/$archive" -C "$bin"
    path="$bin"
    ;;
esac
rm "$dir/$archive"
echo "$path" >>"$GITHUB_PATH"
"$bin/kubectl-cicd" --version
