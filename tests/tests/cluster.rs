//! Proves the control plane is real (the documented sequence, real RBAC, the real
//! escalation check, the real token controller) and that what the core generates works
//! on it. All tests share this binary's control plane, each in namespaces of its own.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cicd_access_core::{
    AccessSpec, Rule, TokenKind, kubeconfig, manifest, preset, script, validate,
};
use cicd_access_tests::{ControlPlane, Kubectl, TestNamespace, poll};

const WELKIN_ROLE: &str = include_str!("../fixtures/welkin-user-demo-role.yaml");
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The ServiceAccount, RoleBinding and token Secret of the documented procedure, for a
/// Role called `ci-cd`.
fn documented_objects(namespace: &str) -> String {
    format!(
        "apiVersion: v1
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
  - kind: ServiceAccount
    name: ci-cd
    namespace: {namespace}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: ci-cd
  annotations:
    kubernetes.io/service-account.name: ci-cd
"
    )
}

/// Waits until the token controller filled the Secret `name`; returns it as JSON.
fn wait_for_token(admin: &Kubectl, name: &str) -> serde_json::Value {
    poll(&format!("a token in Secret {name}"), TOKEN_TIMEOUT, || {
        let secret = admin.ok(&["get", "secret", name, "-o", "json"]);
        let secret: serde_json::Value = serde_json::from_str(&secret)?;
        Ok(secret["data"]["token"].is_string().then_some(secret))
    })
    .unwrap_or_else(|e| panic!("{e:#}"))
}

fn decode(value: &serde_json::Value) -> String {
    let bytes = STANDARD.decode(value.as_str().expect("a base64 string")).expect("valid base64");
    String::from_utf8(bytes).expect("UTF-8")
}

/// Runs the documented procedure as `admin` with the given Role, and assembles the
/// kubeconfig from the Secret by hand, as the documentation does.
fn issue_by_hand(cluster: &ControlPlane, namespace: &TestNamespace<'_>, role: &str) -> PathBuf {
    let admin = namespace.admin();
    let objects = format!("{role}---\n{}", documented_objects(namespace.name()));
    admin.run_with_stdin(&["apply", "-f", "-"], &objects).expect_success("the documented apply");
    let secret = wait_for_token(&admin, "ci-cd");
    let data = &secret["data"];
    let kubeconfig = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: default-cluster
  cluster:
    certificate-authority-data: {ca}
    server: {server}
contexts:
- name: default-context
  context:
    cluster: default-cluster
    namespace: {namespace}
    user: default-user
current-context: default-context
users:
- name: default-user
  user:
    token: {token}
",
        ca = data["ca.crt"].as_str().expect("ca.crt"),
        server = cluster.server(),
        namespace = decode(&data["namespace"]),
        token = decode(&data["token"]),
    );
    let path = namespace.dir().join("kubeconfig_ci_cd.yaml");
    fs::write(&path, kubeconfig).expect("the kubeconfig can be written");
    path
}

/// The user name the API server sees for a kubeconfig: `kubectl auth whoami` needs 1.26,
/// so read it from a 403.
fn user_seen_by_server(pipeline: &Kubectl) -> String {
    let stderr = pipeline.run(&["get", "namespaces"]).expect_failure("listing namespaces");
    let start = stderr.find("User \"").map_or_else(|| panic!("{stderr}"), |i| i + 6);
    let end = stderr[start..].find('"').expect("a closing quote") + start;
    stderr[start..end].to_owned()
}

#[test]
fn documented_sequence_issues_a_least_privilege_kubeconfig() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let kubeconfig = issue_by_hand(cluster, &namespace, WELKIN_ROLE);

    let secret = wait_for_token(&namespace.admin(), "ci-cd");
    assert_eq!(decode(&secret["data"]["namespace"]), namespace.name());
    assert_eq!(decode(&secret["data"]["ca.crt"]), cluster.ca_pem());
    assert!(!decode(&secret["data"]["token"]).is_empty());

    let pipeline = cluster.kubectl_with(&kubeconfig);
    assert_eq!(
        user_seen_by_server(&pipeline),
        format!("system:serviceaccount:{}:ci-cd", namespace.name())
    );
    assert!(pipeline.can_i("create", "deployments"));
    assert!(!pipeline.can_i("create", "rolebindings"));
    assert!(!pipeline.can_i("create", "roles"));
    let elsewhere = cluster.namespace();
    assert!(!pipeline.clone().namespace(elsewhere.name()).can_i("create", "deployments"));
}

