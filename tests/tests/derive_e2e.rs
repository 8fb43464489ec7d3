//! The derived Role, on the real control plane: for the documented user demo's rendered
//! chart it lets the issued kubeconfig deploy, re-deploy and remove everything, and it is
//! minimal: without any single one of its verbs one of those steps is refused.
//!
//! `helm` itself cannot be installed here from a package registry (no Debian package, the
//! PyPI and npm packages called `helm` are unrelated, the Go module proxy is unreachable),
//! so the Helm method is proven against the API calls Helm documents and makes, replayed
//! with kubectl in Helm's order (see `helm_calls`).

use std::fs;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use cicd_access_core::derive::{ByName, Deployer, DeriveOptions, HelmWait, Source, derive};
use cicd_access_core::kubeconfig::kubeconfig_from_secret;
use cicd_access_core::manifest::build_manifests;
use cicd_access_core::{AccessSpec, Rule};
use cicd_access_tests::{ControlPlane, Kubectl, poll};
use serde_json::json;

const DEMO: &str = include_str!("../../crates/core/tests/fixtures/derive/welkin-user-demo.yaml");
/// Parallel pipelines per test; three tests run at once on two cores.
const WORKERS: usize = 2;

/// The next release of the chart: every object's labels change, so every object is patched.
fn upgraded() -> String {
    DEMO.replace("welkin-user-demo-0.1.0", "welkin-user-demo-0.2.0")
}

/// One call of the pipeline, run with its kubeconfig.
#[derive(Debug, Clone)]
struct Step {
    what: String,
    args: Vec<String>,
    stdin: Option<String>,
    /// While it runs, an administrator removes the finalizers of these objects (resource as
    /// kubectl names it, name; see [`held`]).
    release: &'static [(&'static str, &'static str)],
}

fn step(what: &str, args: &[&str], stdin: Option<String>) -> Step {
    let args = args.iter().map(|a| (*a).to_owned()).collect();
    Step { what: what.to_owned(), args, stdin, release: &[] }
}

/// The finalizer that keeps the demo's objects after their delete, as a controller's would.
const FINALIZER: &str = "cicd-access.test/hold";

/// `manifests` with the objects of `resource` (all, with `None`) held by [`FINALIZER`]: a
/// delete then leaves them in place until the finalizer is removed, so `kubectl delete -f`
/// waits for them. Holding only the kind whose verb is left out keeps the other kinds'
/// waits from ending after that kind's object is already released.
fn held(manifests: &str, resource: Option<&str>) -> String {
    let holds = |document: &str| {
        resource.is_none_or(|resource| {
            DEMO_OBJECTS.iter().zip(DEMO_KINDS).any(|((qualified, _), kind)| {
                qualified.split('.').next() == Some(resource)
                    && document.contains(&format!("\nkind: {kind}\n"))
            })
        })
    };
    manifests
        .split_inclusive("---\n")
        .map(|document| {
            if holds(document) {
                let held = format!("\nmetadata:\n  finalizers: [{FINALIZER}]\n");
                document.replacen("\nmetadata:\n", &held, 1)
            } else {
                document.to_owned()
            }
        })
        .collect()
}

/// The kinds of [`DEMO_OBJECTS`], in their order.
const DEMO_KINDS: [&str; 7] = [
    "NetworkPolicy",
    "Service",
    "Deployment",
    "HorizontalPodAutoscaler",
    "Ingress",
    "PrometheusRule",
    "ServiceMonitor",
];

/// Removes the finalizers of `objects` in `namespace`, as an administrator, after the
/// pipeline's delete has begun waiting.
fn release_later(
    cluster: &ControlPlane,
    namespace: &str,
    objects: &'static [(&'static str, &'static str)],
) -> thread::JoinHandle<()> {
    let admin = cluster.admin().kubectl().namespace(namespace);
    thread::spawn(move || {
        thread::sleep(Duration::from_secs(2));
        for (resource, name) in objects {
            admin.run(&[
                "patch",
                resource,
                name,
                "--type=merge",
                "-p",
                r#"{"metadata":{"finalizers":null}}"#,
            ]);
        }
    })
}

