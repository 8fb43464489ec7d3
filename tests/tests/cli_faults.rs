//! What a fault and hostile-input sweep of `kubectl-cicd` broke (issue 16), each case on the
//! real control plane: tokens issued again under an RSA signing key, objects of others under
//! the access's names, failures found only after objects were created, files overwritten.

mod cli_support;

use std::fs;
use std::path::Path;

use cicd_access_tests::{Component, ControlPlane, SigningKey, TestNamespace};
use cli_support::{cicd, expect_code};

const PRESET: &str = "read-only";

fn token_of(kubeconfig: &Path) -> String {
    let text = fs::read_to_string(kubeconfig).expect("the kubeconfig");
    let config: serde_yaml::Value = serde_yaml::from_str(&text).expect("kubeconfig YAML");
    config["users"][0]["user"]["token"].as_str().expect("a token").to_owned()
}

fn apply(namespace: &TestNamespace<'_>, extra: &[&str]) -> cicd_access_tests::Output {
    let mut args = vec!["apply", "--preset", PRESET, "-n", namespace.name()];
    args.extend_from_slice(extra);
    cicd(&namespace.admin(), namespace.dir(), &args)
}

/// Rotation, and revoke then apply, on a cluster signing with `signing`: every token issued
/// again differs from the one before, which stops working and stays dead.
fn tokens_issued_again_are_new(cluster: &ControlPlane) {
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let dir = namespace.dir();
    let path = dir.join("kubeconfig_ci_cd.yaml");
    expect_code(&apply(&namespace, &[]), 0, "apply");
    let first = dir.join("first.yaml");
    fs::copy(&path, &first).unwrap();

    let rotate = cicd(&admin, dir, &["rotate", "-n", namespace.name(), "--timeout", "30s"]);
    expect_code(&rotate, 0, "rotate");
    assert!(rotate.stdout.contains("the old token no longer authenticates"), "{}", rotate.stdout);
    assert_ne!(token_of(&path), token_of(&first), "rotate issued the same token");
    assert!(cluster.kubectl_with(&path).can_i("get", "pods"));
    assert!(!cluster.kubectl_with(&first).run(&["get", "pods"]).success());

    // Revoked, then the same access applied again: the revoked kubeconfig stays dead.
    let second = dir.join("second.yaml");
    fs::rename(&path, &second).unwrap();
    let revoke = cicd(&admin, dir, &["revoke", "-n", namespace.name()]);
    expect_code(&revoke, 0, "revoke");
    let again = apply(&namespace, &[]);
    expect_code(&again, 0, "apply after revoke");
    assert!(again.stdout.contains("was replaced (new UID)"), "{}", again.stdout);
    assert_ne!(token_of(&path), token_of(&second), "apply re-issued the revoked token");
    let revoked = cluster.kubectl_with(&second).run(&["get", "pods"]);
    assert!(revoked.stderr.contains("Unauthorized"), "the revoked token works again");
    assert!(cluster.kubectl_with(&path).can_i("get", "pods"));
}

#[test]
fn rsa_signed_tokens_issued_again_are_new_and_the_old_stay_dead() {
    tokens_issued_again_are_new(ControlPlane::shared());
}

#[test]
fn ec_signed_tokens_issued_again_are_new_and_the_old_stay_dead() {
    tokens_issued_again_are_new(&ControlPlane::start_with(SigningKey::Ec));
}

const FOREIGN: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ci-cd
rules:
- apiGroups: ['']
  resources: [configmaps]
  verbs: [get]
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ci-cd
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ci-cd
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ci-cd
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: alice
";

