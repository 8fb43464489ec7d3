//! `kubectl cicd check` of a keyless access (issue 20) on a control plane whose
//! kube-apiserver trusts the harness's OIDC issuer: what it says with no kube-apiserver pod
//! to read (a managed control plane), to a tenant who may not list pods in kube-system, and
//! once a pod named and labelled like kubeadm's mirror of the static pod shows the API
//! server's real command line: configured for the access, or which flag differs. The
//! verdicts are held against what the API server does with the jobs' tokens.

mod cli_support;

use std::fs;
use std::time::Duration;

use cicd_access_core::Provider;
use cicd_access_core::keyless::username_prefix;
use cicd_access_tests::{Component, ControlPlane, GithubJob, Kubectl, OidcIssuer, poll};
use cli_support::{cicd, expect_code};
use serde_json::json;

const AUDIENCE: &str = "https://kubernetes.cicd-access.test";
const USER: &str = "github:repo:org/app:ref:refs/heads/main";
const POD: &str = "kube-apiserver-control-plane";

/// A keyless access for `repository` on `main`, trusting `issuer`.
fn spec(namespace: &str, server: &str, issuer: &str, repository: &str) -> String {
    format!(
        "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: {namespace}\nserver: {server}\n\
         token:\n  kind: keyless\n  provider: github\n  repository: {repository}\n  ref: refs/heads/main\n  issuer: {issuer}\n  audience: {AUDIENCE}\n\
         rules:\n- apiGroups: ['']\n  resources: [configmaps]\n  verbs: [get, list, create]\n"
    )
}

/// The pod kubeadm's kubelet mirrors from /etc/kubernetes/manifests/kube-apiserver.yaml,
/// with `command_line` as its container's command. No kubelet runs here: it stays Pending.
fn mirror_pod(command_line: &[String]) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": POD,
            "namespace": "kube-system",
            "labels": {"component": "kube-apiserver", "tier": "control-plane"},
        },
        "spec": {
            "nodeName": "control-plane",
            "priorityClassName": "system-node-critical",
            "automountServiceAccountToken": false,
            "containers": [{
                "name": "kube-apiserver",
                "image": "k8s.gcr.io/kube-apiserver:v1.20.2",
                "command": command_line,
            }],
        },
    })
    .to_string()
}

fn check(kubectl: &Kubectl, dir: &std::path::Path, file: &str) -> cicd_access_tests::Output {
    let out = cicd(kubectl, dir, &["check", "-f", file]);
    // A verdict on the authenticator is a note: the Role and RoleBinding can be created.
    expect_code(&out, 0, &format!("check -f {file}"));
    out
}

/// `auth can-i create configmaps` with `token` as the bearer: "yes", "no", or the error.
fn can_create_with(admin: &Kubectl, token: &str) -> String {
    let out = admin.run(&["--token", token, "auth", "can-i", "create", "configmaps"]);
    if out.success() || out.stdout.trim() == "no" {
        out.stdout.trim().to_owned()
    } else {
        out.stderr
    }
}

