//! `kubectl-cicd` end to end on the real control plane, as `admin`, `namespace-admin` and
//! `nobody`: apply, idempotence, check, verify, kubeconfig, revoke, rotate, bound tokens,
//! dry runs. All tests share this binary's control plane, each in namespaces of its own.

mod cli_support;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use cicd_access_core::{AccessSpec, manifest, preset, script};
use cicd_access_tests::{ControlPlane, TestNamespace};
use cli_support::{cicd, code, expect_code};

const WELKIN: &str = "welkin-user-demo";

fn apply_welkin(namespace: &TestNamespace<'_>) -> cicd_access_tests::Output {
    let admin = namespace.admin();
    cicd(&admin, namespace.dir(), &["apply", "--preset", WELKIN, "-n", namespace.name()])
}

#[test]
fn admin_applies_welkin_and_the_kubeconfig_works() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let out = apply_welkin(&namespace);
    expect_code(&out, 0, "apply as admin");
    assert!(out.stdout.contains("role/ci-cd created"), "{}", out.stdout);
    assert!(out.stdout.contains("secret/ci-cd created"), "{}", out.stdout);
    assert!(
        out.stdout.contains("verified: authenticates as system:serviceaccount:"),
        "{}",
        out.stdout
    );
    let path = namespace.dir().join("kubeconfig_ci_cd.yaml");
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = fs::read_to_string(&path).unwrap();
    let token = text.lines().find_map(|l| l.trim().strip_prefix("token: ")).unwrap().to_owned();
    assert!(!out.stdout.contains(&token) && !out.stderr.contains(&token), "the token leaked");

    let ci = cluster.kubectl_with(&path);
    assert!(ci.can_i("create", "deployments.apps"));
    assert!(ci.can_i("list", "secrets"));
    assert!(!ci.can_i("create", "roles.rbac.authorization.k8s.io"));
    assert!(!cluster.kubectl_with(&path).namespace("default").can_i("get", "pods"));

    // Re-running converges and changes nothing; the kubeconfig is not overwritten silently.
    let again = apply_welkin(&namespace);
    expect_code(&again, 2, "re-apply without --force");
    assert!(again.stderr.contains("kubeconfig_ci_cd.yaml exists"), "{}", again.stderr);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    let admin = namespace.admin();
    let again = cicd(
        &admin,
        namespace.dir(),
        &["apply", "--preset", WELKIN, "-n", namespace.name(), "--force"],
    );
    expect_code(&again, 0, "re-apply with --force");
    for kind in ["role", "serviceaccount", "rolebinding", "secret"] {
        assert!(again.stdout.contains(&format!("{kind}/ci-cd unchanged")), "{}", again.stdout);
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), text, "same token, same kubeconfig");
}

#[test]
fn namespace_admin_is_refused_welkin_before_anything_is_created() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.tenant_namespace();
    let tenant = namespace.as_identity(cluster.namespace_admin());
    let out =
        cicd(&tenant, namespace.dir(), &["apply", "--preset", WELKIN, "-n", namespace.name()]);
    expect_code(&out, 1, "apply welkin as namespace-admin");
    assert!(out.stderr.contains("nothing was created"), "{}", out.stderr);
    assert!(
        out.stderr.contains(r#"{APIGroups:["monitoring.coreos.com"], Resources:["prometheusrules"], Verbs:["create" "delete" "get" "list" "patch" "update" "watch"]}"#),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(r#"{APIGroups:["monitoring.coreos.com"], Resources:["servicemonitors"], Verbs:["create" "delete" "get" "list" "patch" "update" "watch"]}"#),
        "{}",
        out.stderr
    );
    let objects = namespace.admin().managed("roles,serviceaccounts,rolebindings,secrets");
    assert_eq!(objects.trim(), "", "nothing may be created");
    assert!(!namespace.dir().join("kubeconfig_ci_cd.yaml").exists());

    // `check` says the same, exit 1, and changes nothing either.
    let check =
        cicd(&tenant, namespace.dir(), &["check", "--preset", WELKIN, "-n", namespace.name()]);
    expect_code(&check, 1, "check welkin as namespace-admin");
    assert!(check.stdout.contains("you cannot create this"), "{}", check.stdout);
    assert!(check.stdout.contains("you may not list nodes"), "{}", check.stdout);
    assert!(check.stdout.contains("Risks of the Role"), "{}", check.stdout);

    // A preset within the tenant's rights goes through, end to end.
    let ok = cicd(
        &tenant,
        namespace.dir(),
        &["apply", "--preset", "deployment-service-ingress", "-n", namespace.name()],
    );
    expect_code(&ok, 0, "apply deployment-service-ingress as namespace-admin");
    assert!(ok.stdout.contains("verified"), "{}", ok.stdout);
}