/// A ServiceAccount holding `rules` in a fresh namespace, issued exactly as the tool issues
/// it (Role, ServiceAccount, RoleBinding, token Secret, kubeconfig from the Secret).
fn pipeline(cluster: &ControlPlane, rules: &[Rule]) -> (String, Kubectl) {
    let namespace = cluster.namespace();
    let name = namespace.name().to_owned();
    let spec = AccessSpec {
        namespace: Some(name.clone()),
        rules: rules.to_vec(),
        ..AccessSpec::default()
    };
    let manifests = build_manifests(&spec).expect("a valid spec");
    namespace.admin().apply(&manifests.to_yaml()).expect_success("issuing the access");
    let admin = namespace.admin();
    let kubeconfig = poll("the token Secret to be filled", Duration::from_secs(30), || {
        let secret = admin.run(&["get", "secret", "ci-cd", "-o", "json"]);
        if !secret.success() || !secret.stdout.contains("\"token\"") {
            return Ok(None);
        }
        Ok(kubeconfig_from_secret(
            &secret.stdout,
            cluster.server(),
            "default-cluster",
            Some("ci-cd"),
        )
        .ok())
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    let path = namespace.dir().join("ci-cd.kubeconfig");
    fs::write(&path, kubeconfig).expect("the kubeconfig can be written");
    let kubectl = cluster.kubectl_with(path);
    // The Role and its binding take effect when the API server's informers see them.
    let (verb, resource) = probe(rules);
    poll("the pipeline's Role to take effect", Duration::from_secs(20), || {
        Ok(kubectl.can_i(&verb, &resource).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    (name, kubectl)
}

/// A verb and `resource[.group][/name]` the first rule grants, for `kubectl auth can-i`.
fn probe(rules: &[Rule]) -> (String, String) {
    let rule = &rules[0];
    let group = &rule.api_groups[0];
    let mut resource = if group.is_empty() {
        rule.resources[0].clone()
    } else {
        format!("{}.{group}", rule.resources[0])
    };
    if let Some(name) = rule.resource_names.first() {
        resource = format!("{resource}/{name}");
    }
    (rule.verbs[0].clone(), resource)
}

/// Runs `steps` in order; the first failure is returned with its stderr.
fn run(
    cluster: &ControlPlane,
    namespace: &str,
    kubectl: &Kubectl,
    steps: &[Step],
) -> Result<(), (String, String)> {
    for step in steps {
        let release =
            (!step.release.is_empty()).then(|| release_later(cluster, namespace, step.release));
        let output = match &step.stdin {
            Some(input) => kubectl.run_with_stdin(&step.args, input),
            None => kubectl.run(&step.args),
        };
        if let Some(release) = release {
            release.join().expect("the finalizers are removed");
        }
        if !output.success() {
            return Err((step.what.clone(), output.stderr));
        }
    }
    Ok(())
}

/// `rules` without `verb` in rule `index` (and without that rule if nothing is left).
fn without(rules: &[Rule], index: usize, verb: &str) -> Vec<Rule> {
    let mut reduced = rules.to_vec();
    reduced[index].verbs.retain(|v| v != verb);
    if reduced[index].verbs.is_empty() {
        reduced.remove(index);
    }
    reduced
}

/// The derived rules let `steps` succeed, and each single verb removed makes one of them be
/// refused for exactly that verb and resource. Pipelines run `WORKERS` at a time.
fn prove_sufficient_and_minimal(
    rules: &[Rule],
    steps: &(dyn Fn(&str, Option<&str>) -> Vec<Step> + Sync),
    checked: &(dyn Fn(&str) -> bool + Sync),
) {
    let cluster = ControlPlane::shared();
    let (namespace, kubectl) = pipeline(cluster, rules);
    if let Err((what, stderr)) = run(cluster, &namespace, &kubectl, &steps(&namespace, None)) {
        panic!("with the derived Role, {what} failed:\n{stderr}");
    }
    let left = cluster.admin().kubectl().namespace(&namespace).ok(&[
        "get",
        "deployments,services,ingresses,horizontalpodautoscalers,networkpolicies,prometheusrules,servicemonitors",
        "-o",
        "name",
    ]);
    assert_eq!(left.trim(), "", "the last step removes everything");

    let mut cases: Vec<(usize, String)> = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        cases.extend(
            rule.verbs.iter().filter(|verb| checked(verb)).map(|verb| (index, verb.clone())),
        );
    }
    let cases = Mutex::new(cases);
    let failures = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let Some((index, verb)) = cases.lock().unwrap().pop() else { break };
                    let rule = &rules[index];
                    let reduced = without(rules, index, &verb);
                    let (namespace, kubectl) = pipeline(cluster, &reduced);
                    let expected = format!("cannot {verb} resource \"{}\"", rule.resources[0]);
                    match run(cluster, &namespace, &kubectl, &steps(&namespace, Some(&rule.resources[0]))) {
                        Err((_, stderr)) if refused_create_in_apply_patch(&stderr, &verb, rule) => {}
                        Ok(()) => failures.lock().unwrap().push(format!(
                            "without {verb} on {}, every step still succeeded: the verb is not needed",
                            rule.resources[0]
                        )),
                        Err((_, stderr)) if stderr.contains(&expected) => {}
                        Err((what, stderr)) => failures.lock().unwrap().push(format!(
                            "without {verb} on {}, {what} failed but not with {expected:?}:\n{stderr}",
                            rule.resources[0]
                        )),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Server-side apply: the API server checks `create` inside the PATCH handler when the
/// apply creates the object, and its 403 then carries no reason (Kubernetes 1.20):
/// `Error from server (Forbidden): deployments.apps "web" is forbidden: `.
fn refused_create_in_apply_patch(stderr: &str, verb: &str, rule: &Rule) -> bool {
    let group = &rule.api_groups[0];
    let resource = &rule.resources[0];
    let qualified = if group.is_empty() { resource.clone() } else { format!("{resource}.{group}") };
    let prefix = format!("Error from server (Forbidden): {qualified} \"");
    verb == "create"
        && stderr
            .lines()
            .any(|line| line.starts_with(&prefix) && line.trim_end().ends_with("is forbidden:"))
}

fn derived(deployer: Deployer, edit: impl FnOnce(&mut DeriveOptions)) -> Vec<Rule> {
    let mut options = DeriveOptions::new(deployer);
    options.delete = true;
    edit(&mut options);
    let derivation =
        derive(&[Source::new("welkin-user-demo.yaml", DEMO)], &options).expect("derivable");
    assert!(derivation.is_complete(), "{}", derivation.explain());
    derivation.rules()
}

/// Deploy, re-deploy and delete, every object held by a finalizer that an administrator
/// removes once the delete waits: with get but without list on a kind, that wait is
/// refused and retried until kubectl's timeout (168 hours by default; here 20 s).
fn kubectl_steps(server_side: bool, resource: Option<&str>) -> Vec<Step> {
    let apply: &[&str] =
        if server_side { &["apply", "--server-side", "-f", "-"] } else { &["apply", "-f", "-"] };
    let delete = Step {
        release: &DEMO_OBJECTS,
        ..step(
            "kubectl delete -f",
            &["delete", "--timeout=20s", "-f", "-"],
            Some(held(&upgraded(), resource)),
        )
    };
    vec![
        step("the first apply", apply, Some(held(DEMO, resource))),
        step("the re-apply of the next release", apply, Some(held(&upgraded(), resource))),
        delete,
    ]
}

#[test]
fn client_side_apply_role_is_sufficient_and_minimal() {
    let rules = derived(Deployer::Apply, |_| {});
    for rule in &rules {
        assert_eq!(rule.verbs, ["create", "delete", "get", "list", "patch"], "{rule:?}");
    }
    prove_sufficient_and_minimal(&rules, &|_, held| kubectl_steps(false, held), &|_| true);
}

#[test]
fn server_side_apply_role_is_sufficient_and_minimal() {
    let rules = derived(Deployer::ServerSide, |_| {});
    for rule in &rules {
        assert_eq!(rule.verbs, ["create", "delete", "patch"], "{rule:?}");
    }
    prove_sufficient_and_minimal(&rules, &|_, held| kubectl_steps(true, held), &|_| true);
}

/// The next release without its ServiceMonitor, which `--prune` must remove.
fn upgraded_without_service_monitor() -> String {
    let next = upgraded();
    let cut = next
        .find("---\n# Source: welkin-user-demo/templates/servicemonitor.yaml")
        .expect("the fixture has a ServiceMonitor");
    next[..cut].to_owned()
}

#[test]
fn prune_role_is_sufficient_and_minimal() {
    let derivation = {
        let mut options = DeriveOptions::new(Deployer::Apply);
        options.prune = true;
        derive(&[Source::new("welkin-user-demo.yaml", DEMO)], &options).expect("derivable")
    };
    let allowlist: Vec<String> = derivation
        .notes
        .iter()
        .flat_map(|note| note.split_whitespace())
        .filter(|word| word.starts_with("--prune-allowlist="))
        .map(str::to_owned)
        .collect();
    assert_eq!(allowlist.len(), 7, "{:?}", derivation.notes);
    let rules = derivation.rules();
    let steps = move |_: &str, _: Option<&str>| {
        let mut apply =
            vec!["apply", "--prune", "-l", "app.kubernetes.io/instance=demo", "-f", "-"];
        apply.extend(allowlist.iter().map(String::as_str));
        vec![
            step("the first apply --prune", &apply, Some(DEMO.to_owned())),
            step("the re-apply --prune of the next release", &apply, Some(upgraded())),
            step(
                "the re-apply --prune without the ServiceMonitor",
                &apply,
                Some(upgraded_without_service_monitor()),
            ),
            step(
                "kubectl delete -f",
                &["delete", "-f", "-"],
                Some(upgraded_without_service_monitor()),
            ),
        ]
    };
    prove_sufficient_and_minimal(&rules, &steps, &|_| true);
}

/// (resource as kubectl names it, object name) of every object of the demo.
const DEMO_OBJECTS: [(&str, &str); 7] = [
    ("networkpolicies.networking.k8s.io", "demo-welkin-user-demo"),
    ("services", "demo-welkin-user-demo"),
    ("deployments.apps", "demo-welkin-user-demo"),
    ("horizontalpodautoscalers.autoscaling", "demo-welkin-user-demo"),
    ("ingresses.networking.k8s.io", "demo-welkin-user-demo"),
    ("prometheusrules.monitoring.coreos.com", "demo-welkin-user-demo"),
    ("servicemonitors.monitoring.coreos.com", "demo-welkin-user-demo"),
];

/// A release Secret as Helm 3's Secret storage driver writes it.
fn release_secret(revision: u32, status: &str) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": format!("sh.helm.release.v1.demo.v{revision}"),
            "labels": { "name": "demo", "owner": "helm", "status": status, "version": revision.to_string() },
        },
        // The real payload is the gzipped release JSON; its content does not matter to RBAC.
        "data": { "release": "ZGVtbw==" },
    })
    .to_string()
}

/// The API calls of `helm upgrade --install demo --wait` (install, then an upgrade),
/// `helm rollback demo 1 --wait`, history pruning at `--history-max` and
/// `helm uninstall demo --wait`, in Helm 3's order (pkg/action, pkg/kube, and the Secret
/// storage driver pkg/storage/driver/secrets.go).
fn helm_calls(namespace: &str, wait: HelmWait) -> Vec<Step> {
    let list_releases = || {
        step(
            "helm: list the release Secrets (owner=helm)",
            &["get", "secrets", "-l", "name=demo,owner=helm"],
            None,
        )
    };
    let get_each = |what: &str| -> Vec<Step> {
        DEMO_OBJECTS
            .iter()
            .map(|(resource, name)| {
                step(
                    &format!("{what}: get {resource}"),
                    &["get", resource, name, "--ignore-not-found"],
                    None,
                )
            })
            .collect()
    };
    let wait_steps = || -> Vec<Step> {
        if wait == HelmWait::Watcher {
            return kstatus_calls(namespace);
        }
        let mut steps = get_each("helm --wait");
        steps.push(step(
            "helm --wait: list the ReplicaSets of the Deployment",
            &[
                "get",
                "replicasets.apps",
                "-l",
                "app.kubernetes.io/name=welkin-user-demo,app.kubernetes.io/instance=demo",
            ],
            None,
        ));
        steps
    };
    let patch_each = |what: &str, chart: &str| -> Vec<Step> {
        let patch = json!({ "metadata": { "labels": { "helm.sh/chart": chart } } }).to_string();
        DEMO_OBJECTS
            .iter()
            .flat_map(|(resource, name)| {
                [
                    step(&format!("{what}: get {resource}"), &["get", resource, name], None),
                    step(
                        &format!("{what}: patch {resource}"),
                        &["patch", resource, name, "--type", "merge", "-p", &patch],
                        None,
                    ),
                ]
            })
            .collect()
    };
    let update = |revision: u32, status: &str| {
        step(
            &format!("helm: update release v{revision} to {status}"),
            &["replace", "-f", "-"],
            Some(release_secret(revision, status)),
        )
    };
    let create = |revision: u32, status: &str| {
        step(
            &format!("helm: create release v{revision}"),
            &["create", "-f", "-"],
            Some(release_secret(revision, status)),
        )
    };

    let mut steps = vec![list_releases()];
    // install: conflict check, pending record, objects, wait, deployed record
    steps.extend(get_each("helm install: conflict check"));
    steps.push(create(1, "pending-install"));
    steps.push(step(
        "helm install: create the objects",
        &["create", "-f", "-"],
        Some(DEMO.to_owned()),
    ));
    steps.extend(wait_steps());
    steps.push(update(1, "deployed"));
    // The watcher test checks only the wait: install, wait, uninstall.
    let full = wait != HelmWait::Watcher;
    if full {
        // upgrade
        steps.push(list_releases());
        steps.push(create(2, "pending-upgrade"));
        steps.extend(patch_each("helm upgrade", "welkin-user-demo-0.2.0"));
        steps.extend(wait_steps());
        steps.push(update(1, "superseded"));
        steps.push(update(2, "deployed"));
        // rollback to 1
        steps.push(list_releases());
        steps.push(step(
            "helm rollback: get release v1",
            &["get", "secret", "sh.helm.release.v1.demo.v1"],
            None,
        ));
        steps.push(create(3, "pending-rollback"));
        steps.extend(patch_each("helm rollback", "welkin-user-demo-0.1.0"));
        steps.extend(wait_steps());
        steps.push(update(2, "superseded"));
        steps.push(update(3, "deployed"));
        // --history-max 2: the storage driver gets, then deletes, the oldest record
        steps.push(step(
            "helm history-max: get release v1",
            &["get", "secret", "sh.helm.release.v1.demo.v1"],
            None,
        ));
        steps.push(step(
            "helm history-max: delete release v1",
            &["delete", "secret", "sh.helm.release.v1.demo.v1"],
            None,
        ));
    }
    // uninstall --wait
    steps.push(list_releases());
    let (last, kept) = if full { (3, vec![2, 3]) } else { (1, vec![1]) };
    steps.push(update(last, "uninstalling"));
    for (resource, name) in DEMO_OBJECTS {
        steps.push(step(
            &format!("helm uninstall: delete {resource}"),
            &["delete", resource, name, "--wait=false"],
            None,
        ));
    }
    steps.extend(get_each("helm uninstall --wait"));
    for revision in kept {
        let secret = format!("sh.helm.release.v1.demo.v{revision}");
        steps.push(step(
            &format!("helm uninstall: get release v{revision}"),
            &["get", "secret", &secret],
            None,
        ));
        steps.push(step(
            &format!("helm uninstall: delete release v{revision}"),
            &["delete", "secret", &secret],
            None,
        ));
    }
    steps
}

#[test]
fn helm_role_covers_helms_calls_and_is_minimal() {
    let rules = derived(Deployer::Helm, |o| {
        o.wait = HelmWait::Legacy;
        o.rollback = true;
    });
    prove_sufficient_and_minimal(&rules, &|ns, _| helm_calls(ns, HelmWait::Legacy), &|_| true);
}

/// Helm 4's default `--wait`: kstatus informers list and watch every kind of the release in
/// the namespace; its status readers list a Deployment's ReplicaSets and their Pods. Only the
/// verbs this adds to Helm 3's are checked for minimality (the rest is the test above).
#[test]
fn helm_watcher_wait_role_covers_kstatus_calls_and_is_minimal() {
    let rules = derived(Deployer::Helm, |o| {
        o.wait = HelmWait::Watcher;
        o.rollback = true;
    });
    prove_sufficient_and_minimal(&rules, &|ns, _| helm_calls(ns, HelmWait::Watcher), &|verb| {
        matches!(verb, "list" | "watch")
    });
}

/// API paths of the demo's kinds, as the informers of the kstatus watcher request them.
const WATCHED: [(&str, &str); 7] = [
    ("/apis/networking.k8s.io/v1", "networkpolicies"),
    ("/api/v1", "services"),
    ("/apis/apps/v1", "deployments"),
    ("/apis/autoscaling/v2beta2", "horizontalpodautoscalers"),
    ("/apis/networking.k8s.io/v1", "ingresses"),
    ("/apis/monitoring.coreos.com/v1", "prometheusrules"),
    ("/apis/monitoring.coreos.com/v1", "servicemonitors"),
];

fn kstatus_calls(namespace: &str) -> Vec<Step> {
    let selector = "labelSelector=app.kubernetes.io%2Fname%3Dwelkin-user-demo";
    let mut steps = Vec::new();
    for (prefix, plural) in WATCHED {
        let collection = format!("{prefix}/namespaces/{namespace}/{plural}");
        steps.push(step(
            &format!("kstatus: list {plural}"),
            &["get", "--raw", &format!("{collection}?limit=500")],
            None,
        ));
        let watch = format!("{collection}?watch=1&timeoutSeconds=1&allowWatchBookmarks=true");
        steps.push(step(&format!("kstatus: watch {plural}"), &["get", "--raw", &watch], None));
    }
    for (prefix, plural) in [("/apis/apps/v1", "replicasets"), ("/api/v1", "pods")] {
        let list = format!("{prefix}/namespaces/{namespace}/{plural}?{selector}");
        steps.push(step(
            &format!("kstatus: list the Deployment's {plural}"),
            &["get", "--raw", &list],
            None,
        ));
    }
    steps
}

/// A Secret and a ConfigMap the pipeline deploys, the ConfigMap held by [`FINALIZER`] when
/// `held` (then `kubectl delete -f` waits for it).
fn named_app(revision: u32, held: bool) -> String {
    let finalizers = if held { format!("\n  finalizers: [{FINALIZER}]") } else { String::new() };
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: grafana\n  labels: {{revision: \"{revision}\"}}\nstringData: {{password: p{revision}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels: {{revision: \"{revision}\"}}{finalizers}\ndata: {{a: b}}\n"
    )
}

const NAMED_APP_OBJECTS: [(&str, &str); 2] = [("secrets", "grafana"), ("configmaps", "app")];

/// Rules limited to the objects' names (the default for Secrets, `--by-name` for every kind)
/// deploy, re-deploy and delete the app, each of their verbs is needed, and they reach no
/// other object of the namespace. Server-side apply's create check names the object, so its
/// rules are by name entirely; client-side apply creates by POST, which names none.
#[test]
fn rules_by_name_are_sufficient_minimal_and_reach_no_other_object() {
    for (deployer, server_side) in [(Deployer::Apply, false), (Deployer::ServerSide, true)] {
        let mut options = DeriveOptions::new(deployer);
        options.delete = true;
        options.by_name = ByName::All;
        let derivation =
            derive(&[Source::new("app.yaml", named_app(1, false))], &options).expect("derivable");
        let rules = derivation.rules();
        if !server_side {
            assert!(
                derivation.notes.iter().any(|n| n.contains("--wait=false")),
                "{:?}",
                derivation.notes
            );
        }
        let named: Vec<&Rule> = rules.iter().filter(|r| !r.resource_names.is_empty()).collect();
        assert_eq!(named.len(), 2, "{deployer}: {rules:?}");
        if server_side {
            assert_eq!(rules.len(), 2, "{deployer}: every rule names its objects: {rules:?}");
        }
        let steps = move |_: &str, _: Option<&str>| {
            let apply: &[&str] = if server_side {
                &["apply", "--server-side", "-f", "-"]
            } else {
                &["apply", "-f", "-"]
            };
            vec![
                step("the first apply", apply, Some(named_app(1, true))),
                step("the re-apply of a change", apply, Some(named_app(2, true))),
                // A list would read every object of the kind, so the client-side Role has
                // none and the derivation says to delete without waiting.
                Step {
                    release: &NAMED_APP_OBJECTS,
                    ..step(
                        "kubectl delete -f",
                        if server_side {
                            &["delete", "--timeout=20s", "-f", "-"]
                        } else {
                            &["delete", "--wait=false", "-f", "-"]
                        },
                        Some(named_app(2, true)),
                    )
                },
            ]
        };
        prove_sufficient_and_minimal(&rules, &steps, &|_| true);

        let cluster = ControlPlane::shared();
        let (namespace, kubectl) = pipeline(cluster, &rules);
        let admin = cluster.admin().kubectl().namespace(&namespace);
        admin.ok(&["create", "secret", "generic", "other", "--from-literal=password=theirs"]);
        admin.ok(&["create", "configmap", "other", "--from-literal=a=b"]);
        kubectl.run_with_stdin(&["apply", "-f", "-"], &named_app(1, false));
        for (resource, name) in NAMED_APP_OBJECTS {
            let own = kubectl.run(&["get", resource, name]);
            let other = kubectl.run(&["get", resource, "other"]);
            if server_side {
                assert!(!own.success(), "{deployer}: server-side rules need no get");
            }
            if !server_side {
                assert!(
                    own.success(),
                    "{deployer}: reading its own {resource}/{name}: {}",
                    own.stderr
                );
            }
            assert!(
                other.stderr.contains(&format!("cannot get resource \"{resource}\"")),
                "{deployer}: the pipeline read another {resource}: {other:?}"
            );
            let patched = kubectl.run(&["label", resource, "other", "taken=yes"]);
            assert!(!patched.success(), "{deployer}: the pipeline changed another {resource}");
        }
    }
}

/// An object with only a generateName: the derivation refuses it for both kubectl methods,
/// as kubectl itself does, and says to create it instead.
#[test]
fn generate_name_objects_are_refused_as_kubectl_refuses_them() {
    let object =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: migrate-\ndata: {a: b}\n";
    let cluster = ControlPlane::shared();
    let namespace = cluster.namespace();
    let admin = namespace.admin();
    for (deployer, args) in [
        (Deployer::Apply, &["apply", "-f", "-"][..]),
        (Deployer::ServerSide, &["apply", "--server-side", "-f", "-"][..]),
    ] {
        let derivation =
            derive(&[Source::new("object.yaml", object)], &DeriveOptions::new(deployer)).unwrap();
        assert!(derivation.rules().is_empty(), "{deployer}: {:?}", derivation.rules());
        let why = &derivation.refused[0].why;
        assert!(why.contains("kubectl create -f"), "{deployer}: {why}");
        let applied = admin.run_with_stdin(args, object);
        assert!(!applied.success(), "{deployer}: kubectl applied a generateName object");
        assert!(
            applied.stderr.contains("cannot use generate name with apply"),
            "{deployer}: {}",
            applied.stderr
        );
    }
    admin.run_with_stdin(&["create", "-f", "-"], object).expect_success("kubectl create names it");
}
