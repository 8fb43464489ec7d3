#!/usr/bin/env bash
# action.yml's kubeconfig step: decodes the base64 kubeconfig of the `kubeconfig` input into a
# file only this job's user can read (0600; on Windows, where Git Bash's chmod changes nothing,
# the file has the ACL of $RUNNER_TEMP), masks its token in the logs and exports KUBECONFIG.
# Nothing of the kubeconfig is ever printed, not even in an error.
set -euo pipefail

fail() {
  echo "::error title=kubectl-cicd action::$*"
  exit 1
}

dir="$RUNNER_TEMP/kubectl-cicd"
file="$dir/kubeconfig"
mkdir -p "$dir"
umask 077
rm -f "$file"
if ! printf '%s' "$KUBECONFIG_BASE64" | tr -d ' \r\n' | base64 -d >"$file" 2>/dev/null; then
  rm -f "$file"
  fail "input kubeconfig is not base64: store \`base64 -w0 kubeconfig_ci_cd.yaml\` (macOS: base64 -i) as the secret"
fi
chmod 0600 "$file"
if ! grep -q '^kind: Config' "$file"; then
  rm -f "$file"
  fail "input kubeconfig decodes to something that is not a kubeconfig (no 'kind: Config'): store the base64 of the file kubectl cicd apply wrote"
fi
# GitHub masks the secret as given, not what it decodes to: the token would show in any log
# line that prints it (kubectl -v=9, a debug step).
sed -n 's/^[[:space:]]*token:[[:space:]]*//p' "$file" | tr -d "\"'" | while IFS= read -r token; do
  [[ -z "$token" ]] || echo "::add-mask::$token"
done
echo "KUBECONFIG=$file" >>"$GITHUB_ENV"
echo "kubeconfig=$file" >>"$GITHUB_OUTPUT"
