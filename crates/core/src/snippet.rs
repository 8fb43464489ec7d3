//! CI snippets that use the issued kubeconfig, and the command that stores it as a secret.
//!
//! The store command is only ever shown as a hint: it is the user's to run.

use crate::derive::Deployer;
use crate::keyless::ID_TOKEN_VARIABLE;
use crate::kubeconfig::DEFAULT_FILE;
use crate::spec::{AccessSpec, KeylessIdentity, Provider, TokenKind};
use crate::validate::{SpecErrors, validate_spec};

/// Name of the CI secret / variable holding the base64 kubeconfig.
pub const SECRET_NAME: &str = "KUBECONFIG_CI_CD";
/// Where a keyless access's kubeconfig is committed: it holds no secret. Not under
/// `deploy/`, which the pipeline applies.
pub const KEYLESS_KUBECONFIG: &str = ".kube/kubeconfig_ci_cd.yaml";
/// `actions/checkout` v4.2.2, pinned by commit: a tag can be moved to other code.
pub const CHECKOUT: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2";
/// The kubectl-cicd release the keyless snippets install: this build's own.
const RELEASE: &str = env!("CARGO_PKG_VERSION");

/// `value` as a YAML (and JSON) double-quoted scalar, whatever it holds.
fn quoted(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The branch or tag a ref names, and whether it is a tag.
fn ref_target(identity: &KeylessIdentity) -> (&str, bool) {
    let git_ref = identity.git_ref.as_deref().unwrap_or("refs/heads/main");
    match git_ref.strip_prefix("refs/tags/") {
        Some(tag) => (tag, true),
        None => (git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref), false),
    }
}

/// Shell lines that install this release of kubectl-cicd, checked against the release's
/// sha256sums.txt, by `install_command` (it ends with the binary's destination).
fn install_lines(install_command: &str) -> [String; 5] {
    [
        format!("base=https://github.com/cicd-access/cicd-access/releases/download/v{RELEASE}"),
        format!("archive=kubectl-cicd-{RELEASE}-x86_64-unknown-linux-musl.tar.gz"),
        "curl -fsSLO \"${base}/${archive}\" && curl -fsSL \"${base}/sha256sums.txt\" | sha256sum --check --ignore-missing".to_owned(),
        "tar -xzf \"${archive}\" kubectl-cicd".to_owned(),
        install_command.to_owned(),
    ]
}

/// A CI configuration fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// Where it goes in the repository.
    pub path: &'static str,
    pub text: String,
    /// The command that stores the kubeconfig as a protected secret (never run for you).
    pub store_hint: String,
}

fn namespace_flag(spec: &AccessSpec) -> String {
    spec.namespace.as_ref().map(|ns| format!(" --namespace {ns}")).unwrap_or_default()
}

/// The pipeline's deploy command, as the spec's deployer runs it: a folder of manifests for
/// kubectl, a chart for Helm (the release and chart are the user's to fill in).
fn deploy_command(spec: &AccessSpec, ns: &str) -> String {
    match spec.deployer() {
        Deployer::Apply => format!("kubectl apply{ns} --filename deploy/"),
        Deployer::ServerSide => format!("kubectl apply --server-side{ns} --filename deploy/"),
        Deployer::Helm => format!("helm upgrade --install my-app ./chart{ns}"),
    }
}

/// A GitHub Actions workflow: the kubeconfig is an environment secret, decoded to
/// `~/.kube/config` with mode 0400, as the documented example does.
pub fn github_actions(spec: &AccessSpec) -> Result<Snippet, SpecErrors> {
    validate_spec(spec)?;
    Ok(github_actions_of(spec))
}

/// [`github_actions`] of a spec already validated ([`crate::outputs::Outputs`]).
pub(crate) fn github_actions_of(spec: &AccessSpec) -> Snippet {
    if let TokenKind::Keyless(identity) = &spec.token {
        return match identity.provider {
            Provider::Github => github_keyless(spec, identity),
            Provider::Gitlab | Provider::Custom => {
                other_provider(identity, ".github/workflows/deploy.yaml", "GitHub Actions")
            }
        };
    }
    let ns = namespace_flag(spec);
    let deploy = deploy_command(spec, &ns);
    let text = format!(
        r#"name: deploy
on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    # An environment secret: only jobs of this environment (with its protection rules) see it.
    environment: production
    # The job's GITHUB_TOKEN may read the code and nothing else.
    permissions:
      contents: read
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - name: Install the kubeconfig
        env:
          {SECRET_NAME}: ${{{{ secrets.{SECRET_NAME} }}}}
        run: |
          mkdir -p ~/.kube
          printf '%s' "${{{SECRET_NAME}}}" | base64 --decode > ~/.kube/config
          chmod 0400 ~/.kube/config
      - name: Check the access
        run: kubectl auth can-i --list{ns}
      - name: Deploy
        run: {deploy}
"#
    );
    Snippet {
        path: ".github/workflows/deploy.yaml",
        text,
        store_hint: format!(
            "base64 -w0 {DEFAULT_FILE} | gh secret set {SECRET_NAME} --env production && rm {DEFAULT_FILE}"
        ),
    }
}