#[test]
fn nobody_is_refused_with_the_rights_the_steps_need() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let nobody = namespace.as_identity(cluster.nobody());
    let out =
        cicd(&nobody, namespace.dir(), &["apply", "--preset", "read-only", "-n", namespace.name()]);
    expect_code(&out, 1, "apply as nobody");
    assert!(out.stderr.contains("nothing was created"), "{}", out.stderr);
    assert!(out.stderr.contains("roles"), "{}", out.stderr);
    let check = cicd(
        &nobody,
        namespace.dir(),
        &["check", "--preset", "read-only", "-n", namespace.name(), "-o", "json"],
    );
    expect_code(&check, 1, "check as nobody");
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(report["pipelines"][0]["roleAllowed"], false);
    assert_eq!(report["pipelines"][0]["namespaceExists"], serde_json::Value::Null);
    let revoke = cicd(&nobody, namespace.dir(), &["revoke", "-n", namespace.name(), "--all"]);
    expect_code(&revoke, 1, "revoke as nobody");
    let verify = cicd(&nobody, namespace.dir(), &["kubeconfig", "-n", namespace.name()]);
    expect_code(&verify, 1, "kubeconfig as nobody");
    assert!(verify.stderr.contains("forbidden"), "{}", verify.stderr);
    let rotate = cicd(&nobody, namespace.dir(), &["rotate", "-n", namespace.name()]);
    expect_code(&rotate, 1, "rotate as nobody");
    assert!(rotate.stderr.contains("forbidden"), "{}", rotate.stderr);
    let generate =
        cicd(&nobody, namespace.dir(), &["generate", "--preset", "read-only", "-n", "x"]);
    expect_code(&generate, 0, "generate needs no cluster");
    let dry = cicd(
        &nobody,
        namespace.dir(),
        &["apply", "--preset", "read-only", "-n", namespace.name(), "--dry-run=server"],
    );
    expect_code(&dry, 1, "dry run as nobody is refused by the pre-check");
}

/// `verify` of the kubeconfig `apply_welkin` wrote.
fn verify_welkin<'a>(namespace: &'a TestNamespace<'_>) -> [&'a str; 7] {
    [
        "verify",
        "--ci-kubeconfig",
        "kubeconfig_ci_cd.yaml",
        "--preset",
        WELKIN,
        "-n",
        namespace.name(),
    ]
}