#[test]
fn objects_of_others_are_refused_up_front_unless_adopted() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let dir = namespace.dir();
    admin.apply(FOREIGN).expect_success("objects someone else made");
    let subjects = || admin.ok(&["get", "rolebinding", "ci-cd", "-o", "jsonpath={.subjects}"]);
    let before = subjects();

    let check = cicd(&admin, dir, &["check", "--preset", PRESET, "-n", namespace.name()]);
    expect_code(&check, 1, "check with objects of others");
    for line in ["role ci-cd exists", "serviceaccount ci-cd exists", "it binds User alice"] {
        assert!(check.stdout.contains(line), "{line}:\n{}", check.stdout);
    }
    assert!(check.stdout.contains("--adopt"), "{}", check.stdout);

    let refused = apply(&namespace, &[]);
    expect_code(&refused, 1, "apply with objects of others");
    assert!(refused.stderr.contains("rolebinding ci-cd exists"), "{}", refused.stderr);
    assert_eq!(subjects(), before, "alice's binding was rewritten");
    assert_eq!(admin.managed("roles,rolebindings,serviceaccounts,secrets").trim(), "");
    assert!(!dir.join("kubeconfig_ci_cd.yaml").exists());

    let adopted = apply(&namespace, &["--adopt"]);
    expect_code(&adopted, 0, "apply --adopt");
    assert!(adopted.stdout.contains("adopted rolebinding/ci-cd"), "{}", adopted.stdout);
    let managed = admin.managed("roles,rolebindings,serviceaccounts,secrets");
    assert_eq!(managed.lines().count(), 4, "{managed}");
}

#[test]
fn what_would_fail_later_is_refused_before_anything_is_created() {
    let cluster = ControlPlane::shared();

    // A Secret of another type under the token Secret's name: its type cannot change.
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    admin.ok(&["create", "secret", "generic", "ci-cd", "--from-literal=a=b"]);
    let out = apply(&namespace, &["--adopt"]);
    expect_code(&out, 1, "apply over an Opaque Secret");
    assert!(out.stderr.contains("type Opaque"), "{}", out.stderr);
    assert_eq!(admin.managed("roles,rolebindings,serviceaccounts,secrets").trim(), "");

    // Output paths that cannot be written.
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    fs::write(namespace.dir().join("a-file"), "x").unwrap();
    std::os::unix::fs::symlink("nowhere", namespace.dir().join("dangling.yaml")).unwrap();
    for path in ["a-file/kubeconfig.yaml", "/proc/kubeconfig.yaml", "dangling.yaml"] {
        let out = apply(&namespace, &["--output-kubeconfig", path]);
        expect_code(&out, 2, path);
        assert!(out.stderr.contains("--output-kubeconfig"), "{path}: {}", out.stderr);
    }
    assert_eq!(admin.managed("roles,rolebindings,serviceaccounts,secrets").trim(), "");
}

#[test]
fn rotate_replaces_only_its_own_kubeconfig_without_force() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let dir = namespace.dir();
    expect_code(&apply(&namespace, &[]), 0, "apply");
    let old_token = token_of(&dir.join("kubeconfig_ci_cd.yaml"));
    fs::write(dir.join("precious.txt"), "my notes\n").unwrap();

    let ns = namespace.name();
    let out = cicd(&admin, dir, &["rotate", "-n", ns, "--output-kubeconfig", "precious.txt"]);
    expect_code(&out, 2, "rotate onto another file");
    assert_eq!(fs::read_to_string(dir.join("precious.txt")).unwrap(), "my notes\n");
    // Refused before anything changed: the old token still works.
    let token = admin.ok(&["get", "secret", "ci-cd", "-o", "jsonpath={.data.token}"]);
    assert!(!token.is_empty());
    assert!(cluster.kubectl_with(dir.join("kubeconfig_ci_cd.yaml")).can_i("get", "pods"));

    // Its own kubeconfig is replaced without --force.
    expect_code(&cicd(&admin, dir, &["rotate", "-n", ns]), 0, "rotate");
    assert_ne!(token_of(&dir.join("kubeconfig_ci_cd.yaml")), old_token);
}

#[test]
fn a_stopped_etcd_ends_the_command_at_its_deadline() {
    let cluster = ControlPlane::start();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    cluster.stop(Component::Etcd);
    for args in [
        vec!["check", "--preset", PRESET, "-n", namespace.name(), "--timeout", "5s"],
        vec!["apply", "--preset", PRESET, "-n", namespace.name(), "--timeout", "5s"],
        vec!["revoke", "-n", namespace.name(), "--timeout", "5s"],
    ] {
        let out = cicd(&admin, namespace.dir(), &args);
        expect_code(&out, 1, args[0]);
        assert!(out.stderr.contains("timed out after 5s"), "{}: {}", args[0], out.stderr);
        assert!(out.stderr.contains("--timeout"), "{}", out.stderr);
    }
    assert!(!namespace.dir().join("kubeconfig_ci_cd.yaml").exists());
    cluster.restart(Component::Etcd);
}