#[test]
fn check_tells_whether_the_api_server_trusts_the_access_where_its_pod_shows_it() {
    let issuer = OidcIssuer::start();
    let mut flags = issuer.api_server_flags(AUDIENCE, username_prefix(Provider::Github));
    flags.push("--oidc-required-claim=repository=org/app".to_owned());
    flags.push("--oidc-required-claim=ref=refs/heads/main".to_owned());
    let cluster = ControlPlane::start_with_args(&flags);
    issuer.wait_until_trusted_by(&cluster, AUDIENCE);
    let namespace = cluster.namespace();
    let dir = namespace.dir();
    let admin = namespace.admin();
    let write = |file: &str, issuer_url: &str, repository: &str| {
        let text = spec(namespace.name(), cluster.server(), issuer_url, repository);
        fs::write(dir.join(file), text).unwrap();
    };
    write("keyless.yaml", issuer.url(), "org/app");

    // (a) No kube-apiserver pod, as on a managed control plane: it cannot tell, and says whom
    // to ask what.
    let out = check(&admin, dir, "keyless.yaml");
    assert!(out.stdout.contains(&format!("pipeline:   User {USER}\n")), "{}", out.stdout);
    assert!(!out.stdout.contains("ServiceAccount"), "{}", out.stdout);
    for words in [
        "authenticator: cannot tell: no kube-apiserver pod is visible in kube-system",
        &format!(
            "ask the cluster administrator whether the API server trusts issuer {}",
            issuer.url()
        ),
        "on EKS: `aws eks describe-identity-provider-config --cluster-name CLUSTER --identity-provider-config type=oidc,name=cicd-access-github`",
        // 1.20, from /version.
        "`kubectl cicd generate -o oidc-flags` (kube-apiserver's --oidc-* flags; Kubernetes 1.20 has no --authentication-config)",
        "verdict: you can create this",
    ] {
        assert!(out.stdout.contains(words), "{words:?} in\n{}", out.stdout);
    }
    let json = cicd(&admin, dir, &["check", "-f", "keyless.yaml", "-o", "json"]);
    expect_code(&json, 0, "check -o json");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let report = &report["pipelines"][0];
    assert_eq!(report["user"], USER, "{report}");
    assert!(report.get("serviceAccount").is_none(), "{report}");
    assert_eq!(report["authenticator"]["state"], "cannotTell", "{report}");
    assert_eq!(report["authenticator"]["why"], "noApiServerPod", "{report}");
    assert!(
        report["authenticator"]["message"].as_str().unwrap().starts_with("cannot tell: "),
        "{report}"
    );

    // A tenant may not list pods in kube-system.
    let tenant_namespace = cluster.tenant_namespace();
    let tenant = tenant_namespace.as_identity(cluster.namespace_admin());
    fs::write(
        tenant_namespace.dir().join("keyless.yaml"),
        spec(tenant_namespace.name(), cluster.server(), issuer.url(), "org/app"),
    )
    .unwrap();
    let out = check(&tenant, tenant_namespace.dir(), "keyless.yaml");
    assert!(
        out.stdout.contains("authenticator: cannot tell: you may not list pods in kube-system"),
        "{}",
        out.stdout
    );

    // (b) The API server's own command line, as its kubeadm mirror pod shows it.
    let command_line = cluster.command_line(Component::ApiServer);
    assert!(command_line[0].ends_with("/kube-apiserver"), "{command_line:?}");
    assert!(
        command_line.iter().any(|f| f == "--oidc-required-claim=repository=org/app"),
        "{command_line:?}"
    );
    let system = cluster.admin().kubectl().namespace("kube-system");
    // The ServiceAccount admission looks up `default`, which the controller makes.
    poll("the ServiceAccount kube-system/default", Duration::from_mins(1), || {
        Ok(system.run(&["get", "serviceaccount", "default"]).success().then_some(()))
    })
    .unwrap();
    system.create(&mirror_pod(&command_line)).expect_success("creating the mirror pod");

    let configured = format!(
        "authenticator: configured for this access: kube-apiserver's --oidc-* flags match it (issuer {} for the audience {AUDIENCE}, user names from the claim sub with the prefix github:, required claims repository=org/app, ref=refs/heads/main)",
        issuer.url()
    );
    let out = check(&admin, dir, "keyless.yaml");
    assert!(out.stdout.contains(&configured), "{configured:?} in\n{}", out.stdout);
    // And so it is: the job's token is the user the RoleBinding will name, once applied.
    let main =
        issuer.mint(&issuer.github_claims(&GithubJob::new("org/app", "refs/heads/main"), AUDIENCE));
    assert_eq!(can_create_with(&admin, &main), "no", "authenticated, nothing granted yet");
    // apply runs check first, and shows the same line.
    let applied = cicd(&admin, dir, &["apply", "-f", "keyless.yaml"]);
    expect_code(&applied, 0, "apply");
    assert!(applied.stdout.contains(&configured), "{configured:?} in\n{}", applied.stdout);
    assert!(
        applied.stdout.contains(&format!("verified: authenticates as {USER}")),
        "{}",
        applied.stdout
    );
    poll("the job's token to create configmaps", Duration::from_secs(20), || {
        Ok((can_create_with(&admin, &main) == "yes").then_some(()))
    })
    .unwrap();
    let json = cicd(&admin, dir, &["apply", "-f", "keyless.yaml", "--force", "-o", "json"]);
    expect_code(&json, 0, "apply -o json");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let report = &report["pipelines"][0];
    assert_eq!(report["authenticator"]["state"], "configured", "{report}");
    assert_eq!(report["authenticator"]["expected"]["user"], USER, "{report}");

    // (c) Accesses the API server's flags are not for: it says which flag differs.
    write("other-repository.yaml", issuer.url(), "org/other");
    let out = check(&admin, dir, "other-repository.yaml");
    for words in [
        "authenticator: configured differently from this access (kube-apiserver's --oidc-* flags):",
        "- the API server requires repository=org/app, the access needs repository=org/other: its jobs are refused",
        "its jobs would not authenticate as github:repo:org/other:ref:refs/heads/main; `kubectl cicd generate -o oidc-flags` shows the flags it needs",
    ] {
        assert!(out.stdout.contains(words), "{words:?} in\n{}", out.stdout);
    }
    assert!(
        !out.stdout.contains("the API server trusts issuer"),
        "only the repository differs: {}",
        out.stdout
    );
    // And so they are: that repository's job is refused (401), though the issuer is trusted.
    let other = issuer
        .mint(&issuer.github_claims(&GithubJob::new("org/other", "refs/heads/main"), AUDIENCE));
    assert!(can_create_with(&admin, &other).contains("Unauthorized"), "org/other's job");

    write("github.yaml", "https://token.actions.githubusercontent.com", "org/app");
    let out = check(&admin, dir, "github.yaml");
    let differs = format!(
        "- the API server trusts issuer {}, the access needs https://token.actions.githubusercontent.com",
        issuer.url()
    );
    assert!(out.stdout.contains(&differs), "{differs:?} in\n{}", out.stdout);
    assert!(!out.stdout.contains("requires repository"), "only the issuer differs: {}", out.stdout);
}