#[test]
fn verify_catches_a_role_edited_behind_its_back() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    expect_code(&apply_welkin(&namespace), 0, "apply");
    let admin = namespace.admin();
    let verify = verify_welkin(&namespace);
    expect_code(&cicd(&admin, namespace.dir(), &verify), 0, "verify right after apply");

    admin.ok(&["patch", "role", "ci-cd", "--type=json", "-p", r#"[{"op":"add","path":"/rules/-","value":{"apiGroups":["rbac.authorization.k8s.io"],"resources":["roles"],"verbs":["escalate"]}},{"op":"remove","path":"/rules/6"}]"#]);
    let out = cicd_access_tests::poll(
        "verify to notice the edit",
        std::time::Duration::from_secs(15),
        || {
            let out = cicd(&admin, namespace.dir(), &verify);
            Ok((code(&out) == 1).then_some(out))
        },
    )
    .unwrap();
    assert!(out.stdout.contains("VERIFICATION FAILED"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            r#"{APIGroups:["rbac.authorization.k8s.io"], Resources:["roles"], Verbs:["escalate"]}"#
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(r#"{APIGroups:["cert-manager.io"], Resources:["certificates"], Verbs:["get" "list" "watch"]}"#), "{}", out.stdout);

    // Re-applying repairs it.
    let repaired = cicd(
        &admin,
        namespace.dir(),
        &["apply", "--preset", WELKIN, "-n", namespace.name(), "--force"],
    );
    expect_code(&repaired, 0, "apply repairs");
    assert!(repaired.stdout.contains("role/ci-cd configured"), "{}", repaired.stdout);
}

#[test]
fn revoke_kills_the_token_and_all_removes_only_what_was_created() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    expect_code(&apply_welkin(&namespace), 0, "apply");
    let admin = namespace.admin();
    admin.ok(&["create", "serviceaccount", "someone-elses"]);
    let ci = cluster.kubectl_with(namespace.dir().join("kubeconfig_ci_cd.yaml"));
    assert!(ci.can_i("get", "pods"));

    let out = cicd(&admin, namespace.dir(), &["revoke", "-n", namespace.name()]);
    expect_code(&out, 0, "revoke");
    assert!(out.stdout.contains("secret/ci-cd deleted"), "{}", out.stdout);
    assert!(out.stdout.contains("no longer authenticates"), "{}", out.stdout);
    let denied = ci.run(&["get", "pods"]);
    assert!(!denied.success() && denied.stderr.contains("Unauthorized"), "{}", denied.stderr);
    admin.ok(&["get", "role", "ci-cd"]);
    // `verify` of the revoked kubeconfig says so, and what to do.
    let verify = cicd(&admin, namespace.dir(), &verify_welkin(&namespace));
    expect_code(&verify, 1, "verify a revoked kubeconfig");
    assert!(
        verify.stderr.contains("token is not accepted (401 Unauthorized)"),
        "{}",
        verify.stderr
    );
    assert!(verify.stderr.contains("kubectl cicd rotate"), "{}", verify.stderr);

    let all = cicd(
        &admin,
        namespace.dir(),
        &["revoke", "-n", namespace.name(), "--all", "--service-account", "ci-cd"],
    );
    expect_code(&all, 0, "revoke --all");
    let left = admin.ok(&["get", "roles,rolebindings,serviceaccounts", "-o", "name"]);
    assert!(!left.contains("ci-cd"), "{left}");
    assert!(left.contains("serviceaccount/someone-elses"), "{left}");

    // An object of the same name that this tool did not create is left alone.
    admin.ok(&["create", "role", "ci-cd", "--verb=get", "--resource=pods"]);
    let careful = cicd(&admin, namespace.dir(), &["revoke", "-n", namespace.name(), "--all"]);
    expect_code(&careful, 0, "revoke --all with a foreign Role");
    assert!(careful.stdout.contains("role/ci-cd left alone"), "{}", careful.stdout);
    admin.ok(&["get", "role", "ci-cd"]);
}

#[test]
fn rotate_issues_a_new_token_and_kills_the_old() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    expect_code(&apply_welkin(&namespace), 0, "apply");
    let path = namespace.dir().join("kubeconfig_ci_cd.yaml");
    let old_path = namespace.dir().join("old.yaml");
    fs::copy(&path, &old_path).unwrap();
    let admin = namespace.admin();
    let out = cicd(&admin, namespace.dir(), &["rotate", "-n", namespace.name()]);
    expect_code(&out, 0, "rotate");
    assert!(out.stdout.contains("secret/ci-cd replaced"), "{}", out.stdout);
    assert!(out.stdout.contains("the old token no longer authenticates"), "{}", out.stdout);
    assert_ne!(fs::read_to_string(&path).unwrap(), fs::read_to_string(&old_path).unwrap());
    assert!(cluster.kubectl_with(&path).can_i("get", "pods"));
    assert!(!cluster.kubectl_with(&old_path).run(&["get", "pods"]).success());
}

#[test]
fn bound_token_expires_stores_no_secret_and_dies_with_its_anchor() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let out = cicd(
        &admin,
        namespace.dir(),
        &[
            "apply",
            "--preset",
            "read-only",
            "-n",
            namespace.name(),
            "--token-duration",
            "24h",
            "-o",
            "json",
        ],
    );
    expect_code(&out, 0, "apply with a bound token");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let pipeline = &report["pipelines"][0];
    let expires = pipeline["expires"].as_str().unwrap();
    assert!(pipeline.get("token").is_none(), "no token without --show-token");
    assert_eq!(pipeline["verification"]["passed"], true);
    let path = namespace.dir().join("kubeconfig_ci_cd.yaml");
    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(&format!("# Bound ServiceAccount token: stops working at {expires}")),
        "{text}"
    );
    assert!(cluster.kubectl_with(&path).can_i("list", "pods"));
    // The one Secret is the empty anchor the token is bound to, with the real expiry on it.
    let kubectl = admin.clone().namespace(namespace.name());
    let anchor =
        kubectl.run(&["get", "secret", "ci-cd", "-o", "json"]).expect_success("the anchor");
    let anchor: serde_json::Value = serde_json::from_str(&anchor).unwrap();
    assert_eq!(anchor["type"], "cicd-access.dev/bound-token-anchor");
    assert!(anchor.get("data").is_none(), "it stores nothing: {anchor}");
    assert_eq!(anchor["metadata"]["annotations"]["cicd-access/token-expires"], expires);
    let read = |path: &std::path::Path| cluster.kubectl_with(path).run(&["get", "pods"]);
    // The API server keeps a token's successful authentication for 10 s (1.20's default
    // token cache): "at once" is within that, against the 24 h the token was issued for.
    let refused_soon = |path: &std::path::Path| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let out = read(path);
            if !out.success() {
                return out.stderr;
            }
            assert!(std::time::Instant::now() < deadline, "the token still works");
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    };
    let bound = ["-n", namespace.name(), "--preset", "read-only", "--token-duration", "24h"];

    // rotate: a new anchor, a new token; the previous token is refused at once.
    let old_path = namespace.dir().join("old.yaml");
    fs::copy(&path, &old_path).unwrap();
    let rotate = cicd(&admin, namespace.dir(), &[&["rotate"][..], &bound[..]].concat());
    expect_code(&rotate, 0, "rotate a bound token");
    assert!(read(&path).success(), "the new token works");
    let refused = refused_soon(&old_path);
    assert!(refused.contains("Unauthorized"), "{refused}");

    // status reads the real expiry back from the anchor.
    let status = cicd(&admin, namespace.dir(), &["status", "-n", namespace.name()]);
    expect_code(&status, 0, "status of a bound token");
    assert!(status.stdout.contains("bound, expires "), "{}", status.stdout);

    // revoke: the anchor goes, and the token with it, long before its expiry.
    let revoke = cicd(&admin, namespace.dir(), &[&["revoke"][..], &bound[..]].concat());
    expect_code(&revoke, 0, "revoke a bound token");
    assert!(revoke.stdout.contains("tied to Secret ci-cd"), "{}", revoke.stdout);
    let refused = refused_soon(&path);
    assert!(refused.contains("Unauthorized"), "{refused}");
}

