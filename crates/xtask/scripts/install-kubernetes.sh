#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager from Debian bookworm's source package
# (the only Kubernetes source reachable from the package registries) and caches them.
# The version is KUBERNETES in ../versions.env. Root is needed only to install the build's
# Debian packages; the source is fetched with a private apt state, without touching /etc/apt.
# Usage: install-kubernetes.sh [packages]   (packages: only the Debian packages, then stop)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../versions.env
source "$(dirname "$0")/../versions.env"
dest="${CICD_ACCESS_CACHE:-$HOME/.cache/cicd-access}/kubernetes-$KUBERNETES"
say() { echo "xtask: $*" >&2; }
fail() {
  echo "xtask: error: $*" >&2
  exit 1
}

if [[ -x "$dest/kube-apiserver" && -x "$dest/kube-controller-manager" ]]; then
  say "kubernetes $KUBERNETES binaries already in $dest"
  exit 0
fi

# The build's tools, and etcd for the tests. Debian's reflect2 replaces the vendored one (below).
packages=(golang-go rsync etcd-server golang-github-modern-go-reflect2-dev dpkg-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  if ((EUID != 0)); then
    fail "building kubernetes $KUBERNETES needs Debian packages: ${missing[*]}; install them as root (sudo apt-get install -y ${missing[*]}), then run this again"
  fi
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[[ "${1:-}" == packages ]] && exit 0

say "building kube-apiserver + kube-controller-manager $KUBERNETES from Debian source (~6 min, once)"
work="$(mktemp -d "${TMPDIR:-/tmp}/cicd-access-k8s.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p apt/state/lists/partial apt/cache/archives/partial
cat >apt/sources.list <<'SRC'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
SRC
apt_private=(
  -o "Dir::State=$work/apt/state" -o "Dir::Cache=$work/apt/cache"
  -o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Debug::NoLocking=1
)
apt-get -qq "${apt_private[@]}" update
apt-get -qq "${apt_private[@]}" source kubernetes >/dev/null
# Debian's 1.20.5+really1.20.2: the version after "really" is the source's.
tree="$(find . -maxdepth 1 -type d -name "kubernetes-*really$KUBERNETES" | head -n1)"
[[ -n "$tree" ]] || fail "Debian's kubernetes source is not $KUBERNETES: found $(find . -maxdepth 1 -type d -name 'kubernetes-*' -printf '%f ')"
cd "$tree"
# With Go 1.19 the vendored reflect2 1.0.1 makes the API server segfault on the first
# custom-resource request; Debian's 1.0.2 does not.
rm -rf vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2
mkdir -p .go/src/k8s.io
ln -sfn ../../.. .go/src/k8s.io/kubernetes
GOPATH="$PWD/.go" CGO_ENABLED=0 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager"
mkdir -p "$dest.tmp"
cp _output/local/bin/linux/amd64/kube-apiserver _output/local/bin/linux/amd64/kube-controller-manager "$dest.tmp/"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
say "kubernetes binaries cached in $dest"
