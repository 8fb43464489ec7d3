//! The documented kubectl command sequence: as steps for the page and as one bash script.
//!
//! Every user value reaches the shell single-quoted, and the manifests travel in quoted
//! here-documents, so nothing the user typed is ever expanded or executed.

use crate::kubeconfig::{CONTEXT_NAME, DEFAULT_FILE, USER_NAME};
use crate::manifest::Document;
use crate::spec::{AccessSpec, TokenKind};
use crate::validate::SpecErrors;

/// How long the script waits for the control plane to fill the token, in seconds.
pub const TOKEN_WAIT_SECONDS: u32 = 60;
const MANIFEST_END: &str = "CICD_ACCESS_MANIFEST";

/// One step of the procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub title: String,
    /// One line: why this step is there.
    pub why: String,
    /// Shell commands; they use the variables set by the first step.
    pub command: String,
}

/// Quotes `value` for bash: single quotes, with embedded ones closed, escaped and reopened.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn apply(yaml: &str) -> String {
    format!(
        "kubectl apply --namespace \"${{NAMESPACE}}\" --filename - <<'{MANIFEST_END}'\n{yaml}{MANIFEST_END}\n"
    )
}

/// The procedure as ordered steps.
pub fn build_steps(spec: &AccessSpec) -> Result<Vec<Step>, SpecErrors> {
    Ok(crate::outputs::Outputs::build(spec)?.steps().to_vec())
}

/// [`build_steps`] for a spec whose manifests are already built and validated: `documents`
/// are `build_manifests(spec)?.documents()`. The page builds them on every keystroke, and
/// writing the YAML is most of the steps' cost.
pub fn steps_with_documents(spec: &AccessSpec, documents: &[Document]) -> Vec<Step> {
    let yaml_of = |kind: &str| {
        documents.iter().find(|d| d.kind == kind).map(|d| d.yaml.clone()).unwrap_or_default()
    };
    let mut variables = String::new();
    match &spec.namespace {
        Some(namespace) => variables.push_str(&format!("NAMESPACE={}\n", shell_quote(namespace))),
        None => variables.push_str(
            "NAMESPACE=\"$(kubectl config view --minify --output 'jsonpath={..namespace}')\"\nNAMESPACE=\"${NAMESPACE:-default}\"\n",
        ),
    }
    match spec.token {
        TokenKind::Secret => variables.push_str(&format!("SECRET={}\n", shell_quote(&spec.secret))),
        TokenKind::Bound { .. } => {
            variables
                .push_str(&format!("SERVICE_ACCOUNT={}\n", shell_quote(&spec.service_account)));
            variables.push_str(&format!("SECRET={}\n", shell_quote(&spec.secret)));
        }
        // Nothing is read back: the job's own token authenticates it.
        TokenKind::Keyless(_) => {}
    }
    if spec.token.has_service_account() {
        variables.push_str(&format!("CLUSTER_NAME={}\n", shell_quote(&spec.cluster_name)));
        match &spec.server {
            Some(server) => variables.push_str(&format!("SERVER={}\n", shell_quote(server))),
            None => variables.push_str(
                "SERVER=\"$(kubectl config view --minify --output 'jsonpath={.clusters[0].cluster.server}')\"\n",
            ),
        }
        variables.push_str(&format!("KUBECONFIG_OUT={}\n", shell_quote(DEFAULT_FILE)));
    }

    let mut steps = vec![
        Step {
            title: "Set the names".into(),
            why: "Every later command reads these variables, so the names are typed once.".into(),
            command: variables,
        },
        Step {
            title: "Check which cluster you are on".into(),
            why: "Creating a robot identity on the wrong cluster is the easiest mistake to make.".into(),
            command: "kubectl config current-context\nkubectl get nodes || echo 'note: listing nodes is forbidden to you; that is normal for a namespace tenant' >&2\n".into(),
        },
        Step {
            title: "Check the namespace".into(),
            why: "The pipeline's access is confined to this one namespace; it must exist.".into(),
            command: "echo \"namespace: ${NAMESPACE}\"\nkubectl get namespace \"${NAMESPACE}\"\n".into(),
        },
        Step {
            title: "See what you may do there".into(),
            why: "You can only grant what you hold: the Role below must be covered by this list.".into(),
            command: "kubectl auth can-i --list --namespace \"${NAMESPACE}\"\n".into(),
        },
        Step {
            title: format!("Apply the Role {}", spec.role),
            why: "Only what the pipeline deploys; apply (not create) so a re-run converges.".into(),
            command: apply(&yaml_of("Role")),
        },
    ];
    let TokenKind::Keyless(identity) = &spec.token else {
        steps.push(Step {
            title: format!("Create the ServiceAccount {}", spec.service_account),
            why: "The identity the pipeline, and only the pipeline, uses.".into(),
            command: apply(&yaml_of("ServiceAccount")),
        });
        steps.push(Step {
            title: format!("Bind the Role with the RoleBinding {}", spec.role_binding),
            why: "Grants the Role's rules to the ServiceAccount, in this namespace only.".into(),
            command: apply(&yaml_of("RoleBinding")),
        });
        token_steps(spec, &yaml_of("Secret"), &mut steps);
        return steps;
    };
    steps.push(Step {
        title: format!("Bind the Role with the RoleBinding {}", spec.role_binding),
        why: format!(
            "Grants the Role's rules, in this namespace only, to the CI jobs whose OIDC token names {}; nothing is stored to steal.",
            crate::keyless::username(identity)
        ),
        command: apply(&yaml_of("RoleBinding")),
    });
    steps
}

