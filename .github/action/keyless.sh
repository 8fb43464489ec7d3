#!/usr/bin/env bash
# action.yml's keyless step: the committed, secret-free kubeconfig of a keyless access (its
# user runs `kubectl-cicd token`, which the install step put on PATH) becomes KUBECONFIG for
# the job's later steps. It refuses a file that holds a credential: such a file must not be
# in the repository.
set -euo pipefail

fail() {
  echo "::error title=kubectl-cicd action::$*"
  exit 1
}

file="$KEYLESS_KUBECONFIG"
[[ "$file" = /* ]] || file="$GITHUB_WORKSPACE/$file"
[[ -f "$file" ]] || fail "input keyless-kubeconfig: $KEYLESS_KUBECONFIG is not a file in the repository (check out the code first, with actions/checkout)"
grep -q '^kind: Config' "$file" ||
  fail "input keyless-kubeconfig: $KEYLESS_KUBECONFIG is not a kubeconfig (no 'kind: Config'): commit the file kubectl cicd apply wrote for the keyless access"
grep -Eq '^[[:space:]]*(token|client-key-data|password):' "$file" &&
  fail "input keyless-kubeconfig: $KEYLESS_KUBECONFIG holds a credential; a keyless kubeconfig has none: pass a token kubeconfig through the kubeconfig input, from a secret"
grep -q 'command: kubectl-cicd' "$file" ||
  fail "input keyless-kubeconfig: $KEYLESS_KUBECONFIG does not run kubectl-cicd token: use the kubeconfig kubectl cicd apply wrote for the keyless access"
echo "KUBECONFIG=$file" >>"$GITHUB_ENV"
echo "kubeconfig=$file" >>"$GITHUB_OUTPUT"