#[test]
fn dry_run_creates_nothing_and_says_what_would_change() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let out = cicd(
        &admin,
        namespace.dir(),
        &["apply", "--preset", WELKIN, "-n", namespace.name(), "--dry-run=server"],
    );
    expect_code(&out, 0, "dry run");
    assert!(out.stdout.contains("role/ci-cd created (server dry run)"), "{}", out.stdout);
    assert_eq!(admin.managed("roles,serviceaccounts,rolebindings").trim(), "");
    assert!(!namespace.dir().join("kubeconfig_ci_cd.yaml").exists());
    expect_code(&apply_welkin(&namespace), 0, "apply");
    let out = cicd(
        &admin,
        namespace.dir(),
        &[
            "apply",
            "--preset",
            WELKIN,
            "-n",
            namespace.name(),
            "--dry-run=server",
            "--rule",
            "batch:jobs:read",
        ],
    );
    expect_code(&out, 0, "dry run of a change");
    assert!(out.stdout.contains("role/ci-cd configured (server dry run)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("serviceaccount/ci-cd unchanged (server dry run)"),
        "{}",
        out.stdout
    );
}

#[test]
fn kubeconfig_extracts_from_the_existing_secret() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    expect_code(&apply_welkin(&namespace), 0, "apply");
    let admin = namespace.admin();
    let out = cicd(
        &admin,
        namespace.dir(),
        &["kubeconfig", "-n", namespace.name(), "--output-kubeconfig", "again.yaml"],
    );
    expect_code(&out, 0, "kubeconfig");
    assert_eq!(
        fs::read_to_string(namespace.dir().join("again.yaml")).unwrap(),
        fs::read_to_string(namespace.dir().join("kubeconfig_ci_cd.yaml")).unwrap()
    );
    // Not even the most verbose logs show the token.
    let text = fs::read_to_string(namespace.dir().join("again.yaml")).unwrap();
    let token = text.lines().find_map(|l| l.trim().strip_prefix("token: ")).unwrap().to_owned();
    let mut command = admin.env_command(cli_support::binary());
    command.current_dir(namespace.dir()).env("KUBECTL_CICD_LOG", "trace").args([
        "kubeconfig",
        "-n",
        namespace.name(),
        "--output-kubeconfig",
        "traced.yaml",
    ]);
    let traced = cicd_access_tests::run(command, None);
    expect_code(&traced, 0, "kubeconfig with trace logs");
    assert!(traced.stderr.len() > 1000, "trace logs are on: {}", traced.stderr);
    assert!(
        !traced.stderr.contains(&token) && !traced.stdout.contains(&token),
        "the token leaked into the logs"
    );
    assert!(!traced.stderr.contains(cluster.admin().token()), "the user's own token leaked");
    let stdout = cicd(
        &admin,
        namespace.dir(),
        &["kubeconfig", "-n", namespace.name(), "--output-kubeconfig", "-"],
    );
    expect_code(&stdout, 2, "stdout without --show-token");
    let shown = cicd(
        &admin,
        namespace.dir(),
        &["kubeconfig", "-n", namespace.name(), "--output-kubeconfig", "-", "--show-token"],
    );
    expect_code(&shown, 0, "stdout with --show-token");
    assert!(shown.stdout.contains("token: "), "{}", shown.stdout);
}