#[test]
fn namespace_admin_gets_the_documented_403_for_the_welkin_role() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.tenant_namespace();
    let stderr = namespace
        .as_identity(cluster.namespace_admin())
        .apply(WELKIN_ROLE)
        .expect_failure("the Welkin Role as namespace-admin");
    assert_eq!(
        stderr,
        "Error from server (Forbidden): roles.rbac.authorization.k8s.io \"ci-cd\" is forbidden: \
         user \"namespace-admin\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC \
         permissions not currently held:\n\
         {APIGroups:[\"monitoring.coreos.com\"], Resources:[\"prometheusrules\"], Verbs:[\"create\" \"delete\" \"get\" \"list\" \"patch\" \"update\" \"watch\"]}\n\
         {APIGroups:[\"monitoring.coreos.com\"], Resources:[\"servicemonitors\"], Verbs:[\"create\" \"delete\" \"get\" \"list\" \"patch\" \"update\" \"watch\"]}\n"
    );
    // The rest of the Role is within the built-in `admin` role: without the monitoring
    // rule the same tenant may create it.
    let without_monitoring =
        WELKIN_ROLE.replace("  - apiGroups: [monitoring.coreos.com]\n    resources: [prometheusrules, servicemonitors]\n    verbs: [create, delete, get, list, patch, update, watch]\n", "");
    assert_ne!(without_monitoring, WELKIN_ROLE);
    namespace
        .as_identity(cluster.namespace_admin())
        .apply(&without_monitoring)
        .expect_success("the Welkin Role without monitoring as namespace-admin");
}

#[test]
fn identities_hold_what_they_are_said_to() {
    let cluster = ControlPlane::shared();
    let tenant = cluster.tenant_namespace();
    let other = cluster.namespace();

    assert!(tenant.admin().can_i("create", "clusterroles"));
    assert!(tenant.as_identity(cluster.namespace_admin()).can_i("create", "deployments"));
    assert!(!other.as_identity(cluster.namespace_admin()).can_i("get", "pods"));
    assert!(!tenant.as_identity(cluster.namespace_admin()).can_i("create", "namespaces"));
    assert!(!tenant.as_identity(cluster.nobody()).can_i("get", "pods"));

    let reader = cluster.user_with_rules(other.name(), &[Rule::new(&[""], &["pods"], &["get"])]);
    let as_reader = other.as_identity(&reader);
    assert!(as_reader.can_i("get", "pods"));
    assert!(!as_reader.can_i("list", "pods"));
    assert!(!as_reader.can_i("get", "configmaps"));
    assert!(!tenant.as_identity(&reader).can_i("get", "pods"));

    let logs = cluster.user_with_rules(other.name(), &[Rule::new(&[""], &["pods/log"], &["get"])]);
    assert!(
        other
            .as_identity(&logs)
            .run(&["auth", "can-i", "get", "pods", "--subresource=log"])
            .success()
    );
    assert!(!other.as_identity(&logs).can_i("get", "pods"));

    let editor = cluster.user_with_cluster_role(tenant.name(), "edit");
    assert!(tenant.as_identity(&editor).can_i("create", "deployments.apps"));
    assert!(!tenant.as_identity(&editor).can_i("create", "rolebindings"));
}

#[test]
fn core_manifests_of_every_preset_are_accepted_server_side() {
    let cluster = ControlPlane::shared();
    for preset in preset::PRESETS {
        let namespace = cluster.namespace();
        let spec = AccessSpec { namespace: Some(namespace.name().to_owned()), ..preset.spec() };
        let yaml = manifest::build_manifests(&spec).expect("a valid preset").to_yaml();
        namespace.admin().apply(&yaml).expect_success(&format!("preset {}", preset.name));
        // Applying again changes nothing and conflicts with nothing.
        namespace.admin().apply(&yaml).expect_success(&format!("preset {} again", preset.name));
        wait_for_token(&namespace.admin(), &spec.secret);
    }
}

