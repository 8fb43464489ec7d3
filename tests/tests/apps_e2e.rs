//! The derived Role on public applications' rendered manifests (`tests/fixtures/apps/`, each
//! file naming the repository, path and commit it was copied from), on the real control plane.
//!
//! For every app and both kubectl deployers, the Role is derived at run time from what the app
//! deploys, issued as the tool issues it (Role, ServiceAccount, RoleBinding, token Secret,
//! kubeconfig from the Secret), and the issued kubeconfig then applies the app, re-applies it
//! with every object changed, and deletes it while every object but the Secrets is held by a
//! finalizer that an administrator removes a few seconds into the delete: the delete must wait
//! for them (client-side apply's Role lets kubectl read them) and return.
//!
//! What a namespaced Role cannot or should not grant (cluster-scoped kinds, RBAC, other
//! namespaces) must be refused with a reason, which is checked against the API server's own
//! discovery, and is then left out. What this Kubernetes 1.20 API server does not serve
//! (autoscaling/v2, batch/v1 CronJob, policy/v1, extensions/v1beta1 Deployments) and custom
//! kinds whose CRD is not installed are dropped and counted in the summary table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::fs;
use std::io::{self, Write as _};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use cicd_access_core::derive::{Deployer, DeriveOptions, KindOverride, Refusal, Source, derive};
use cicd_access_core::kubeconfig::kubeconfig_from_secret;
use cicd_access_core::manifest::build_manifests;
use cicd_access_core::{AccessSpec, Rule};
use cicd_access_tests::{ControlPlane, Kubectl, TestNamespace, poll};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use serde_json::{Value, json};

macro_rules! app {
    ($name:literal) => {
        ($name, include_str!(concat!("../fixtures/apps/", $name, ".yaml")))
    };
}

/// The corpus, in the order of the summary table.
const APPS: [(&str, &str); 17] = [
    app!("argo-rollouts-analysis"),
    app!("descheduler"),
    app!("emojivoto"),
    app!("ingress-nginx"),
    app!("istio-bookinfo"),
    app!("kind-ingress-example"),
    app!("kube-prometheus-alertmanager"),
    app!("kube-prometheus-blackbox-exporter"),
    app!("kubernetes-dashboard"),
    app!("kured"),
    app!("metrics-server"),
    app!("online-boutique"),
    app!("podinfo"),
    app!("podinfo-database"),
    app!("sock-shop"),
    app!("wordpress"),
    app!("zookeeper"),
];

/// Apps deployed at once. Each app's two deployers run one after the other: Sock Shop's
/// Service asks for a fixed node port, which only one namespace at a time can hold.
const WORKERS: usize = 3;

/// How long the administrator keeps the finalizers once the delete has reached every held
/// object, so that kubectl is really waiting for them.
const HOLD: Duration = Duration::from_secs(3);

/// The finalizer that keeps the objects after their delete, as a controller's would.
const FINALIZER: &str = "cicd-access.test/hold";

/// The change of the re-apply: every object gets it, so every object is patched.
const REVISION: &str = "cicd-access.test/revision";

/// Argo Rollouts, as a cluster running it has it installed (the operator's own CRDs carry
/// full schemas; open ones suffice to prove RBAC). The harness installs Prometheus Operator's
/// ServiceMonitor and PrometheusRule; its Alertmanager stays uninstalled, so that the
/// corpus also has a custom kind whose CRD is missing.
const ARGO_ROLLOUTS_CRDS: &str = r"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: rollouts.argoproj.io
spec:
  group: argoproj.io
  scope: Namespaced
  names: {plural: rollouts, singular: rollout, kind: Rollout, listKind: RolloutList}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: analysistemplates.argoproj.io
spec:
  group: argoproj.io
  scope: Namespaced
  names:
    plural: analysistemplates
    singular: analysistemplate
    kind: AnalysisTemplate
    listKind: AnalysisTemplateList
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
";

/// Why an object of the corpus is not deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dropped {
    /// Refused by the derivation: a Role cannot grant it.
    ClusterScoped,
    /// Refused by the derivation: writing RBAC lets the pipeline grant permissions.
    Rbac,
    /// Refused by the derivation: a Role grants nothing in another namespace.
    OtherNamespace,
    /// A built-in API version this Kubernetes 1.20 does not serve.
    NotServed,
    /// A custom kind whose CRD is not installed.
    NoCrd,
    /// The API server refuses it to the administrator too (a server-side dry run): a field
    /// newer than 1.20, or a privileged container, which this API server does not allow.
    Rejected,
}