/// The snippet of a CI whose tokens the keyless access does not admit: a YAML comment that
/// says so, rather than a job that could only be refused.
fn other_provider(identity: &KeylessIdentity, path: &'static str, ci: &str) -> Snippet {
    let text = match identity.provider {
        Provider::Custom => format!(
            "# This access admits the tokens of a custom issuer, not of {ci} as such: the job must put its\n# ID token into ${ID_TOKEN_VARIABLE}, which `kubectl-cicd token --provider env` reads.\n"
        ),
        provider => format!(
            "# This access admits {} jobs only (token.provider: {}): a {ci} job's token names\n# another identity, which the RoleBinding does not admit.\n",
            if provider == Provider::Github { "GitHub Actions" } else { "GitLab CI" },
            provider.as_str()
        ),
    };
    Snippet { path, text, store_hint: keyless_store_hint() }
}

/// How a keyless kubeconfig reaches the repository: committed, since it holds no secret.
fn keyless_store_hint() -> String {
    format!(
        "mkdir -p .kube && mv {DEFAULT_FILE} {KEYLESS_KUBECONFIG} && git add {KEYLESS_KUBECONFIG}  # no secret in it: commit it"
    )
}

/// The keyless workflow: the job asks GitHub for its OIDC token (`id-token: write`) each
/// time kubectl runs the committed kubeconfig's exec plugin.
fn github_keyless(spec: &AccessSpec, identity: &KeylessIdentity) -> Snippet {
    let ns = namespace_flag(spec);
    let deploy = deploy_command(spec, &ns);
    let (target, tag) = ref_target(identity);
    let trigger = if tag { "tags" } else { "branches" };
    // The job's environment is what its token's sub names, so it must be exactly the
    // spec's; with a ref instead, a job environment would change the sub and lock it out.
    let environment = match &identity.environment {
        Some(name) => format!(
            "    # The token's sub names this environment: the RoleBinding admits its jobs only.\n    environment: {}\n",
            quoted(name)
        ),
        None => "    # No environment: the token's sub then names the ref, which the RoleBinding admits.\n".to_owned(),
    };
    let install = install_lines("sudo install -m 0755 kubectl-cicd /usr/local/bin/kubectl-cicd")
        .map(|line| format!("          {line}\n"))
        .concat();
    let text = format!(
        r"name: deploy
on:
  push:
    {trigger}: [{target}]
jobs:
  deploy:
    runs-on: ubuntu-latest
{environment}    # id-token: write lets the job request its OIDC token; GITHUB_TOKEN reads the code only.
    permissions:
      contents: read
      id-token: write
    env:
      # Committed: it holds no token, only `kubectl-cicd token` to fetch the job's own.
      KUBECONFIG: {KEYLESS_KUBECONFIG}
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - name: Install kubectl-cicd
        run: |
{install}      - name: Check the access
        run: kubectl auth can-i --list{ns}
      - name: Deploy
        run: {deploy}
",
        target = quoted(target),
    );
    Snippet { path: ".github/workflows/deploy.yaml", text, store_hint: keyless_store_hint() }
}

/// The job's image: Helm's has kubectl too, for the access check.
fn image(spec: &AccessSpec) -> &'static str {
    if spec.deployer() == Deployer::Helm {
        "dtzar/helm-kubectl:latest"
    } else {
        "bitnami/kubectl:latest"
    }
}

