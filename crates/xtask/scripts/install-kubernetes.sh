#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager 1.20.2 from Debian bookworm's source
# package (the only Kubernetes source reachable from the package registries) and caches them.
set -euo pipefail

dest="${CICD_ACCESS_CACHE:-$HOME/.cache/cicd-access}/kubernetes-1.20.2"
if [[ -x "$dest/kube-apiserver" && -x "$dest/kube-controller-manager" ]]; then
  echo "xtask: kubernetes 1.20.2 binaries already in $dest"
  exit 0
fi

echo "xtask: building kube-apiserver + kube-controller-manager 1.20.2 from Debian source (~6 min, once)"
export DEBIAN_FRONTEND=noninteractive
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  cat > /etc/apt/sources.list.d/cicd-access-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq golang-go rsync etcd-server golang-github-modern-go-reflect2-dev dpkg-dev >/dev/null

work="$(mktemp -d "${TMPDIR:-/tmp}/cicd-access-k8s.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq kubernetes >/dev/null
tree="$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
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
echo "xtask: kubernetes binaries cached in $dest"