/// Runs the core's script with `admin`'s kubeconfig in a scratch directory; returns the kubeconfig it wrote.
fn run_core_script(admin: &Kubectl, namespace: &TestNamespace<'_>, spec: &AccessSpec) -> PathBuf {
    let text = script::render_script(spec).expect("a valid spec");
    let path = namespace.dir().join("issue.sh");
    fs::write(&path, text).expect("the script can be written");
    let mut bash = admin.env_command("bash");
    bash.arg(&path).current_dir(namespace.dir());
    let output = cicd_access_tests::run(bash, None);
    output.expect_success("the core's script");
    let kubeconfig = namespace.dir().join(kubeconfig::DEFAULT_FILE);
    assert!(kubeconfig.is_file(), "the script wrote no {}", kubeconfig.display());
    kubeconfig
}

/// One object of each kind the Welkin user demo deploys.
fn welkin_objects() -> &'static str {
    "apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
        - name: demo
          image: registry.example.com/demo:1.0
---
apiVersion: v1
kind: Service
metadata:
  name: demo
spec:
  selector: {app: demo}
  ports:
    - port: 80
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: demo
spec:
  rules:
    - host: demo.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: demo, port: {number: 80}}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: demo
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: demo}
  minReplicas: 1
  maxReplicas: 3
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: demo
spec:
  podSelector:
    matchLabels: {app: demo}
  policyTypes: [Ingress]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: demo
spec:
  groups:
    - name: demo
      rules:
        - alert: DemoDown
          expr: up{job=\"demo\"} == 0
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: demo
spec:
  selector:
    matchLabels: {app: demo}
  endpoints:
    - port: http
"
}

fn assert_confined(cluster: &ControlPlane, pipeline: &Kubectl) {
    let other = cluster.namespace();
    let elsewhere = pipeline.clone().namespace(other.name());
    elsewhere.run(&["get", "pods"]).expect_failure("listing pods in another namespace");
    elsewhere
        .run(&["create", "configmap", "intruder", "--from-literal=a=b"])
        .expect_failure("creating a ConfigMap in another namespace");
    assert!(!pipeline.can_i("create", "rolebindings"));
    assert!(!pipeline.can_i("list", "namespaces"));
}

#[test]
fn core_script_as_admin_issues_a_kubeconfig_that_deploys_the_welkin_demo() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let welkin = preset::find("welkin-user-demo").expect("the Welkin preset");
    let spec = AccessSpec { namespace: Some(namespace.name().to_owned()), ..welkin.spec() };
    let kubeconfig = run_core_script(&namespace.admin(), &namespace, &spec);

    let pipeline = cluster.kubectl_with(&kubeconfig);
    assert_eq!(
        user_seen_by_server(&pipeline),
        format!("system:serviceaccount:{}:ci-cd", namespace.name())
    );
    let created = pipeline.run_with_stdin(&["apply", "-f", "-"], welkin_objects());
    let stdout = created.expect_success("the Welkin demo's objects with the issued kubeconfig");
    for object in [
        "deployment.apps/demo",
        "service/demo",
        "ingress.networking.k8s.io/demo",
        "horizontalpodautoscaler.autoscaling/demo",
        "networkpolicy.networking.k8s.io/demo",
        "prometheusrule.monitoring.coreos.com/demo",
        "servicemonitor.monitoring.coreos.com/demo",
    ] {
        assert!(stdout.contains(&format!("{object} created")), "{object} in:\n{stdout}");
    }
    assert_confined(cluster, &pipeline);
}

#[test]
fn core_script_with_a_bound_token_and_the_current_namespace() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    // The namespace comes from the context, as when the page leaves it empty.
    let admin = fs::read_to_string(cluster.admin().kubeconfig()).expect("admin's kubeconfig");
    let in_namespace =
        admin.replace("namespace: default", &format!("namespace: {}", namespace.name()));
    let admin_kubeconfig = namespace.dir().join("admin.kubeconfig");
    fs::write(&admin_kubeconfig, in_namespace).expect("the kubeconfig can be written");
    let spec = AccessSpec {
        token: TokenKind::Bound { duration: "1h".parse().expect("a duration") },
        ..preset::find("deployment-service-ingress").expect("the preset").spec()
    };
    let kubeconfig = run_core_script(&cluster.kubectl_with(&admin_kubeconfig), &namespace, &spec);
    let pipeline = cluster.kubectl_with(&kubeconfig);
    assert_eq!(
        user_seen_by_server(&pipeline),
        format!("system:serviceaccount:{}:ci-cd", namespace.name())
    );
    pipeline.ok(&["create", "deployment", "demo", "--image=registry.example.com/demo:1.0"]);
    assert!(!pipeline.can_i("create", "secrets"));
    assert_confined(cluster, &pipeline);
}