/// The keyless job: GitLab puts an ID token for the audience into [`ID_TOKEN_VARIABLE`]
/// (`id_tokens:`), which the committed kubeconfig's exec plugin hands to kubectl.
fn gitlab_keyless(spec: &AccessSpec, identity: &KeylessIdentity) -> Snippet {
    let ns = namespace_flag(spec);
    let deploy = deploy_command(spec, &ns);
    let (target, tag) = ref_target(identity);
    let variable = if tag { "CI_COMMIT_TAG" } else { "CI_COMMIT_BRANCH" };
    let audience = crate::keyless::audience(identity, spec).unwrap_or_default();
    // GitLab's sub names no environment; the authenticator's rule on the claim holds it.
    let environment = identity
        .environment
        .as_ref()
        .map(|name| format!("  environment: {}\n", quoted(name)))
        .unwrap_or_default();
    // The kubectl images run as a user who cannot write /usr/local/bin: a directory of the
    // job's own, on PATH, where kubectl looks for exec plugins.
    let install = install_lines(
        "install -D -m 0755 kubectl-cicd \"$CI_PROJECT_DIR/.bin/kubectl-cicd\" && export PATH=\"$CI_PROJECT_DIR/.bin:$PATH\"",
    )
    .map(|line| format!("    - {line}\n"))
    .concat();
    let text = format!(
        r#"deploy:
  stage: deploy
  image:
    name: {image}
    entrypoint: [""]
  # The token's sub names the ref: the RoleBinding admits this one's jobs only.
  rules:
    - if: ${variable} == {target}
{environment}  id_tokens:
    {ID_TOKEN_VARIABLE}:
      aud: {audience}
  script:
{install}    # Committed: it holds no token, only `kubectl-cicd token` to read the job's own.
    - export KUBECONFIG="$CI_PROJECT_DIR/{KEYLESS_KUBECONFIG}"
    - kubectl auth can-i --list{ns}
    - {deploy}
"#,
        image = image(spec),
        target = quoted(target),
        audience = quoted(audience),
    );
    Snippet { path: ".gitlab-ci.yml", text, store_hint: keyless_store_hint() }
}

/// A GitLab CI job: the kubeconfig is a protected, masked CI/CD variable (base64, so that
/// GitLab can mask it), decoded to a file only the job reads.
pub fn gitlab_ci(spec: &AccessSpec) -> Result<Snippet, SpecErrors> {
    validate_spec(spec)?;
    Ok(gitlab_ci_of(spec))
}