#[test]
fn a_missing_namespace_is_named() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let out =
        cicd(&admin, namespace.dir(), &["apply", "--preset", WELKIN, "-n", "no-such-namespace"]);
    expect_code(&out, 1, "apply in a missing namespace");
    assert!(out.stderr.contains("namespace no-such-namespace does not exist"), "{}", out.stderr);
}

#[test]
fn generate_is_byte_identical_to_the_core() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    for preset in preset::PRESETS {
        let spec = AccessSpec { namespace: Some("demo".into()), ..preset.spec() };
        let yaml =
            cicd(&admin, namespace.dir(), &["generate", "--preset", preset.name, "-n", "demo"]);
        expect_code(&yaml, 0, "generate");
        assert_eq!(yaml.stdout, manifest::build_manifests(&spec).unwrap().to_yaml());
        let script = cicd(
            &admin,
            namespace.dir(),
            &["generate", "--preset", preset.name, "-n", "demo", "-o", "script"],
        );
        assert_eq!(script.stdout, script::render_script(&spec).unwrap());
    }
}

#[test]
fn twenty_pipelines_in_twenty_namespaces_from_one_file() {
    let cluster = ControlPlane::shared();
    let namespaces: Vec<TestNamespace<'_>> = (0..20).map(|_| cluster.namespace()).collect();
    let specs: Vec<String> = namespaces
        .iter()
        .map(|ns| {
            AccessSpec {
                namespace: Some(ns.name().to_owned()),
                ..preset::find(WELKIN).unwrap().spec()
            }
            .to_yaml()
        })
        .collect();
    let dir = namespaces[0].dir();
    fs::write(dir.join("pipelines.yaml"), specs.join("---\n")).unwrap();
    let admin = namespaces[0].admin();
    let out =
        cicd(&admin, dir, &["apply", "-f", "pipelines.yaml", "--output-kubeconfig", "out/kc.yaml"]);
    expect_code(&out, 0, "apply 20 pipelines");
    for ns in &namespaces {
        let path = dir.join("out").join(format!("kc.{}.ci-cd.yaml", ns.name()));
        assert!(
            cluster.kubectl_with(&path).can_i("create", "deployments.apps"),
            "{}",
            path.display()
        );
    }
    assert_eq!(out.stdout.matches("verified: ").count(), 20, "{}", out.stdout);
}