#[test]
fn core_kubeconfig_from_a_real_secret_authenticates() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    issue_by_hand(cluster, &namespace, WELKIN_ROLE);
    for format in ["json", "yaml"] {
        let secret = namespace.admin().ok(&["get", "secret", "ci-cd", "-o", format]);
        let text =
            kubeconfig::kubeconfig_from_secret(&secret, cluster.server(), "test", Some("ci-cd"))
                .unwrap_or_else(|e| panic!("-o {format}: {e}"));
        let path = namespace.dir().join(format!("from-{format}.yaml"));
        fs::write(&path, text).expect("the kubeconfig can be written");
        let pipeline = cluster.kubectl_with(&path);
        assert!(pipeline.can_i("create", "deployments"), "-o {format}");
        assert!(!pipeline.can_i("create", "rolebindings"), "-o {format}");
    }
}

/// Names on both sides of every rule the core checks; each is sent to the API server.
const SAMPLE_NAMES: &[&str] = &[
    "ci-cd",
    "a",
    "0",
    "a-b-c",
    "0abc",
    "abc0",
    "a.b",
    "a..b",
    ".a",
    "a.",
    "-a",
    "a-",
    "a_b",
    "A",
    "CiCd",
    "a b",
    "a/b",
    "a%b",
    ".",
    "..",
    "ci-cd.example.com",
    "ä",
    "a:b",
    "a@b",
    "",
];

fn long_names() -> Vec<String> {
    let label = |n: usize| "a".repeat(n);
    vec![
        label(63),
        label(64),
        [label(63), label(63), label(63), label(61)].join("."),
        [label(63), label(63), label(63), label(62)].join("."),
        label(300),
    ]
}

/// An object of `kind` called `name`, as small as the API server takes it.
fn named_object(kind: &str, name: &str) -> serde_json::Value {
    match kind {
        "Namespace" | "ServiceAccount" | "Secret" => serde_json::json!({
            "apiVersion": "v1", "kind": kind, "metadata": { "name": name }
        }),
        "Role" => serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": { "name": name }
        }),
        "RoleBinding" => serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": { "name": name },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ci-cd" },
        }),
        _ => unreachable!("{kind}"),
    }
}

/// The names the API server takes for objects of `kind`: one server-side dry run of all
/// of them (one kubectl call instead of one per name keeps this test at a few seconds).
fn server_accepts(namespace: &TestNamespace<'_>, kind: &str, names: &[String]) -> BTreeSet<String> {
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": names.iter().map(|name| named_object(kind, name)).collect::<Vec<_>>(),
    });
    let output = namespace.admin().run_with_stdin(
        &["create", "--dry-run=server", "-o", "name", "-f", "-"],
        &list.to_string(),
    );
    let accepted: BTreeSet<String> = output
        .stdout
        .lines()
        .map(|line| line.split_once('/').map_or(line, |(_, name)| name).to_owned())
        .collect();
    // Only validation verdicts count; any other error means the test is broken.
    let rejections = output.stderr.lines().filter(|line| !line.trim().is_empty()).count();
    assert_eq!(
        rejections + accepted.len(),
        names.len(),
        "{kind}:\n{}\n{}",
        output.stdout,
        output.stderr
    );
    for line in output.stderr.lines().filter(|line| !line.trim().is_empty()) {
        assert!(line.contains("is invalid"), "{kind}: {line}");
    }
    accepted
}

type Validator = fn(&str) -> Result<(), String>;