/// The steps that get a ServiceAccount's token and write the kubeconfig holding it.
fn token_steps(spec: &AccessSpec, secret_yaml: &str, steps: &mut Vec<Step>) {
    match &spec.token {
        // Its steps end with the RoleBinding: there is no token to read.
        TokenKind::Keyless(_) => return,
        TokenKind::Secret => {
            steps.push(Step {
                title: format!("Create the token Secret {}", spec.secret),
                why: "The control plane fills this Secret with a token, ca.crt and namespace for the ServiceAccount.".into(),
                command: apply(secret_yaml),
            });
            steps.push(Step {
                title: "Wait for the token".into(),
                why: format!("The token controller fills the Secret within seconds; give up after {TOKEN_WAIT_SECONDS} s."),
                command: format!(
                    "token=''\nfor _ in $(seq 1 {TOKEN_WAIT_SECONDS}); do\n  token=\"$(kubectl get secret \"${{SECRET}}\" --namespace \"${{NAMESPACE}}\" --output 'jsonpath={{.data.token}}')\"\n  if [[ -n \"${{token}}\" ]]; then break; fi\n  sleep 1\ndone\nif [[ -z \"${{token}}\" ]]; then\n  echo \"error: Secret ${{SECRET}} got no token within {TOKEN_WAIT_SECONDS} s; is kube-controller-manager's token controller running?\" >&2\n  exit 1\nfi\n"
                ),
            });
            steps.push(Step {
                title: "Read ca.crt, token and namespace".into(),
                why: "These three values, plus the server URL, are all a kubeconfig needs.".into(),
                command: "ca=\"$(kubectl get secret \"${SECRET}\" --namespace \"${NAMESPACE}\" --output 'jsonpath={.data.ca\\.crt}')\"\ntoken=\"$(printf '%s' \"${token}\" | base64 --decode)\"\nnamespace=\"$(kubectl get secret \"${SECRET}\" --namespace \"${NAMESPACE}\" --output 'jsonpath={.data.namespace}' | base64 --decode)\"\n".into(),
            });
        }
        TokenKind::Bound { duration } => {
            steps.push(Step {
                title: format!("Create the Secret {} the token is bound to", spec.secret),
                why: "It holds nothing; the API server accepts the token only while it exists, so deleting it revokes the token at once.".into(),
                command: apply(secret_yaml),
            });
            steps.push(Step {
                title: format!("Request a token valid for {duration}"),
                why: "A bound token from the TokenRequest API expires on its own; no long-lived credential is stored.".into(),
                command: format!(
                    "token=\"$(kubectl create token \"${{SERVICE_ACCOUNT}}\" --namespace \"${{NAMESPACE}}\" --duration {} --bound-object-kind Secret --bound-object-name \"${{SECRET}}\")\"\nnamespace=\"${{NAMESPACE}}\"\n",
                    shell_quote(&duration.to_string())
                ),
            });
            steps.push(Step {
                title: "Read the cluster's CA".into(),
                why: "The pipeline must verify the API server's certificate; take the CA your own kubeconfig trusts.".into(),
                command: "ca=\"$(kubectl config view --minify --raw --output 'jsonpath={.clusters[0].cluster.certificate-authority-data}')\"\nif [[ -z \"${ca}\" ]]; then\n  ca_file=\"$(kubectl config view --minify --output 'jsonpath={.clusters[0].cluster.certificate-authority}')\"\n  ca=\"$(base64 < \"${ca_file}\" | tr -d '\\n')\"\nfi\n".into(),
            });
        }
    }
    steps.push(Step {
        title: "Write the kubeconfig".into(),
        why: "umask 077 makes the file readable by you alone: it holds the token.".into(),
        command: format!(
            "umask 077\ncat > \"${{KUBECONFIG_OUT}}\" <<KUBECONFIG\napiVersion: v1\nkind: Config\nclusters:\n- name: '${{CLUSTER_NAME}}'\n  cluster:\n    certificate-authority-data: ${{ca}}\n    server: '${{SERVER}}'\ncontexts:\n- name: {CONTEXT_NAME}\n  context:\n    cluster: '${{CLUSTER_NAME}}'\n    namespace: '${{namespace}}'\n    user: {USER_NAME}\ncurrent-context: {CONTEXT_NAME}\nusers:\n- name: {USER_NAME}\n  user:\n    token: '${{token}}'\nKUBECONFIG\n"
        ),
    });
    steps.push(Step {
        title: "Verify the new kubeconfig".into(),
        why: "Proves the pipeline's identity works and shows exactly what it may do.".into(),
        command: "kubectl --kubeconfig \"${KUBECONFIG_OUT}\" auth can-i --list --namespace \"${namespace}\"\necho \"wrote ${KUBECONFIG_OUT}: store it as a protected CI/CD secret, then delete it here\" >&2\n".into(),
    });
}