#[test]
fn namespace_admin_runs_every_command_within_its_rights() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.tenant_namespace();
    let tenant = namespace.as_identity(cluster.namespace_admin());
    let dir = namespace.dir();
    let ns = namespace.name();
    let preset = "deployment-service-ingress";
    let run = |args: &[&str]| cicd(&tenant, dir, args);

    expect_code(&run(&["generate", "--preset", preset, "-n", ns, "-o", "script"]), 0, "generate");
    let check = run(&["check", "--preset", preset, "-n", ns]);
    expect_code(&check, 0, "check");
    assert!(check.stdout.contains("verdict: you can create this"), "{}", check.stdout);
    expect_code(&run(&["apply", "--preset", preset, "-n", ns, "--dry-run=server"]), 0, "dry run");
    expect_code(&run(&["apply", "--preset", preset, "-n", ns]), 0, "apply");
    let again = run(&["apply", "--preset", preset, "-n", ns, "--force", "-o", "json"]);
    expect_code(&again, 0, "re-apply");
    let report: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    for change in report["pipelines"][0]["changes"].as_array().unwrap() {
        assert_eq!(change["action"], "unchanged", "{change}");
    }
    let verify = run(&["verify", "--ci-kubeconfig", "kubeconfig_ci_cd.yaml", "--preset", preset]);
    expect_code(&verify, 0, "verify");
    // Without the access, verify compares with the live Role, which the tenant may read.
    expect_code(&run(&["verify", "--ci-kubeconfig", "kubeconfig_ci_cd.yaml"]), 0, "verify live");
    expect_code(&run(&["kubeconfig", "-n", ns, "--output-kubeconfig", "k2.yaml"]), 0, "kubeconfig");
    let rotate = run(&["rotate", "-n", ns]);
    expect_code(&rotate, 0, "rotate");
    assert!(rotate.stdout.contains("the old token no longer authenticates"), "{}", rotate.stdout);
    let revoke = run(&["revoke", "-n", ns, "--all"]);
    expect_code(&revoke, 0, "revoke --all");
    assert!(revoke.stdout.contains("the old token no longer authenticates"), "{}", revoke.stdout);
    let left = namespace.admin().managed("roles,rolebindings,serviceaccounts,secrets");
    assert_eq!(left.trim(), "");
}

/// Argo Rollouts' AnalysisTemplate: a kind the derivation's table does not know.
const ROLLOUT_APP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {a: b}\n---\napiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: success-rate}\nspec: {metrics: []}\n";

/// Its CRD, as an administrator installs it once for the cluster.
const ANALYSIS_TEMPLATE_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: analysistemplates.argoproj.io}\nspec:\n  group: argoproj.io\n  scope: Namespaced\n  names: {kind: AnalysisTemplate, plural: analysistemplates, singular: analysistemplate, listKind: AnalysisTemplateList}\n  versions:\n  - name: v1alpha1\n    served: true\n    storage: true\n    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n";

/// A kind the table does not know is resolved from the cluster's discovery when the cluster
/// serves it; otherwise `check` and `apply` stop before anything is created (the pipeline
/// would meet a 403 or "no matches for kind" later), unless `--allow-unknown`.
#[test]
fn unknown_kinds_are_resolved_from_discovery_or_stop_apply() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let manifests = namespace.dir().join("rollout.yaml");
    fs::write(&manifests, ROLLOUT_APP).unwrap();
    let manifests = manifests.to_string_lossy().into_owned();
    let derive = ["--from-manifests", manifests.as_str(), "-n", namespace.name()];
    let run = |command: &str, extra: &[&str]| {
        let mut args = vec![command];
        args.extend_from_slice(&derive);
        args.extend_from_slice(extra);
        cicd(&admin, namespace.dir(), &args)
    };

    for command in ["check", "apply"] {
        let refused = run(command, &[]);
        expect_code(&refused, 1, &format!("{command} with a kind the cluster does not serve"));
        for words in [
            "nothing was changed: the cluster serves no such kind",
            "AnalysisTemplate (argoproj.io/v1alpha1: success-rate)",
            "--kind AnalysisTemplate.argoproj.io=analysistemplates",
            "--allow-unknown",
        ] {
            assert!(refused.stderr.contains(words), "{command}: {words:?} in\n{}", refused.stderr);
        }
    }
    let created = admin.run(&["get", "role,serviceaccount,rolebinding,secret", "-o", "name"]);
    assert!(!created.stdout.contains("ci-cd"), "apply created objects: {}", created.stdout);

    let allowed =
        run("apply", &["--allow-unknown", "--no-verify", "--output-kubeconfig", "unknown.yaml"]);
    expect_code(&allowed, 0, "apply --allow-unknown");
    assert!(allowed.stderr.contains("Unknown kinds, no rule derived"), "{}", allowed.stderr);
    cicd(&admin, namespace.dir(), &["revoke", "--all", "-n", namespace.name()]);

    cluster.admin().kubectl().apply(ANALYSIS_TEMPLATE_CRD).expect_success("installing the CRD");
    cluster.admin().kubectl().ok(&[
        "wait",
        "--for=condition=Established",
        "crd/analysistemplates.argoproj.io",
        "--timeout=30s",
    ]);
    let resolved = run("apply", &["--force"]);
    expect_code(&resolved, 0, "apply once the cluster serves the kind");
    assert!(
        resolved.stderr.contains(
            "as the cluster's discovery serves them: AnalysisTemplate.argoproj.io=analysistemplates (namespaced)"
        ),
        "{}",
        resolved.stderr
    );
    let ci = cluster.kubectl_with(namespace.dir().join("kubeconfig_ci_cd.yaml"));
    ci.run_with_stdin(&["apply", "-f", "-"], ROLLOUT_APP)
        .expect_success("the pipeline applies its AnalysisTemplate");
}