/// [`gitlab_ci`] of a spec already validated ([`crate::outputs::Outputs`]).
pub(crate) fn gitlab_ci_of(spec: &AccessSpec) -> Snippet {
    if let TokenKind::Keyless(identity) = &spec.token {
        return match identity.provider {
            Provider::Gitlab => gitlab_keyless(spec, identity),
            Provider::Github | Provider::Custom => {
                other_provider(identity, ".gitlab-ci.yml", "GitLab CI")
            }
        };
    }
    let ns = namespace_flag(spec);
    let deploy = deploy_command(spec, &ns);
    // Helm's image has kubectl too, for the access check.
    let image = image(spec);
    let text = format!(
        r#"deploy:
  stage: deploy
  image:
    name: {image}
    entrypoint: [""]
  # Protected variables reach pipelines of protected branches only.
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - umask 077
    - printf '%s' "${SECRET_NAME}" | base64 -d > "$CI_PROJECT_DIR/.kubeconfig"
    - export KUBECONFIG="$CI_PROJECT_DIR/.kubeconfig"
    - kubectl auth can-i --list{ns}
    - {deploy}
"#
    );
    Snippet {
        path: ".gitlab-ci.yml",
        text,
        store_hint: format!(
            "curl --request POST --header \"PRIVATE-TOKEN: $GITLAB_TOKEN\" \"https://gitlab.example.com/api/v4/projects/PROJECT_ID/variables\" --form key={SECRET_NAME} --form \"value=$(base64 -w0 {DEFAULT_FILE})\" --form protected=true --form masked=true && rm {DEFAULT_FILE}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::PRESETS;

    #[test]
    fn golden() {
        let spec = AccessSpec { namespace: Some("demo".into()), ..PRESETS[0].spec() };
        let github = github_actions(&spec).unwrap();
        let gitlab = gitlab_ci(&spec).unwrap();
        insta::assert_snapshot!(format!("{}\n# store: {}\n", github.text, github.store_hint));
        insta::assert_snapshot!(format!("{}\n# store: {}\n", gitlab.text, gitlab.store_hint));
    }

    #[test]
    fn the_snippets_deploy_as_the_spec_says() {
        let mut spec = PRESETS[1].spec();
        for (deployer, command) in [
            (None, "kubectl apply --filename deploy/"),
            (Some(Deployer::ServerSide), "kubectl apply --server-side --filename deploy/"),
            (Some(Deployer::Helm), "helm upgrade --install my-app ./chart"),
        ] {
            spec.deployer = deployer;
            assert!(github_actions(&spec).unwrap().text.contains(&format!("run: {command}\n")));
            assert!(gitlab_ci(&spec).unwrap().text.contains(&format!("- {command}\n")));
        }
        assert!(gitlab_ci(&spec).unwrap().text.contains("helm-kubectl"));
    }

    fn keyless(identity: KeylessIdentity) -> AccessSpec {
        AccessSpec {
            namespace: Some("demo".into()),
            server: Some("https://api.example.com:6443".into()),
            token: TokenKind::Keyless(identity),
            ..PRESETS[0].spec()
        }
    }

    fn github_identity(git_ref: Option<&str>, environment: Option<&str>) -> KeylessIdentity {
        KeylessIdentity {
            repository: Some("org/app".into()),
            git_ref: git_ref.map(Into::into),
            environment: environment.map(Into::into),
            ..KeylessIdentity::default()
        }
    }

    fn gitlab_identity() -> KeylessIdentity {
        KeylessIdentity {
            provider: Provider::Gitlab,
            project: Some("group/app".into()),
            git_ref: Some("refs/tags/v1".into()),
            environment: Some("production".into()),
            ..KeylessIdentity::default()
        }
    }

    fn every_spec() -> Vec<AccessSpec> {
        let spec = AccessSpec { namespace: Some("demo".into()), ..PRESETS[0].spec() };
        vec![
            spec.clone(),
            AccessSpec { token: TokenKind::Bound { duration: "24h".parse().unwrap() }, ..spec },
            keyless(github_identity(Some("refs/heads/main"), None)),
            keyless(github_identity(None, Some("production"))),
            keyless(gitlab_identity()),
        ]
    }

    #[test]
    fn keyless_golden() {
        for (name, spec) in [
            ("keyless_github_ref", keyless(github_identity(Some("refs/heads/main"), None))),
            ("keyless_github_environment", keyless(github_identity(None, Some("production")))),
            ("keyless_gitlab", keyless(gitlab_identity())),
        ] {
            let snippet = match spec.token {
                TokenKind::Keyless(KeylessIdentity { provider: Provider::Gitlab, .. }) => {
                    gitlab_ci(&spec)
                }
                _ => github_actions(&spec),
            }
            .unwrap();
            insta::assert_snapshot!(
                name,
                format!("{}\n# store: {}\n", snippet.text, snippet.store_hint)
            );
        }
    }

    #[test]
    fn keyless_snippets_carry_no_secret_and_ask_for_the_token() {
        let github =
            github_actions(&keyless(github_identity(Some("refs/heads/main"), None))).unwrap().text;
        assert!(!github.contains("secrets.") && !github.contains("    environment:"), "{github}");
        assert!(
            github.contains("      id-token: write\n") && github.contains("branches: [\"main\"]"),
            "{github}"
        );
        let environment =
            github_actions(&keyless(github_identity(None, Some("production")))).unwrap().text;
        assert!(environment.contains("    environment: \"production\"\n"), "{environment}");
        let gitlab = gitlab_ci(&keyless(gitlab_identity())).unwrap().text;
        assert!(gitlab.contains("  id_tokens:\n    CICD_ACCESS_ID_TOKEN:\n      aud: \"https://api.example.com:6443\"\n"), "{gitlab}");
        assert!(
            gitlab.contains("- if: $CI_COMMIT_TAG == \"v1\"\n") && !gitlab.contains(SECRET_NAME),
            "{gitlab}"
        );
    }

    /// What a GitHub Actions linter (zizmor) asks of every workflow: least permissions,
    /// actions pinned by commit, checkout without persisted credentials.
    #[test]
    fn every_github_workflow_is_hardened() {
        for spec in every_spec() {
            if matches!(&spec.token, TokenKind::Keyless(identity) if identity.provider != Provider::Github)
            {
                continue;
            }
            let text = github_actions(&spec).unwrap().text;
            let workflow: serde_json::Value = serde_yaml::from_str(&text).unwrap();
            let job = &workflow["jobs"]["deploy"];
            let keyless = matches!(spec.token, TokenKind::Keyless(_));
            let mut permissions = serde_json::json!({"contents": "read"});
            if keyless {
                permissions["id-token"] = "write".into();
            }
            assert_eq!(job["permissions"], permissions, "{text}");
            for step in job["steps"].as_array().unwrap() {
                if let Some(action) = step["uses"].as_str() {
                    let (_, pin) = action.split_once('@').unwrap();
                    assert!(
                        pin.len() == 40 && pin.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{action}"
                    );
                    assert_eq!(step["with"]["persist-credentials"], false, "{text}");
                }
            }
            assert!(text.contains(&format!("uses: {CHECKOUT}\n")), "the version comment: {text}");
        }
    }

    #[test]
    fn another_providers_snippet_says_it_cannot_deploy() {
        let gitlab_for_github =
            gitlab_ci(&keyless(github_identity(Some("refs/heads/main"), None))).unwrap();
        assert!(
            gitlab_for_github.text.lines().all(|line| line.starts_with('#')),
            "{}",
            gitlab_for_github.text
        );
        assert!(gitlab_for_github.text.contains("token.provider: github"));
    }

    #[test]
    fn snippets_are_yaml() {
        for spec in every_spec() {
            for text in [github_actions(&spec).unwrap().text, gitlab_ci(&spec).unwrap().text] {
                serde_yaml::from_str::<serde_yaml::Value>(&text).unwrap();
            }
        }
    }
}
