//! CI snippets that use the issued kubeconfig, and the command that stores it as a secret.
//!
//! The store command is only ever shown as a hint: it is the user's to run.

use crate::derive::Deployer;
use crate::kubeconfig::DEFAULT_FILE;
use crate::spec::AccessSpec;
use crate::validate::{SpecErrors, validate_spec};

/// Name of the CI secret / variable holding the base64 kubeconfig.
pub const SECRET_NAME: &str = "KUBECONFIG_CI_CD";

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
    steps:
      - uses: actions/checkout@v4
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

/// A GitLab CI job: the kubeconfig is a protected, masked CI/CD variable (base64, so that
/// GitLab can mask it), decoded to a file only the job reads.
pub fn gitlab_ci(spec: &AccessSpec) -> Result<Snippet, SpecErrors> {
    validate_spec(spec)?;
    Ok(gitlab_ci_of(spec))
}

/// [`gitlab_ci`] of a spec already validated ([`crate::outputs::Outputs`]).
pub(crate) fn gitlab_ci_of(spec: &AccessSpec) -> Snippet {
    let ns = namespace_flag(spec);
    let deploy = deploy_command(spec, &ns);
    // Helm's image has kubectl too, for the access check.
    let image = if spec.deployer() == Deployer::Helm {
        "dtzar/helm-kubectl:latest"
    } else {
        "bitnami/kubectl:latest"
    };
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

    #[test]
    fn snippets_are_yaml() {
        let spec = PRESETS[0].spec();
        for text in [github_actions(&spec).unwrap().text, gitlab_ci(&spec).unwrap().text] {
            serde_yaml::from_str::<serde_yaml::Value>(&text).unwrap();
        }
    }
}