impl Dropped {
    const ALL: [Dropped; 6] = [
        Dropped::ClusterScoped,
        Dropped::Rbac,
        Dropped::OtherNamespace,
        Dropped::NotServed,
        Dropped::NoCrd,
        Dropped::Rejected,
    ];

    fn refusal(self) -> Option<Refusal> {
        match self {
            Dropped::ClusterScoped => Some(Refusal::ClusterScoped),
            Dropped::Rbac => Some(Refusal::Rbac),
            Dropped::OtherNamespace => Some(Refusal::OtherNamespace),
            Dropped::NotServed | Dropped::NoCrd | Dropped::Rejected => None,
        }
    }
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dropped::ClusterScoped => "cluster",
            Dropped::Rbac => "rbac",
            Dropped::OtherNamespace => "other-ns",
            Dropped::NotServed => "not-1.20",
            Dropped::NoCrd => "no-crd",
            Dropped::Rejected => "rejected",
        })
    }
}

/// What the API server serves, by API version (`v1`, `apps/v1`): its kinds, as the
/// derivation takes discovery. A version it does not serve has no entry.
struct Served(BTreeMap<String, Vec<KindOverride>>);

impl Served {
    /// Asks the API server's discovery for every API version the corpus names, as kubectl
    /// and the CLI do before they apply.
    fn discover(admin: &Kubectl, apps: &[App]) -> Served {
        let versions: BTreeSet<&str> =
            apps.iter().flat_map(|app| &app.objects).map(api_version).collect();
        let mut served = BTreeMap::new();
        for version in versions {
            let path = if version.contains('/') {
                format!("/apis/{version}")
            } else {
                format!("/api/{version}")
            };
            let answer = admin.run(&["get", "--raw", &path]);
            if answer.success() {
                let list: APIResourceList = serde_json::from_str(&answer.stdout)
                    .unwrap_or_else(|e| panic!("{path} is not an APIResourceList: {e}"));
                served.insert(version.to_owned(), KindOverride::from_discovery(&list));
            } else {
                assert!(
                    answer.stderr.contains("NotFound"),
                    "discovery of {path} failed: {}",
                    answer.stderr
                );
            }
        }
        Served(served)
    }

    /// Whether `object`'s kind is namespaced; `None` if its API version does not serve it.
    fn namespaced(&self, object: &Value) -> Option<bool> {
        let kinds = self.0.get(api_version(object))?;
        kinds.iter().find(|k| k.kind == kind(object)).map(|k| k.namespaced)
    }

    fn all(&self) -> Vec<KindOverride> {
        self.0.values().flatten().cloned().collect()
    }
}

/// One application of the corpus.
struct App {
    name: &'static str,
    objects: Vec<Value>,
}

impl App {
    /// The documents of `text`, each an object (comment-only documents are skipped). The
    /// separator is a `---` line, which ends any scalar, as in YAML itself.
    fn parse(name: &'static str, text: &str) -> App {
        let mut objects = Vec::new();
        let mut document = String::new();
        for line in text.lines().chain(["---"]) {
            if line.trim_end() == "---" {
                let content = document.lines().any(|l| {
                    let l = l.trim_start();
                    !l.is_empty() && !l.starts_with('#')
                });
                if content {
                    let object: Value = serde_yaml::from_str(&document)
                        .unwrap_or_else(|e| panic!("{name}: a document is not YAML: {e}"));
                    objects.push(object);
                }
                document.clear();
            } else {
                document.push_str(line);
                document.push('\n');
            }
        }
        App { name, objects }
    }