/// `status` finds the classic leaks an administrator adds by hand — a RoleBinding to `edit`,
/// a ClusterRoleBinding to `view` — and a hand-edited Role, and exits 1 for each; a fresh
/// access is ok.
#[test]
fn status_finds_wider_bindings_and_drift() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    expect_code(&apply_welkin(&namespace), 0, "apply");
    let status = |extra: &[&str]| {
        let mut args = vec!["status", "-n", namespace.name()];
        args.extend_from_slice(extra);
        cicd(&admin, namespace.dir(), &args)
    };
    let fresh = status(&[]);
    expect_code(&fresh, 0, "status of a fresh access");
    assert!(fresh.stdout.contains("ServiceAccount ci-cd"), "{}", fresh.stdout);
    assert!(fresh.stdout.lines().nth(1).is_some_and(|l| l.ends_with(" ok")), "{}", fresh.stdout);
    let fresh_json = status(&["-o", "json"]);
    assert!(fresh_json.stdout.contains(r#""effectiveBeyondRole": []"#), "{}", fresh_json.stdout);

    let sa = format!("{}:ci-cd", namespace.name());
    admin.ok(&[
        "create",
        "rolebinding",
        "by-hand",
        "--clusterrole=edit",
        &format!("--serviceaccount={sa}"),
    ]);
    let crb = format!("view-{}", namespace.name());
    cluster.admin().kubectl().ok(&[
        "create",
        "clusterrolebinding",
        &crb,
        "--clusterrole=view",
        &format!("--serviceaccount={sa}"),
    ]);
    admin.ok(&[
        "patch",
        "role",
        "ci-cd",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/rules/0/verbs/-","value":"deletecollection"}]"#,
    ]);
    let leaky = status(&[]);
    expect_code(&leaky, 1, "status with wider bindings and drift");
    for words in [
        "RoleBinding by-hand binds ServiceAccount ci-cd to ClusterRole/edit",
        &format!(
            "ClusterRoleBinding {crb} binds ServiceAccount ci-cd to ClusterRole/view cluster-wide"
        ),
        "Role ci-cd has drifted from the rules it was applied with",
        ":deletecollection",
        // The admin may impersonate: the API server's own answer, as the ServiceAccount.
        &format!("as system:serviceaccount:{sa}, the API server allows "),
    ] {
        assert!(leaky.stdout.contains(words), "{words:?} in\n{}", leaky.stdout);
    }
    let json = status(&["-o", "json"]);
    let report: serde_json::Value =
        serde_json::from_str(&json.stdout).expect("status -o json is JSON");
    assert_eq!(report["accesses"][0]["wider"].as_array().map(Vec::len), Some(2), "{report}");
    let beyond = report["accesses"][0]["effectiveBeyondRole"].as_array().unwrap();
    // edit's, which the Role does not grant.
    assert!(
        beyond.iter().any(|r| r.as_str()
            == Some("apps:daemonsets:get,list,watch,create,delete,deletecollection,patch,update")),
        "{report}"
    );
    let secret = admin.ok(&["get", "secret", "ci-cd", "-o", "jsonpath={.data.token}"]);
    assert!(
        !json.stdout.contains(secret.trim()) && !leaky.stdout.contains(secret.trim()),
        "the token leaked"
    );
    cluster.admin().kubectl().ok(&["delete", "clusterrolebinding", &crb]);
}

/// A keyless access (issue 20) for `repository` on `main`, in `namespace`, for `server`.
fn keyless_spec(namespace: &str, server: &str, repository: &str) -> String {
    format!(
        "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: {namespace}\nserver: {server}\n\
         token:\n  kind: keyless\n  provider: github\n  repository: {repository}\n  ref: refs/heads/main\n\
         rules:\n- apiGroups: ['']\n  resources: [configmaps]\n  verbs: [get, list, create]\n"
    )
}

#[test]
fn keyless_apply_binds_the_ci_user_and_writes_a_kubeconfig_without_a_token() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    let spec = namespace.dir().join("keyless.yaml");
    fs::write(&spec, keyless_spec(namespace.name(), cluster.server(), "org/app")).unwrap();
    let out = cicd(&admin, namespace.dir(), &["apply", "-f", "keyless.yaml"]);
    expect_code(&out, 0, "keyless apply as admin");
    assert!(out.stdout.contains("role/ci-cd created"), "{}", out.stdout);
    assert!(out.stdout.contains("rolebinding/ci-cd created"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("serviceaccount/") && !out.stdout.contains("secret/"),
        "{}",
        out.stdout
    );
    // Verified by impersonating the CI user: the admin may.
    let user = "github:repo:org/app:ref:refs/heads/main";
    assert!(out.stdout.contains(&format!("verified: authenticates as {user}")), "{}", out.stdout);
    // The pre-check's word on the authenticator: this control plane shows no kube-apiserver
    // pod (keyless_check.rs has one that does).
    assert!(
        out.stdout.contains("authenticator: cannot tell: no kube-apiserver pod is visible"),
        "{}",
        out.stdout
    );

    let kubectl = admin.clone().namespace(namespace.name());
    let account = kubectl.run(&["get", "serviceaccount", "ci-cd"]);
    assert!(account.stderr.contains("NotFound"), "no ServiceAccount: {}", account.stderr);
    let binding = kubectl.run(&[
        "get",
        "rolebinding",
        "ci-cd",
        "-o",
        "jsonpath={.subjects[0].kind}/{.subjects[0].name}",
    ]);
    assert_eq!(binding.stdout, format!("User/{user}"));
    let as_ci = |who: &str, verb: &str| {
        kubectl.run(&["auth", "can-i", verb, "configmaps", "--as", who]).stdout.trim() == "yes"
    };
    assert!(as_ci(user, "create") && as_ci(user, "list"));
    assert!(!as_ci(user, "delete"), "only what the Role grants");
    assert!(!as_ci("github:repo:org/other:ref:refs/heads/main", "create"), "another repository");
    assert!(!as_ci("github:repo:org/app:ref:refs/heads/dev", "create"), "another branch");

    // The kubeconfig: server, CA and the exec plugin; no token anywhere.
    let text = fs::read_to_string(namespace.dir().join("kubeconfig_ci_cd.yaml")).unwrap();
    assert!(!text.contains("token:"), "{text}");
    assert!(text.contains("command: kubectl-cicd"), "{text}");
    assert!(
        text.contains(&format!("- {}", cluster.server())),
        "the audience is the server: {text}"
    );
    assert!(text.contains("certificate-authority-data:"), "{text}");
    // rotate has nothing to rotate.
    let rotate = cicd(&admin, namespace.dir(), &["rotate", "-f", "keyless.yaml"]);
    expect_code(&rotate, 2, "rotate a keyless access");
    assert!(rotate.stderr.contains("no token to rotate"), "{}", rotate.stderr);
}

#[test]
fn keyless_apply_by_a_namespace_admin_says_it_could_not_verify() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.tenant_namespace();
    let tenant = namespace.as_identity(cluster.namespace_admin());
    fs::write(
        namespace.dir().join("keyless.yaml"),
        keyless_spec(namespace.name(), cluster.server(), "org/app"),
    )
    .unwrap();
    let out = cicd(&tenant, namespace.dir(), &["apply", "-f", "keyless.yaml"]);
    expect_code(&out, 0, "keyless apply as namespace-admin");
    assert!(out.stdout.contains("rolebinding/ci-cd created"), "{}", out.stdout);
    assert!(out.stdout.contains("not verified: you may not impersonate"), "{}", out.stdout);
    assert!(
        out.stdout.contains("authenticator: cannot tell: you may not list pods in kube-system"),
        "{}",
        out.stdout
    );
}