/// What to run to get what the page's kubeconfig step takes, for the token of `spec`: the
/// filled Secret, or a bound token and the CA your own kubeconfig trusts. The names are
/// the spec's (quoted for the shell); no `--namespace` means the current one.
pub fn kubeconfig_inputs(spec: &AccessSpec) -> Vec<String> {
    let namespace = spec
        .namespace
        .as_ref()
        .map(|n| format!(" --namespace {}", shell_quote(n)))
        .unwrap_or_default();
    match &spec.token {
        TokenKind::Secret => vec![format!(
            "kubectl get secret {}{namespace} --output json",
            shell_quote(&spec.secret)
        )],
        TokenKind::Bound { duration } => vec![
            format!(
                "kubectl create token {}{namespace} --duration {} --bound-object-kind Secret --bound-object-name {}",
                shell_quote(&spec.service_account),
                shell_quote(&duration.to_string()),
                shell_quote(&spec.secret)
            ),
            CA_COMMAND.to_owned(),
        ],
        // A keyless kubeconfig holds no credential: the CA is all it takes.
        TokenKind::Keyless(_) => vec![CA_COMMAND.to_owned()],
    }
}

/// Prints the CA your own kubeconfig trusts, as `certificate-authority-data`.
const CA_COMMAND: &str = "kubectl config view --minify --raw --output 'jsonpath={.clusters[0].cluster.certificate-authority-data}'";

/// The whole procedure as one bash script.
pub fn render_script(spec: &AccessSpec) -> Result<String, SpecErrors> {
    Ok(crate::outputs::Outputs::build(spec)?.script().to_owned())
}

/// The script of steps from [`build_steps`] or [`steps_with_documents`].
pub fn script_of_steps(steps: &[Step]) -> String {
    let mut script = String::from(
        "#!/usr/bin/env bash\n# Generated by cicd-access: a least-privilege kubeconfig for one CI/CD pipeline.\n# Safe to re-run: every object is applied, not created.\nset -euo pipefail\n",
    );
    for (number, step) in steps.iter().enumerate() {
        script.push_str(&format!(
            "\n# {}. {}\n# {}\n{}",
            number + 1,
            step.title.replace('\n', " "),
            step.why,
            step.command
        ));
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::PRESETS;

    #[test]
    fn presets_golden() {
        for preset in PRESETS {
            let spec = AccessSpec { namespace: Some("demo".into()), ..preset.spec() };
            insta::assert_snapshot!(format!("{}.sh", preset.name), render_script(&spec).unwrap());
        }
    }

    #[test]
    fn bound_token_and_current_namespace_golden() {
        let spec = AccessSpec {
            token: TokenKind::Bound { duration: "24h".parse().unwrap() },
            server: Some("https://api.example.com:6443".into()),
            ..PRESETS[1].spec()
        };
        insta::assert_snapshot!(render_script(&spec).unwrap());
    }

    #[test]
    fn the_kubeconfig_inputs_name_the_access_never_a_placeholder() {
        let secret = AccessSpec { namespace: Some("demo".into()), ..PRESETS[1].spec() };
        assert_eq!(
            kubeconfig_inputs(&secret),
            ["kubectl get secret 'ci-cd' --namespace 'demo' --output json"]
        );
        let bound = AccessSpec {
            token: TokenKind::Bound { duration: "24h".parse().unwrap() },
            service_account: "deployer".into(),
            ..PRESETS[1].spec()
        };
        let inputs = kubeconfig_inputs(&bound);
        assert_eq!(
            inputs[0],
            "kubectl create token 'deployer' --duration '24h' --bound-object-kind Secret --bound-object-name 'ci-cd'"
        );
        assert!(inputs[1].contains("certificate-authority-data"));
    }

    #[test]
    fn keyless_creates_the_role_and_binding_only() {
        let spec = AccessSpec {
            namespace: Some("demo".into()),
            server: Some("https://api.example.com:6443".into()),
            token: TokenKind::Keyless(crate::spec::KeylessIdentity {
                provider: crate::spec::Provider::Github,
                repository: Some("org/app".into()),
                environment: Some("production".into()),
                ..crate::spec::KeylessIdentity::default()
            }),
            ..PRESETS[1].spec()
        };
        let script = render_script(&spec).unwrap();
        for absent in
            ["kind: ServiceAccount", "kind: Secret", "token=", "create token", "KUBECONFIG_OUT"]
        {
            assert!(!script.contains(absent), "{absent}:\n{script}");
        }
        assert!(script.contains("name: github:repo:org/app:environment:production"), "{script}");
        assert_eq!(kubeconfig_inputs(&spec), [CA_COMMAND]);
        insta::assert_snapshot!(script);
    }

    #[test]
    fn quotes_hostile_values() {
        assert_eq!(shell_quote("it's $(rm -rf /)"), r"'it'\''s $(rm -rf /)'");
    }
}