    /// The namespace the app installs itself into: the Namespace it creates, or the one
    /// most of its namespaced objects name. The test puts that one into a fresh namespace;
    /// objects naming any other stay there, for the derivation to refuse.
    fn home(&self, served: &Served) -> Option<String> {
        if let Some(created) = self.objects.iter().find(|o| kind(o) == "Namespace") {
            return Some(name(created).to_owned());
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for object in &self.objects {
            if served.namespaced(object) != Some(false)
                && let Some(namespace) = namespace(object)
            {
                *counts.entry(namespace).or_default() += 1;
            }
        }
        counts.into_iter().max_by_key(|(_, count)| *count).map(|(ns, _)| ns.to_owned())
    }
}

fn api_version(object: &Value) -> &str {
    object["apiVersion"].as_str().unwrap_or_default()
}

fn kind(object: &Value) -> &str {
    object["kind"].as_str().unwrap_or_default()
}

fn name(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

fn namespace(object: &Value) -> Option<&str> {
    object["metadata"]["namespace"].as_str()
}

fn group(object: &Value) -> &str {
    api_version(object).rsplit_once('/').map_or("", |(group, _)| group)
}

fn label(object: &Value) -> String {
    format!("{} {}", kind(object), name(object))
}

/// Kubernetes' own groups: the core group, the unqualified ones (`apps`, `batch`, ...) and
/// `*.k8s.io`.
fn built_in(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io")
}

/// A manifest stream of `objects`, one JSON document each (JSON is YAML, and a round trip
/// through JSON keeps every scalar as the YAML parser read it).
fn stream(objects: &[Value]) -> String {
    objects.iter().fold(String::new(), |mut out, object| {
        let _ = writeln!(out, "---\n{object}");
        out
    })
}

fn set_metadata(object: &mut Value, field: &str, value: Value) {
    object["metadata"][field] = value;
}

/// What a namespaced pipeline in `target` would be refused for `object`, by the API
/// server's word on its kind, or why it is dropped when the server does not serve it.
fn expected_drop(object: &Value, served: &Served, target: &str) -> Option<Dropped> {
    match served.namespaced(object) {
        None if built_in(group(object)) => Some(Dropped::NotServed),
        None => Some(Dropped::NoCrd),
        Some(false) => Some(Dropped::ClusterScoped),
        Some(true) if group(object) == "rbac.authorization.k8s.io" => Some(Dropped::Rbac),
        Some(true) => {
            namespace(object).is_some_and(|ns| ns != target).then_some(Dropped::OtherNamespace)
        }
    }
}

/// A step of one app's pipeline that did not do what it must.
#[derive(Debug)]
struct Failure {
    step: String,
    message: String,
}

fn failure(step: &str, message: impl Into<String>) -> Failure {
    Failure { step: step.to_owned(), message: message.into() }
}

/// One app with one deployer.
struct Run {
    dropped: BTreeMap<Dropped, usize>,
    deployed: usize,
    /// Services given `protocol: TCP` for server-side apply (see [`default_protocols`]).
    defaulted: usize,
    /// How long `kubectl delete -f` took, finalizers included.
    delete: Duration,
}

/// A ServiceAccount holding `rules` in `namespace`, issued exactly as the tool issues it
/// (the core's manifests, the kubeconfig from the filled token Secret), once its Role is in
/// effect.
fn issue(cluster: &ControlPlane, namespace: &TestNamespace<'_>, rules: &[Rule]) -> Kubectl {
    let spec = AccessSpec {
        namespace: Some(namespace.name().to_owned()),
        rules: rules.to_vec(),
        ..AccessSpec::default()
    };
    let manifests = build_manifests(&spec).expect("a valid spec");
    let admin = namespace.admin();
    admin.apply(&manifests.to_yaml()).expect_success("issuing the access");
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
    let rule = &rules[0];
    let group = rule.api_groups.first().map_or("", String::as_str);
    let mut target = if group.is_empty() {
        rule.resources[0].clone()
    } else {
        format!("{}.{group}", rule.resources[0])
    };
    if let Some(name) = rule.resource_names.first() {
        target = format!("{target}/{name}");
    }
    poll("the pipeline's Role to take effect", Duration::from_secs(20), || {
        Ok(kubectl.can_i(&rule.verbs[0], &target).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e:#}"));
    kubectl
}

/// As the administrator: once the pipeline's delete has reached every held object, waits
/// [`HOLD`], then removes their finalizers (a PersistentVolumeClaim's own
/// `kubernetes.io/pvc-protection` included: the controller that would remove it does not
/// run here).
fn release_later(admin: Kubectl, held: String) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let reached = poll("the delete to reach every held object", Duration::from_mins(1), || {
            let listed = admin
                .run_with_stdin(&["get", "--ignore-not-found", "-o", "json", "-f", "-"], &held);
            let list: Value = serde_json::from_str(&listed.stdout).unwrap_or(Value::Null);
            let items = list["items"].as_array().cloned().unwrap_or_else(|| vec![list.clone()]);
            Ok(items
                .iter()
                .all(|item| item.is_null() || item["metadata"]["deletionTimestamp"].is_string())
                .then_some(()))
        });
        // Released even when the delete never came, so that nothing is left behind.
        if reached.is_ok() {
            thread::sleep(HOLD);
        }
        let patch = r#"{"metadata":{"finalizers":null}}"#;
        admin.run_with_stdin(&["patch", "--type=merge", "-p", patch, "-f", "-"], &held);
    })
}

/// `app`'s objects with its home namespace moved to `target`, split into what is deployed
/// and how many are dropped why. Fails unless the derivation refuses exactly what the API
/// server's discovery says a namespaced Role cannot or should not grant, each with a reason.
fn classify(
    app: &App,
    served: &Served,
    options: &DeriveOptions,
    target: &str,
) -> Result<(Vec<Value>, BTreeMap<Dropped, usize>), Failure> {
    let home = app.home(served);
    let objects: Vec<Value> = app
        .objects
        .iter()
        .cloned()
        .map(|mut object| {
            if home.is_some() && namespace(&object).map(str::to_owned) == home {
                set_metadata(&mut object, "namespace", json!(target));
            }
            object
        })
        .collect();
    let all = derive(&[Source::new(app.name, stream(&objects))], options)
        .map_err(|e| failure("deriving from everything the app ships", e.to_string()))?;
    let mut dropped: BTreeMap<Dropped, usize> = BTreeMap::new();
    let mut deployable = Vec::new();
    let mut mismatches = Vec::new();
    for object in &objects {
        let expected = expected_drop(object, served, target);
        let refused = all
            .refused
            .iter()
            .find(|r| r.object.kind == kind(object) && r.object.name == name(object));
        match (expected, refused) {
            (Some(drop), Some(refused)) if drop.refusal() == Some(refused.refusal) => {
                if refused.why.trim().is_empty() {
                    mismatches.push(format!("{} is refused without a reason", label(object)));
                }
            }
            // The server does not serve it: whatever the derivation thinks, it is dropped.
            (Some(Dropped::NotServed | Dropped::NoCrd), _) | (None, None) => {}
            (expected, refused) => mismatches.push(format!(
                "{}: the API server's discovery says {expected:?}, the derivation {:?}",
                label(object),
                refused.map(|r| (r.refusal, &r.why))
            )),
        }
        match expected {
            Some(drop) => *dropped.entry(drop).or_default() += 1,
            None => deployable.push(object.clone()),
        }
    }
    if mismatches.is_empty() {
        Ok((deployable, dropped))
    } else {
        Err(failure("the derivation's refusals", mismatches.join("\n")))
    }
}

/// `deployable` as the pipeline applies it first (every object but the Secrets held by
/// [`FINALIZER`]) and as it re-applies it (every object annotated with [`REVISION`]).
fn releases(deployable: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let first: Vec<Value> = deployable
        .iter()
        .cloned()
        .map(|mut object| {
            // A Secret is deleted with `--wait=false` when the Role may not list Secrets
            // (see the derivation's note), so none is held.
            if kind(&object) != "Secret" {
                set_metadata(&mut object, "finalizers", json!([FINALIZER]));
            }
            object
        })
        .collect();
    let next = first
        .iter()
        .cloned()
        .map(|mut object| {
            let mut annotations = object["metadata"]["annotations"].clone();
            if !annotations.is_object() {
                annotations = json!({});
            }
            annotations[REVISION] = json!("2");
            set_metadata(&mut object, "annotations", annotations);
            object
        })
        .collect();
    (first, next)
}

/// `object` with `protocol: TCP`, the default, on each of a Service's ports that names
/// none: Kubernetes 1.20's server-side apply refuses such ports to anyone ("failed to create
/// typed patch object: .spec.ports: element 0: associative list with keys has an element that
/// omits key field \"protocol\""), as later versions no longer do. Returns whether it changed.
fn default_protocols(object: &mut Value) -> bool {
    let mut changed = false;
    if kind(object) == "Service"
        && let Some(ports) = object["spec"]["ports"].as_array_mut()
    {
        for port in ports.iter_mut().filter(|port| port.get("protocol").is_none()) {
            port["protocol"] = json!("TCP");
            changed = true;
        }
    }
    changed
}

/// The indices of the `objects` that the administrator cannot `apply` either (a server-side
/// dry run), with the API server's answer: what fails for them is no question of the Role.
/// A bare Pod naming one of the app's own ServiceAccounts would be refused here, a dry run
/// creating none; the corpus' Pods run as `default`.
fn rejected_for_anyone(admin: &Kubectl, apply: &[&str], objects: &[Value]) -> Vec<(usize, String)> {
    let mut dry_run = apply.to_vec();
    dry_run.push("--dry-run=server");
    if admin.run_with_stdin(&dry_run, &stream(objects)).success() {
        return Vec::new();
    }
    objects
        .iter()
        .enumerate()
        .filter_map(|(index, object)| {
            let answer = admin.run_with_stdin(&dry_run, &stream(std::slice::from_ref(object)));
            (!answer.success()).then(|| (index, answer.stderr.trim().to_owned()))
        })
        .collect()
}

/// Deploys, re-deploys and deletes `app` with a Role derived for `deployer` in a fresh
/// namespace.
fn run(
    cluster: &ControlPlane,
    app: &App,
    served: &Served,
    deployer: Deployer,
) -> Result<Run, Failure> {
    let namespace = cluster.namespace();
    let mut options = DeriveOptions::new(deployer);
    options.namespace = Some(namespace.name().to_owned());
    options.delete = true;
    options.discovered = served.all();
    let (mut deployable, mut dropped) = classify(app, served, &options, namespace.name())?;
    let mut defaulted = 0;
    if deployer == Deployer::ServerSide {
        defaulted = deployable.iter_mut().map(default_protocols).filter(|changed| *changed).count();
    }
    let apply: &[&str] = match deployer {
        Deployer::ServerSide => &["apply", "--server-side", "-f", "-"],
        _ => &["apply", "-f", "-"],
    };
    let admin = namespace.admin();
    // A Pod is admitted once its ServiceAccount has a token; the pipeline's own first apply
    // comes later than that anyway.
    poll("the default ServiceAccount's token", Duration::from_secs(30), || {
        let secrets = admin.run(&["get", "serviceaccount", "default", "-o", "jsonpath={.secrets}"]);
        Ok((!secrets.stdout.trim().is_empty()).then_some(()))
    })
    .map_err(|e| failure("the namespace is ready", format!("{e:#}")))?;
    let rejected = rejected_for_anyone(&admin, apply, &deployable);
    for (index, answer) in rejected.iter().rev() {
        let object = deployable.remove(*index);
        *dropped.entry(Dropped::Rejected).or_default() += 1;
        let _ = writeln!(
            io::stderr(),
            "{} ({deployer}): {} dropped, the API server refuses it to the administrator too: {answer}",
            app.name,
            label(&object)
        );
    }
    if deployable.is_empty() {
        return Ok(Run { dropped, deployed: 0, defaulted, delete: Duration::ZERO });
    }
    let derivation = derive(&[Source::new(app.name, stream(&deployable))], &options)
        .map_err(|e| failure("deriving from what is deployed", e.to_string()))?;
    if !derivation.is_complete() {
        return Err(failure("deriving from what is deployed", derivation.explain()));
    }
    let (first, next) = releases(&deployable);
    let held: Vec<Value> = first.iter().filter(|o| kind(o) != "Secret").cloned().collect();

    let pipeline = issue(cluster, &namespace, &derivation.rules());
    let step = |what: &str, args: &[&str], input: &str| -> Result<(), Failure> {
        let output = pipeline.run_with_stdin(args, input);
        if output.success() { Ok(()) } else { Err(failure(what, output.stderr)) }
    };
    step("the first apply", apply, &stream(&first))?;
    step("the re-apply with every object changed", apply, &stream(&next))?;
    let release = (!held.is_empty()).then(|| release_later(namespace.admin(), stream(&held)));
    let begin = Instant::now();
    let deleted =
        step("kubectl delete -f", &["delete", "--timeout=90s", "-f", "-"], &stream(&next));
    let delete = begin.elapsed();
    if let Some(release) = release {
        release.join().expect("the finalizers are removed");
    }
    deleted?;
    // Client-side apply's Role lets kubectl read what it deleted, so it waited for the held
    // objects; server-side apply's Role does not (no get), so kubectl skips the wait.
    if deployer == Deployer::Apply && !held.is_empty() && delete < HOLD {
        return Err(failure(
            "kubectl delete -f",
            format!(
                "returned after {delete:.1?}, before the finalizers were removed: it did not wait"
            ),
        ));
    }
    poll("every deployed object to be gone", Duration::from_secs(30), || {
        let listed = ["get", "--ignore-not-found", "-o", "name", "-f", "-"];
        let left = admin.run_with_stdin(&listed, &stream(&deployable));
        Ok(left.stdout.trim().is_empty().then_some(()))
    })
    .map_err(|e| failure("everything is gone after the delete", format!("{e:#}")))?;
    Ok(Run { dropped, deployed: deployable.len(), defaulted, delete })
}

/// One row of the summary table.
struct Row {
    app: &'static str,
    total: usize,
    runs: Vec<(Deployer, Result<Run, Failure>)>,
}

fn summary(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = write!(out, "\n{:<34} {:>5}", "app", "total");
    for reason in Dropped::ALL {
        let _ = write!(out, " {:>8}", reason.to_string());
    }
    let _ = writeln!(out, "  {:<24} {:<24}", "apply: deployed", "server-side: deployed");
    let objects: usize = rows.iter().map(|row| row.total).sum();
    // deployer → (apps that pass, the objects they deployed, re-deployed and deleted)
    let mut totals: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for row in rows {
        let _ = write!(out, "{:<34} {:>5}", row.app, row.total);
        let first = row.runs.iter().find_map(|(_, run)| run.as_ref().ok());
        for reason in Dropped::ALL {
            let n = first.map_or("?".to_owned(), |run| {
                run.dropped.get(&reason).copied().unwrap_or(0).to_string()
            });
            let _ = write!(out, " {n:>8}");
        }
        for (deployer, run) in &row.runs {
            let entry = totals.entry(deployer.to_string()).or_default();
            let cell = match run {
                Ok(run) if run.deployed == 0 => "nothing left to deploy".to_owned(),
                Ok(run) => {
                    entry.0 += 1;
                    entry.1 += run.deployed;
                    let tcp = if run.defaulted > 0 {
                        format!(", {} tcp", run.defaulted)
                    } else {
                        String::new()
                    };
                    format!("{} pass ({:.1?}{tcp})", run.deployed, run.delete)
                }
                Err(failure) => format!("FAIL: {}", failure.step),
            };
            let _ = write!(out, "  {cell:<24}");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{objects} objects in {} apps", rows.len());
    for (deployer, (apps, deployed)) in totals {
        let _ = writeln!(
            out,
            "{deployer}: {apps} of {} apps pass; {deployed} objects applied, re-applied and deleted",
            rows.len()
        );
    }
    out.push_str(
        "(pass: the delete's wall time, finalizers included; tcp: Services given protocol: TCP for 1.20's server-side apply)\n",
    );
    out
}

#[test]
fn public_apps_deploy_redeploy_and_delete_with_the_derived_role() {
    let started = Instant::now();
    let cluster = ControlPlane::shared();
    let admin = cluster.admin().kubectl();
    admin.apply(ARGO_ROLLOUTS_CRDS).expect_success("installing Argo Rollouts' CRDs");
    admin.ok(&[
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/rollouts.argoproj.io",
        "crd/analysistemplates.argoproj.io",
    ]);
    let apps: Vec<App> = APPS.iter().map(|(name, text)| App::parse(name, text)).collect();
    let served = Served::discover(&admin, &apps);

    let queue = Mutex::new((0..apps.len()).rev().collect::<Vec<_>>());
    let rows = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let Some(index) = queue.lock().unwrap().pop() else { break };
                    let app = &apps[index];
                    let runs = [Deployer::Apply, Deployer::ServerSide]
                        .into_iter()
                        .map(|deployer| (deployer, run(cluster, app, &served, deployer)))
                        .collect();
                    rows.lock()
                        .unwrap()
                        .push((index, Row { app: app.name, total: app.objects.len(), runs }));
                }
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by_key(|(index, _)| *index);
    let rows: Vec<Row> = rows.into_iter().map(|(_, row)| row).collect();
    // On the real stderr: the table is the test's result, also when it passes.
    let _ = writeln!(io::stderr(), "{}in {:.0?}", summary(&rows), started.elapsed());

    let failures: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            row.runs.iter().filter_map(move |(deployer, run)| {
                run.as_ref().err().map(|f| {
                    format!(
                        "{} with the Role derived for {deployer}: {} failed:\n{}",
                        row.app,
                        f.step,
                        f.message.trim_end()
                    )
                })
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