#[test]
fn core_name_validation_agrees_with_the_api_server() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let checks: [(&str, Validator); 5] = [
        ("Namespace", validate::validate_namespace),
        ("ServiceAccount", validate::validate_subdomain),
        ("Secret", validate::validate_subdomain),
        ("Role", validate::validate_path_segment),
        ("RoleBinding", validate::validate_path_segment),
    ];
    let mut names: Vec<String> = SAMPLE_NAMES.iter().map(|name| (*name).to_owned()).collect();
    names.extend(long_names());
    let mut disagreements = Vec::new();
    for (kind, core) in checks {
        let accepted = server_accepts(&namespace, kind, &names);
        for name in &names {
            let core_accepts = core(name).is_ok();
            if accepted.contains(name) != core_accepts {
                disagreements.push(format!("{kind} {name:?}: core accepts: {core_accepts}"));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "core and API server disagree:\n{}",
        disagreements.join("\n")
    );

    // Deliberately stricter than the API server: a control character cannot be meant.
    assert!(validate::validate_path_segment("ci\tcd").is_err());
    assert!(server_accepts(&namespace, "Role", &["ci\tcd".to_owned()]).contains("ci\tcd"));
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

/// Writes the fixture when `CICD_ACCESS_WRITE_FIXTURES` is set; otherwise checks that it
/// still is what the control plane says (`stable`) or at least is there.
fn check_fixture(path: &str, actual: &str, stable: bool) {
    let file = fixture(path);
    if std::env::var_os("CICD_ACCESS_WRITE_FIXTURES").is_some() {
        fs::create_dir_all(file.parent().expect("a parent")).expect("the fixture directory");
        fs::write(&file, actual).expect("the fixture can be written");
        return;
    }
    let expected = fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!("{}: {e}; run with CICD_ACCESS_WRITE_FIXTURES=1", file.display())
    });
    if stable {
        assert_eq!(
            expected,
            actual,
            "{} no longer matches the control plane; if that is expected, run with CICD_ACCESS_WRITE_FIXTURES=1",
            file.display()
        );
    }
}

#[test]
fn fixtures_are_real() {
    let cluster = ControlPlane::shared();
    let demo = cluster.namespace_named("demo");
    issue_by_hand(cluster, &demo, WELKIN_ROLE);
    let pipeline = cluster.kubectl_with(demo.dir().join("kubeconfig_ci_cd.yaml"));
    let tenant = cluster.tenant_namespace_named("tenant");

    let who = [
        ("admin", demo.admin()),
        ("namespace-admin", tenant.as_identity(cluster.namespace_admin())),
        ("nobody", demo.as_identity(cluster.nobody())),
        ("welkin-ci-cd", pipeline.clone()),
    ];
    for (name, kubectl) in &who {
        let list = kubectl.ok(&["auth", "can-i", "--list"]);
        check_fixture(&format!("can-i-list/{name}.txt"), &list, true);
        let list = kubectl.ok(&["auth", "can-i", "--list", "--no-headers"]);
        check_fixture(&format!("can-i-list/{name}.no-headers.txt"), &list, true);
    }

    let as_tenant = tenant.as_identity(cluster.namespace_admin());
    let server_side = as_tenant.apply(WELKIN_ROLE).expect_failure("the Welkin Role");
    check_fixture("forbidden/welkin-role.server-side.txt", &server_side, true);
    let client_side = as_tenant
        .run_with_stdin(&["apply", "-f", "-"], WELKIN_ROLE)
        .expect_failure("the Welkin Role");
    check_fixture("forbidden/welkin-role.client-side.txt", &client_side, true);

    for (name, kubectl, namespace) in [
        ("namespace-admin", &who[1].1, "tenant"),
        ("nobody", &who[2].1, "demo"),
        ("welkin-ci-cd", &who[3].1, "demo"),
    ] {
        let review = format!(
            "{{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectRulesReview\",\"spec\":{{\"namespace\":\"{namespace}\"}}}}"
        );
        let json = kubectl.run_with_stdin(&["create", "-o", "json", "-f", "-"], &review);
        // The order of the rules follows the API server's caches: not comparable.
        check_fixture(
            &format!("selfsubjectrulesreview/{name}.json"),
            &json.expect_success("a SelfSubjectRulesReview"),
            false,
        );
    }

    for format in ["json", "yaml"] {
        let secret = demo.admin().ok(&["get", "secret", "ci-cd", "-o", format]);
        check_fixture(&format!("token-secret/ci-cd.{format}"), &secret, false);
    }
}
