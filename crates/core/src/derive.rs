//! Derive the least Role from what the pipeline deploys.
//!
//! Give the manifests the pipeline applies (what `helm template`, `kustomize build` or a
//! folder of files produce) and the deploy method; get back the rules that method needs for
//! exactly those kinds, each with the reasons it is there, plus what a namespaced CI/CD
//! identity cannot or should not deploy and which kinds are unknown.
//!
//! # API (the page and `kubectl cicd generate --from-manifests` both call this)
//! - [`derive`]`(&[Source], &DeriveOptions) -> Result<Derivation, DeriveError>`: one
//!   [`Source`] per file (name + text; `-` or `pasted` for stdin and the text box). The CLI
//!   reads a directory's `*.yaml`, `*.yml` and `*.json` files in name order.
//! - [`DeriveOptions::new`]`(Deployer)`, then set `namespace`, `delete` (kubectl
//!   `delete -f`, `helm uninstall`), `prune` (`kubectl apply --prune`), `wait` and
//!   `rollback` (Helm) and `overrides` ([`KindOverride`], parsed from `Kind.group=plural`).
//!   [`Deployer`] and [`HelmWait`] parse from the CLI words (`apply`, `server-side`, `helm`;
//!   `none`, `legacy`, `watcher`).
//! - [`Derivation::rules`] is a plain `Vec<Rule>` for [`crate::AccessSpec::rules`];
//!   [`Derivation::rules_with_reasons`] keeps every rule's [`Reason`]s for display;
//!   [`Derivation::explain`] is the plain-text report the CLI prints.
//! - [`crate::draft::merge_rules`]`(preset_or_hand_edited, derived)` combines them; the result is
//!   ordinary rules that go through [`crate::validate::validate_rules`] and
//!   [`crate::coverage::check_role`] like any Role.
//!
//! The verb facts, per method:
//! - `kubectl apply` (client-side) GETs each object, then POSTs it when it is missing or
//!   PATCHes it (three-way strategic merge) when it exists: get, create, patch.
//! - `kubectl apply --server-side` sends one PATCH (`application/apply-patch+yaml`) per
//!   object without reading it first; the API server also checks `create` when that patch
//!   creates the object (and refuses with an empty-reason 403): create, patch.
//! - `kubectl delete -f`: delete (its wait for the deletion is skipped when forbidden).
//!   `--prune`: list and delete on every allowlisted kind.
//!
//! `tests/tests/derive_e2e.rs` proves each method's Role sufficient and minimal on a real
//! control plane (Helm by replaying its API calls with kubectl).
//! - `helm upgrade --install` (Helm 3 and 4): lists its release Secrets (label
//!   `owner=helm`), GETs each object (install: conflict check; upgrade: patch base), creates
//!   or patches it, creates the new release Secret and updates the old ones; past
//!   `--history-max` it gets and deletes the oldest. `--wait` in Helm 3 (Helm 4
//!   `--wait=legacy`) GETs the objects and lists the ReplicaSets of Deployments; Helm 4's
//!   default watcher (kstatus) lists and watches every kind and lists the ReplicaSets and
//!   Pods of Deployments. `helm uninstall`: delete the objects, update, get and delete the
//!   release Secrets. `helm rollback`: get the old release Secret, patch or create objects.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::str::FromStr;

use k8s_openapi::ClusterResourceScope;
use k8s_openapi::api::{
    admissionregistration, certificates, core, flowcontrol, networking, node, rbac, scheduling,
    storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde::Serialize;

use crate::catalog;
use crate::coverage;
use crate::spec::Rule;

/// One input file (or the pasted text, or stdin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Shown in messages: a path, `-` or `pasted`.
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source { name: name.into(), text: text.into() }
    }
}

/// How the pipeline deploys the manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployer {
    /// `kubectl apply` (client-side apply).
    Apply,
    /// `kubectl apply --server-side`.
    ServerSide,
    /// `helm upgrade --install`.
    Helm,
}

impl Deployer {
    /// The command as users write it.
    pub fn command(self) -> &'static str {
        match self {
            Deployer::Apply => "kubectl apply",
            Deployer::ServerSide => "kubectl apply --server-side",
            Deployer::Helm => "helm upgrade --install",
        }
    }
}

impl fmt::Display for Deployer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Deployer::Apply => "apply",
            Deployer::ServerSide => "server-side",
            Deployer::Helm => "helm",
        })
    }
}

impl FromStr for Deployer {
    type Err = DeriveError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "apply" | "client-side" => Ok(Deployer::Apply),
            "server-side" | "ssa" => Ok(Deployer::ServerSide),
            "helm" => Ok(Deployer::Helm),
            other => Err(DeriveError::UnknownDeployer { value: other.to_owned() }),
        }
    }
}

/// What `helm ... --wait` does, which differs between Helm 3 and Helm 4.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelmWait {
    /// No `--wait`.
    #[default]
    None,
    /// Helm 3 `--wait`, Helm 4 `--wait=legacy`: polls with GET, lists ReplicaSets.
    Legacy,
    /// Helm 4 `--wait` (`--wait=watcher`): kstatus informers, list and watch.
    Watcher,
}

impl FromStr for HelmWait {
    type Err = DeriveError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "none" | "false" | "" => Ok(HelmWait::None),
            "legacy" | "helm3" | "true" => Ok(HelmWait::Legacy),
            "watcher" | "helm4" => Ok(HelmWait::Watcher),
            other => Err(DeriveError::UnknownWait { value: other.to_owned() }),
        }
    }
}

/// The user's word on a custom kind: it is namespaced and its plural is `resource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindOverride {
    /// API group, `""` for the core group.
    pub group: String,
    pub kind: String,
    pub resource: String,
}

impl FromStr for KindOverride {
    type Err = DeriveError;

    /// `Widget.example.com=widgets`, or `Widget=widgets` for the core group.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| DeriveError::InvalidOverride {
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let (left, resource) = value.split_once('=').ok_or_else(|| invalid("no `=`"))?;
        let (kind, group) = left.split_once('.').unwrap_or((left, ""));
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid("the kind must be letters and digits, as in `kind:`"));
        }
        let plural_ok = !resource.is_empty()
            && resource.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !plural_ok {
            return Err(invalid("the resource must be the lowercase plural, e.g. `widgets`"));
        }
        Ok(KindOverride {
            group: group.to_owned(),
            kind: kind.to_owned(),
            resource: resource.to_owned(),
        })
    }
}

/// Everything besides the manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeriveOptions {
    pub deployer: Deployer,
    /// Namespace the pipeline deploys to; `None`: whatever the objects name, if they agree.
    pub namespace: Option<String>,
    /// The pipeline also removes what it deployed: `kubectl delete -f`, `helm uninstall`.
    pub delete: bool,
    /// `kubectl apply --prune --prune-allowlist=...` (kubectl deployers only).
    pub prune: bool,
    /// `helm --wait` (Helm only).
    pub wait: HelmWait,
    /// `helm rollback` (Helm only).
    pub rollback: bool,
    pub overrides: Vec<KindOverride>,
}

impl DeriveOptions {
    pub fn new(deployer: Deployer) -> Self {
        DeriveOptions {
            deployer,
            namespace: None,
            delete: false,
            prune: false,
            wait: HelmWait::None,
            rollback: false,
            overrides: Vec::new(),
        }
    }
}

/// One object found in the manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Where it was found: `chart/templates/x.yaml` (from helm's `# Source:` comment) or
    /// `file.yaml, document 2`.
    pub origin: String,
}

impl ObjectRef {
    fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(group, _)| group)
    }

    fn label(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }
}

/// Why a rule holds some of its verbs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub verbs: Vec<String>,
    pub because: String,
}

/// A derived rule with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DerivedRule {
    pub rule: Rule,
    pub reasons: Vec<Reason>,
}

/// Why an object gets no rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// A Role cannot grant cluster-scoped kinds.
    ClusterScoped,
    /// A Role grants nothing outside its namespace.
    OtherNamespace,
    /// Writing RBAC lets the pipeline grant permissions.
    Rbac,
}

/// An object a namespaced CI/CD identity cannot or should not deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub object: ObjectRef,
    pub refusal: Refusal,
    pub why: String,
}

/// A kind neither the catalog, the well-known CRDs nor an override knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownKind {
    pub api_version: String,
    pub kind: String,
    pub objects: Vec<String>,
}

/// The derived Role and everything the user should know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Derivation {
    pub deployer: Deployer,
    pub objects: Vec<ObjectRef>,
    pub rules: Vec<DerivedRule>,
    pub refused: Vec<Refused>,
    pub unknown: Vec<UnknownKind>,
    /// Objects the method does not deploy (Helm test hooks), with why.
    pub skipped: Vec<String>,
    pub notes: Vec<String>,
}

/// Why the manifests could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    #[error("{origin} (line {line}): not valid YAML: {message}")]
    Yaml { origin: String, line: usize, message: String },
    #[error(
        "{origin} (line {line}): not a Kubernetes object (no `kind` or `apiVersion`); pass rendered manifests: the output of `helm template`, `kustomize build` or the files the pipeline applies, not a values file"
    )]
    NotAnObject { origin: String, line: usize },
    #[error("{origin}: `items` of a {kind} must be a list of objects")]
    BadList { origin: String, kind: String },
    #[error(
        "no Kubernetes object in {sources}; pass the output of `helm template`, `kustomize build` or the folder of manifests the pipeline applies"
    )]
    NoObjects { sources: String },
    #[error(
        "override {value:?}: {reason}; write it as Kind.group=plural, e.g. Widget.example.com=widgets"
    )]
    InvalidOverride { value: String, reason: String },
    #[error("{origin}: {reason}")]
    Input { origin: String, reason: crate::input::InputError },
    #[error("deployer {value:?} is unknown; use apply, server-side or helm")]
    UnknownDeployer { value: String },
    #[error(
        "helm wait {value:?} is unknown; use none, legacy (Helm 3 --wait) or watcher (Helm 4 --wait)"
    )]
    UnknownWait { value: String },
}

/// A custom resource of a widely used operator: group, kind, plural, namespaced, product.
struct WellKnown {
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    product: &'static str,
}

const fn crd(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    product: &'static str,
) -> WellKnown {
    WellKnown { group, kind, plural, namespaced, product }
}

const MONITORING: &str = "monitoring.coreos.com";
const CERT_MANAGER: &str = "cert-manager.io";
const TRAEFIK: &str = "traefik.io";
const TRAEFIK_OLD: &str = "traefik.containo.us";
const GATEWAY: &str = "gateway.networking.k8s.io";

static WELL_KNOWN: &[WellKnown] = &[
    crd(MONITORING, "PrometheusRule", "prometheusrules", true, "Prometheus Operator"),
    crd(MONITORING, "ServiceMonitor", "servicemonitors", true, "Prometheus Operator"),
    crd(MONITORING, "PodMonitor", "podmonitors", true, "Prometheus Operator"),
    crd(MONITORING, "Probe", "probes", true, "Prometheus Operator"),
    crd(MONITORING, "ScrapeConfig", "scrapeconfigs", true, "Prometheus Operator"),
    crd(MONITORING, "AlertmanagerConfig", "alertmanagerconfigs", true, "Prometheus Operator"),
    crd(MONITORING, "Prometheus", "prometheuses", true, "Prometheus Operator"),
    crd(MONITORING, "Alertmanager", "alertmanagers", true, "Prometheus Operator"),
    crd(MONITORING, "ThanosRuler", "thanosrulers", true, "Prometheus Operator"),
    crd(CERT_MANAGER, "Certificate", "certificates", true, "cert-manager"),
    crd(CERT_MANAGER, "CertificateRequest", "certificaterequests", true, "cert-manager"),
    crd(CERT_MANAGER, "Issuer", "issuers", true, "cert-manager"),
    crd(CERT_MANAGER, "ClusterIssuer", "clusterissuers", false, "cert-manager"),
    crd(TRAEFIK, "IngressRoute", "ingressroutes", true, "Traefik"),
    crd(TRAEFIK, "IngressRouteTCP", "ingressroutetcps", true, "Traefik"),
    crd(TRAEFIK, "IngressRouteUDP", "ingressrouteudps", true, "Traefik"),
    crd(TRAEFIK, "Middleware", "middlewares", true, "Traefik"),
    crd(TRAEFIK, "MiddlewareTCP", "middlewaretcps", true, "Traefik"),
    crd(TRAEFIK, "TLSOption", "tlsoptions", true, "Traefik"),
    crd(TRAEFIK, "TLSStore", "tlsstores", true, "Traefik"),
    crd(TRAEFIK, "TraefikService", "traefikservices", true, "Traefik"),
    crd(TRAEFIK, "ServersTransport", "serverstransports", true, "Traefik"),
    crd(TRAEFIK_OLD, "IngressRoute", "ingressroutes", true, "Traefik 2"),
    crd(TRAEFIK_OLD, "Middleware", "middlewares", true, "Traefik 2"),
    crd(TRAEFIK_OLD, "TLSOption", "tlsoptions", true, "Traefik 2"),
    crd(GATEWAY, "Gateway", "gateways", true, "Gateway API"),
    crd(GATEWAY, "HTTPRoute", "httproutes", true, "Gateway API"),
    crd(GATEWAY, "GRPCRoute", "grpcroutes", true, "Gateway API"),
    crd(GATEWAY, "TCPRoute", "tcproutes", true, "Gateway API"),
    crd(GATEWAY, "TLSRoute", "tlsroutes", true, "Gateway API"),
    crd(GATEWAY, "UDPRoute", "udproutes", true, "Gateway API"),
    crd(GATEWAY, "ReferenceGrant", "referencegrants", true, "Gateway API"),
    crd(GATEWAY, "GatewayClass", "gatewayclasses", false, "Gateway API"),
    crd("keda.sh", "ScaledObject", "scaledobjects", true, "KEDA"),
    crd("keda.sh", "ScaledJob", "scaledjobs", true, "KEDA"),
    crd("keda.sh", "TriggerAuthentication", "triggerauthentications", true, "KEDA"),
    crd("keda.sh", "ClusterTriggerAuthentication", "clustertriggerauthentications", false, "KEDA"),
    crd("external-secrets.io", "ExternalSecret", "externalsecrets", true, "External Secrets"),
    crd("external-secrets.io", "SecretStore", "secretstores", true, "External Secrets"),
    crd(
        "external-secrets.io",
        "ClusterSecretStore",
        "clustersecretstores",
        false,
        "External Secrets",
    ),
    crd("bitnami.com", "SealedSecret", "sealedsecrets", true, "Sealed Secrets"),
    crd(
        "autoscaling.k8s.io",
        "VerticalPodAutoscaler",
        "verticalpodautoscalers",
        true,
        "Vertical Pod Autoscaler",
    ),
    crd("networking.istio.io", "VirtualService", "virtualservices", true, "Istio"),
    crd("networking.istio.io", "DestinationRule", "destinationrules", true, "Istio"),
    crd("networking.istio.io", "Gateway", "gateways", true, "Istio"),
    crd("networking.istio.io", "ServiceEntry", "serviceentries", true, "Istio"),
    crd("argoproj.io", "Rollout", "rollouts", true, "Argo Rollouts"),
    crd("kyverno.io", "Policy", "policies", true, "Kyverno"),
    crd("kyverno.io", "ClusterPolicy", "clusterpolicies", false, "Kyverno"),
    crd("snapshot.storage.k8s.io", "VolumeSnapshot", "volumesnapshots", true, "CSI snapshots"),
    crd(
        "snapshot.storage.k8s.io",
        "VolumeSnapshotClass",
        "volumesnapshotclasses",
        false,
        "CSI snapshots",
    ),
];

/// Built-in cluster-scoped kinds: group and kind from k8s-openapi, like the catalog.
struct ClusterKind {
    group: &'static str,
    kind: &'static str,
}

const fn cluster<T: k8s_openapi::Resource<Scope = ClusterResourceScope>>() -> ClusterKind {
    ClusterKind { group: T::GROUP, kind: T::KIND }
}

static CLUSTER_KINDS: &[ClusterKind] = &[
    cluster::<core::v1::Namespace>(),
    cluster::<core::v1::Node>(),
    cluster::<core::v1::PersistentVolume>(),
    cluster::<rbac::v1::ClusterRole>(),
    cluster::<rbac::v1::ClusterRoleBinding>(),
    cluster::<CustomResourceDefinition>(),
    cluster::<APIService>(),
    cluster::<scheduling::v1::PriorityClass>(),
    cluster::<storage::v1::StorageClass>(),
    cluster::<storage::v1::CSIDriver>(),
    cluster::<storage::v1::CSINode>(),
    cluster::<storage::v1::VolumeAttachment>(),
    cluster::<networking::v1::IngressClass>(),
    cluster::<node::v1::RuntimeClass>(),
    cluster::<certificates::v1::CertificateSigningRequest>(),
    cluster::<flowcontrol::v1::FlowSchema>(),
    cluster::<flowcontrol::v1::PriorityLevelConfiguration>(),
    cluster::<admissionregistration::v1::ValidatingWebhookConfiguration>(),
    cluster::<admissionregistration::v1::MutatingWebhookConfiguration>(),
    cluster::<admissionregistration::v1::ValidatingAdmissionPolicy>(),
    cluster::<admissionregistration::v1::ValidatingAdmissionPolicyBinding>(),
];

/// Where a kind lives.
enum Lookup {
    Namespaced { group: String, resource: String, rbac: bool },
    Cluster { product: Option<&'static str> },
    Unknown,
}

fn lookup(group: &str, kind: &str, overrides: &[KindOverride]) -> Lookup {
    if let Some(o) = overrides.iter().find(|o| o.group == group && o.kind == kind) {
        return Lookup::Namespaced {
            group: o.group.clone(),
            resource: o.resource.clone(),
            rbac: false,
        };
    }
    if let Some(entry) = catalog::find_kind(group, kind) {
        return Lookup::Namespaced {
            group: entry.group.to_owned(),
            resource: entry.plural.to_owned(),
            rbac: entry.group == coverage::RBAC_GROUP,
        };
    }
    if CLUSTER_KINDS.iter().any(|c| c.group == group && c.kind == kind) {
        return Lookup::Cluster { product: None };
    }
    match WELL_KNOWN.iter().find(|w| w.group == group && w.kind == kind) {
        Some(w) if w.namespaced => Lookup::Namespaced {
            group: w.group.to_owned(),
            resource: w.plural.to_owned(),
            rbac: false,
        },
        Some(w) => Lookup::Cluster { product: Some(w.product) },
        None => Lookup::Unknown,
    }
}

/// Reads every source and derives the Role for `options`.
pub fn derive(sources: &[Source], options: &DeriveOptions) -> Result<Derivation, DeriveError> {
    let total: usize = sources.iter().map(|s| s.text.len()).sum();
    if total > crate::input::MAX_MANIFEST_BYTES {
        return Err(DeriveError::Input {
            origin: format!("{} source(s)", sources.len()),
            reason: crate::input::InputError::TooLarge {
                what: "the manifests together",
                size: total,
                limit: crate::input::MAX_MANIFEST_BYTES,
            },
        });
    }
    let mut found = Vec::new();
    for source in sources {
        found.extend(parse_manifests(source)?);
    }
    if found.is_empty() {
        let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
        let sources = if names.is_empty() { "the input".to_owned() } else { names.join(", ") };
        return Err(DeriveError::NoObjects { sources });
    }
    Ok(derive_objects(found, options))
}

/// An object with what the deploy method needs to know about it.
#[derive(Debug, Clone)]
struct Found {
    object: ObjectRef,
    /// `helm.sh/hook` annotation, split at commas.
    hooks: Vec<String>,
}

/// The objects of one source: documents split at `---`, `List`s flattened, documents that
/// are empty or only comments skipped.
pub fn parse_objects(source: &Source) -> Result<Vec<ObjectRef>, DeriveError> {
    Ok(parse_manifests(source)?.into_iter().map(|f| f.object).collect())
}

fn parse_manifests(source: &Source) -> Result<Vec<Found>, DeriveError> {
    crate::input::check_text("the manifests", &source.text, crate::input::MAX_MANIFEST_BYTES)
        .map_err(|reason| DeriveError::Input { origin: source.name.clone(), reason })?;
    let mut found = Vec::new();
    let documents = split_documents(&source.text);
    let many = documents.len() > 1;
    for (index, document) in documents.iter().enumerate() {
        let origin = match (&document.helm_source, many) {
            (Some(path), _) => format!("{} ({path})", source.name),
            (None, true) => format!("{}, document {}", source.name, index + 1),
            (None, false) => source.name.clone(),
        };
        if document.text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#')
        }) {
            continue;
        }
        let value: serde_json::Value = serde_yaml::from_str(&document.text).map_err(|e| {
            let line = document.line + e.location().map_or(0, |l| l.line().saturating_sub(1));
            let message = e.to_string();
            // serde_yaml appends " at line L column C", which is about the document alone.
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            DeriveError::Yaml { origin: origin.clone(), line, message }
        })?;
        if value.is_null() {
            continue;
        }
        flatten(&value, &origin, document.line, &mut found)?;
    }
    Ok(found)
}

fn text<'a>(value: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(*key))?.as_str()
}

fn flatten(
    value: &serde_json::Value,
    origin: &str,
    line: usize,
    found: &mut Vec<Found>,
) -> Result<(), DeriveError> {
    let (Some(kind), Some(api_version)) = (text(value, &["kind"]), text(value, &["apiVersion"]))
    else {
        return Err(DeriveError::NotAnObject { origin: origin.to_owned(), line });
    };
    if kind.ends_with("List") && value.get("items").is_some() {
        let bad = || DeriveError::BadList { origin: origin.to_owned(), kind: kind.to_owned() };
        let items = value.get("items").and_then(serde_json::Value::as_array).ok_or_else(bad)?;
        for (index, item) in items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            if !item.is_object() {
                return Err(bad());
            }
            flatten(item, &format!("{origin}, item {}", index + 1), line, found)?;
        }
        return Ok(());
    }
    let name = text(value, &["metadata", "name"]).map_or_else(
        || {
            text(value, &["metadata", "generateName"])
                .map_or_else(|| "(no name)".to_owned(), |prefix| format!("{prefix}*"))
        },
        str::to_owned,
    );
    let hooks = text(value, &["metadata", "annotations", "helm.sh/hook"])
        .map(|h| h.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    found.push(Found {
        object: ObjectRef {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            name,
            namespace: text(value, &["metadata", "namespace"]).map(str::to_owned),
            origin: origin.to_owned(),
        },
        hooks,
    });
    Ok(())
}

struct RawDocument {
    text: String,
    /// 1-based line of the document's first line in the source.
    line: usize,
    /// The path of helm template's `# Source: chart/templates/x.yaml` comment.
    helm_source: Option<String>,
}

/// Splits at `---` lines (which YAML allows to carry content or a comment after a space) and
/// drops what follows a `...` end marker until the next `---`.
fn split_documents(text: &str) -> Vec<RawDocument> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut documents = Vec::new();
    let mut current = RawDocument { text: String::new(), line: 1, helm_source: None };
    let mut ended = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if let Some(rest) =
            line.strip_prefix("---").filter(|r| r.is_empty() || r.starts_with([' ', '\t']))
        {
            documents.push(std::mem::replace(
                &mut current,
                RawDocument { text: String::new(), line: number, helm_source: None },
            ));
            ended = false;
            let rest = rest.trim_start();
            if !rest.is_empty() && !rest.starts_with('#') {
                current.text.push_str(rest);
                current.text.push('\n');
            }
            continue;
        }
        if line.starts_with("...") && line[3..].trim().is_empty() {
            ended = true;
            continue;
        }
        if ended {
            continue;
        }
        if current.helm_source.is_none()
            && let Some(path) = line.strip_prefix("# Source:")
        {
            current.helm_source = Some(path.trim().to_owned());
        }
        current.text.push_str(line);
        current.text.push('\n');
    }
    documents.push(current);
    documents
}

/// Verbs and reasons accumulated per (group, resource).
#[derive(Default)]
struct Grants {
    entries: BTreeMap<(String, String), BTreeMap<String, BTreeSet<String>>>,
}

impl Grants {
    fn grant(&mut self, group: &str, resource: &str, verbs: &[&str], because: impl Into<String>) {
        let reasons = self.entries.entry((group.to_owned(), resource.to_owned())).or_default();
        reasons.entry(because.into()).or_default().extend(verbs.iter().map(|v| (*v).to_owned()));
    }

    fn into_rules(self) -> Vec<DerivedRule> {
        self.entries
            .into_iter()
            .map(|((group, resource), reasons)| {
                let verbs: BTreeSet<String> = reasons.values().flatten().cloned().collect();
                let verbs: Vec<&str> = verbs.iter().map(String::as_str).collect();
                // Ordered by keys that are unique (a reason is a map key), so an ordered map
                // sorts them: one sort fewer in the page's wasm.
                let reasons: BTreeMap<(usize, String), Reason> = reasons
                    .into_iter()
                    .map(|(because, verbs)| {
                        let verbs: Vec<String> = verbs.into_iter().collect();
                        ((verb_rank(&verbs), because.clone()), Reason { verbs, because })
                    })
                    .collect();
                let rule = Rule::new(&[&group], &[&resource], &verbs);
                let key = (group_rank(&group), group, resource);
                (key, DerivedRule { rule, reasons: reasons.into_values().collect() })
            })
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect()
    }
}

/// Reasons in the order a deploy uses the verbs.
fn verb_rank(verbs: &[String]) -> usize {
    const ORDER: &[&str] = &["list", "get", "create", "patch", "update", "watch", "delete"];
    verbs.iter().filter_map(|v| ORDER.iter().position(|o| o == v)).min().unwrap_or(ORDER.len())
}

/// Catalog order (core first), then other groups alphabetically; stable within a group.
fn group_rank(group: &str) -> (usize, String) {
    let groups = catalog::groups();
    match groups.iter().position(|g| *g == group) {
        Some(position) => (position, String::new()),
        None => (groups.len(), group.to_owned()),
    }
}

/// `Deployment web` or `Deployments web, worker`.
fn labels(kind: &str, names: &[&str]) -> String {
    let kinds = if names.len() == 1 { kind.to_owned() } else { plural_kind(kind) };
    format!("{kinds} {}", names.join(", "))
}

fn plural_kind(kind: &str) -> String {
    if kind.ends_with('s') || kind.ends_with('x') {
        format!("{kind}es")
    } else if let Some(stem) = kind.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{kind}s")
    }
}

fn refusal_for_cluster(object: &ObjectRef, product: Option<&str>) -> String {
    let kind = object.kind.as_str();
    let specific = match kind {
        "Namespace" => "a namespaced Role cannot grant namespaces; an administrator creates the namespace once, before the pipeline's Role can exist in it".to_owned(),
        "CustomResourceDefinition" => "a CRD changes the API of the whole cluster; install CRDs once with the operator that owns them (Helm keeps them in the chart's crds/ folder, which `helm template` prints only with --include-crds)".to_owned(),
        "ClusterRole" | "ClusterRoleBinding" => format!("a {kind} grants permissions in every namespace; a pipeline that could write it could make itself cluster administrator"),
        _ => match product {
            Some(product) => format!("{kind} ({product}) is cluster-scoped: a Role cannot grant it and it affects every namespace; ask a cluster administrator to create it"),
            None => format!("{kind} is cluster-scoped: a Role cannot grant it and it affects every namespace; ask a cluster administrator to create it"),
        },
    };
    format!("cannot: {specific}")
}

const RBAC_WHY: &str = "should not: a pipeline that writes Roles or RoleBindings can grant any identity every permission it holds (and, with bind or escalate, more); create them once as an administrator, with this procedure";

/// Classifies `found` and computes the rules `options.deployer` needs.
fn derive_objects(found: Vec<Found>, options: &DeriveOptions) -> Derivation {
    let target = options.namespace.clone().or_else(|| {
        found.iter().find_map(|f| {
            let known = matches!(
                lookup(f.object.group(), &f.object.kind, &options.overrides),
                Lookup::Namespaced { .. }
            );
            if known { f.object.namespace.clone() } else { None }
        })
    });
    let mut refused = Vec::new();
    let mut unknown: Vec<UnknownKind> = Vec::new();
    let mut skipped = Vec::new();
    let mut notes = Vec::new();
    // (group, resource) → kind and the objects, in input order.
    let mut deployed: BTreeMap<(String, String), (String, String, Vec<&Found>)> = BTreeMap::new();
    for f in &found {
        let object = &f.object;
        if options.deployer == Deployer::Helm
            && !f.hooks.is_empty()
            && f.hooks.iter().all(|h| h.starts_with("test"))
        {
            skipped.push(format!(
                "{} ({}) is a helm test hook: helm upgrade does not create it, only `helm test` does",
                object.label(),
                object.origin
            ));
            continue;
        }
        match lookup(object.group(), &object.kind, &options.overrides) {
            Lookup::Unknown => {
                match unknown
                    .iter_mut()
                    .find(|u| u.api_version == object.api_version && u.kind == object.kind)
                {
                    Some(u) => u.objects.push(object.name.clone()),
                    None => unknown.push(UnknownKind {
                        api_version: object.api_version.clone(),
                        kind: object.kind.clone(),
                        objects: vec![object.name.clone()],
                    }),
                }
            }
            Lookup::Cluster { product } => refused.push(Refused {
                object: object.clone(),
                refusal: Refusal::ClusterScoped,
                why: refusal_for_cluster(object, product),
            }),
            Lookup::Namespaced { rbac: true, .. } => refused.push(Refused {
                object: object.clone(),
                refusal: Refusal::Rbac,
                why: RBAC_WHY.to_owned(),
            }),
            Lookup::Namespaced { group, resource, .. } => {
                if let (Some(ns), Some(target)) = (&object.namespace, &target)
                    && ns != target
                {
                    refused.push(Refused {
                        object: object.clone(),
                        refusal: Refusal::OtherNamespace,
                        why: format!("cannot: it names namespace {ns:?} but the pipeline deploys to {target:?}, and a Role grants nothing outside its own namespace; deploy it from that namespace's pipeline or drop metadata.namespace"),
                    });
                    continue;
                }
                deployed
                    .entry((group, resource))
                    .or_insert_with(|| {
                        (object.kind.clone(), object.api_version.clone(), Vec::new())
                    })
                    .2
                    .push(f);
            }
        }
    }
    if options.namespace.is_none()
        && let Some(target) = &target
    {
        notes.push(format!(
            "the manifests name namespace {target:?}: create the Role there (set the namespace to {target:?})"
        ));
    }

    let mut grants = Grants::default();
    for ((group, resource), (kind, _, objects)) in &deployed {
        let (hooks, plain): (Vec<&Found>, Vec<&Found>) =
            objects.iter().partition(|f| options.deployer == Deployer::Helm && !f.hooks.is_empty());
        let names = |list: &[&Found]| -> Vec<String> {
            list.iter().map(|f| f.object.name.clone()).collect()
        };
        let plain_names = names(&plain);
        let plain_refs: Vec<&str> = plain_names.iter().map(String::as_str).collect();
        let hook_names = names(&hooks);
        let hook_refs: Vec<&str> = hook_names.iter().map(String::as_str).collect();
        if !plain.is_empty() {
            let label = labels(kind, &plain_refs);
            grant_deploy(&mut grants, options, group, resource, kind, &label);
            if options.deployer == Deployer::Helm {
                grant_helm_wait(&mut grants, options.wait, group, resource, kind, &label);
            }
        }
        if !hooks.is_empty() {
            let label = labels(kind, &hook_refs);
            grants.grant(
                group,
                resource,
                &["create"],
                format!("helm runs the hook {label}: it creates it at each install or upgrade"),
            );
            grants.grant(group, resource, &["delete"], format!("helm deletes the hook {label} before creating it again (hook-delete-policy before-hook-creation, the default) and per its other delete policies"));
            if matches!(kind.as_str(), "Job" | "Pod") {
                grants.grant(
                    group,
                    resource,
                    &["list", "watch"],
                    format!("helm lists and watches the hook {label} until it completes"),
                );
            }
        }
    }
    if options.deployer == Deployer::Helm {
        grant_helm_storage(&mut grants, options);
        notes.push("Helm's release Secrets get a new name at every revision, so the Role cannot name them: it grants these verbs on every Secret of the namespace, which lets the pipeline read them all. With HELM_DRIVER=configmap Helm keeps releases in ConfigMaps instead (give the ConfigMaps the same verbs)".to_owned());
    }
    if options.prune && options.deployer != Deployer::Helm {
        let allowlist: Vec<String> = deployed
            .iter()
            .map(|((group, _), (kind, api_version, _))| {
                let version = api_version.rsplit('/').next().unwrap_or(api_version);
                let group = if group.is_empty() { "core" } else { group };
                format!("--prune-allowlist={group}/{version}/{kind}")
            })
            .collect();
        notes.push(format!(
            "without --prune-allowlist, kubectl apply --prune also prunes its default kinds, cluster-scoped Namespaces and PersistentVolumes among them, which no Role can grant; pass exactly these: {}",
            allowlist.join(" ")
        ));
    }
    if !unknown.is_empty() {
        notes.push("unknown kinds get no rule: add `Kind.group=plural` overrides for them (see `kubectl api-resources`), then derive again".to_owned());
    }
    Derivation {
        deployer: options.deployer,
        objects: found.into_iter().map(|f| f.object).collect(),
        rules: grants.into_rules(),
        refused,
        unknown,
        skipped,
        notes,
    }
}

fn grant_deploy(
    grants: &mut Grants,
    options: &DeriveOptions,
    group: &str,
    resource: &str,
    kind: &str,
    label: &str,
) {
    match options.deployer {
        Deployer::Apply => {
            grants.grant(group, resource, &["get"], format!("kubectl apply reads {label} first, to learn whether it exists and to compute the patch"));
            grants.grant(
                group,
                resource,
                &["create"],
                format!("kubectl apply creates {label} when it does not exist yet"),
            );
            grants.grant(group, resource, &["patch"], format!("kubectl apply patches {label} when it exists and changed (three-way merge with the last-applied-configuration annotation)"));
        }
        Deployer::ServerSide => {
            grants.grant(group, resource, &["patch"], format!("kubectl apply --server-side sends {label} as one PATCH (application/apply-patch+yaml) at every apply"));
            grants.grant(
                group,
                resource,
                &["create"],
                format!("when that apply patch creates {label}, the API server also checks create (refused, it answers 403 \"is forbidden: \" with no reason)"),
            );
        }
        Deployer::Helm => {
            grants.grant(group, resource, &["get"], format!("helm reads {label} before writing it: install checks that no object of that name exists outside the release, upgrade and rollback compute the patch from it"));
            grants.grant(
                group,
                resource,
                &["create"],
                format!(
                    "helm creates {label} at install, and at upgrade or rollback when it is missing"
                ),
            );
            grants.grant(group, resource, &["patch"], format!("helm upgrade and rollback patch {label} (Helm 3 three-way merge; Helm 4 server-side apply is a PATCH too)"));
        }
    }
    if options.delete {
        let by =
            if options.deployer == Deployer::Helm { "helm uninstall" } else { "kubectl delete -f" };
        grants.grant(group, resource, &["delete"], format!("{by} deletes {label}"));
    }
    if options.prune && options.deployer != Deployer::Helm {
        grants.grant(group, resource, &["list", "delete"], format!("kubectl apply --prune lists the {} of the namespace and deletes those no longer in the manifests", plural_kind(kind)));
    }
}

fn grant_helm_wait(
    grants: &mut Grants,
    wait: HelmWait,
    group: &str,
    resource: &str,
    kind: &str,
    label: &str,
) {
    let apps = "apps";
    match wait {
        HelmWait::None => {}
        HelmWait::Legacy => {
            if group == apps && kind == "Deployment" {
                grants.grant(apps, "replicasets", &["list"], format!("helm --wait (Helm 3, Helm 4 --wait=legacy) lists ReplicaSets to find the new ReplicaSet of {label} and checks it is ready"));
            }
        }
        HelmWait::Watcher => {
            grants.grant(group, resource, &["list", "watch"], format!("helm --wait (Helm 4 kstatus watcher) lists and watches the {} of the namespace until {label} is current", plural_kind(kind)));
            if group == apps && kind == "Deployment" {
                grants.grant(apps, "replicasets", &["list"], format!("helm --wait (kstatus) lists the ReplicaSets of {label} to compute its status"));
                grants.grant(
                    "",
                    "pods",
                    &["list"],
                    format!("helm --wait (kstatus) lists the Pods of the ReplicaSets of {label}"),
                );
            }
            if group == apps && matches!(kind, "StatefulSet" | "ReplicaSet") {
                grants.grant(
                    "",
                    "pods",
                    &["list"],
                    format!(
                        "helm --wait (kstatus) lists the Pods of {label} to compute its status"
                    ),
                );
            }
        }
    }
}

fn grant_helm_storage(grants: &mut Grants, options: &DeriveOptions) {
    let release = "release Secrets (type helm.sh/release.v1, labelled owner=helm)";
    grants.grant(
        "",
        "secrets",
        &["list"],
        format!(
            "helm finds the release's history and last deployed revision by listing its {release}"
        ),
    );
    grants.grant(
        "",
        "secrets",
        &["create"],
        "helm writes every new revision as a Secret sh.helm.release.v1.<release>.v<revision>",
    );
    grants.grant(
        "",
        "secrets",
        &["update"],
        "helm updates the status of the release Secrets (pending-upgrade, deployed, superseded)",
    );
    grants.grant("", "secrets", &["get", "delete"], "helm upgrade keeps --history-max revisions (10 by default): beyond that it reads and deletes the oldest release Secret");
    if options.rollback {
        grants.grant(
            "",
            "secrets",
            &["get"],
            "helm rollback reads the release Secret of the revision it returns to",
        );
    }
    if options.delete {
        grants.grant("", "secrets", &["get", "update", "delete"], "helm uninstall marks the release uninstalling, then reads and deletes every release Secret");
    }
}

impl Derivation {
    /// The rules alone, for [`crate::AccessSpec::rules`].
    pub fn rules(&self) -> Vec<Rule> {
        self.rules.iter().map(|r| r.rule.clone()).collect()
    }

    /// The rules with their reasons.
    pub fn rules_with_reasons(&self) -> &[DerivedRule] {
        &self.rules
    }

    /// How [`crate::lint::lint_role`] should read the derived rules.
    pub fn lint_options(&self) -> crate::lint::LintOptions {
        crate::lint::LintOptions { helm: self.deployer == Deployer::Helm }
    }

    /// Whether every object got a rule (nothing refused, nothing unknown).
    pub fn is_complete(&self) -> bool {
        self.refused.is_empty() && self.unknown.is_empty()
    }

    /// The report the CLI prints: rules with reasons, refused objects, unknown kinds, notes.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let count = self.objects.len();
        let plural = if count == 1 { "" } else { "s" };
        let _ =
            writeln!(out, "Derived from {count} object{plural} for `{}`:", self.deployer.command());
        for derived in &self.rules {
            let rule = &derived.rule;
            let group = rule.api_groups.first().map_or("", String::as_str);
            let group = if group.is_empty() { "core" } else { group };
            let _ = writeln!(
                out,
                "\n  {} ({group}): {}",
                rule.resources.join(", "),
                rule.verbs.join(", ")
            );
            for reason in &derived.reasons {
                let _ = writeln!(out, "    {}: {}", reason.verbs.join(", "), reason.because);
            }
        }
        if !self.refused.is_empty() {
            out.push_str(
                "\nNot granted: a namespaced CI/CD identity cannot or should not deploy these:\n",
            );
            for r in &self.refused {
                let _ = writeln!(out, "  - {} ({}): {}", r.object.label(), r.object.origin, r.why);
            }
        }
        if !self.unknown.is_empty() {
            out.push_str("\nUnknown kinds, no rule derived:\n");
            for u in &self.unknown {
                let _ =
                    writeln!(out, "  - {} ({}): {}", u.kind, u.api_version, u.objects.join(", "));
            }
        }
        if !self.skipped.is_empty() {
            out.push_str("\nNot deployed by this method:\n");
            for s in &self.skipped {
                let _ = writeln!(out, "  - {s}");
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nNotes:\n");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::validate_rules;

    const DEMO: &str = include_str!("../tests/fixtures/derive/welkin-user-demo.yaml");
    const KUSTOMIZE_LIST: &str = include_str!("../tests/fixtures/derive/kustomize-list.yaml");
    const ODD_SEPARATORS: &str = include_str!("../tests/fixtures/derive/odd-separators.yaml");
    const FOLDER_DEPLOYMENT: &str = include_str!("../tests/fixtures/derive/folder/deployment.yaml");
    const FOLDER_SERVICE: &str = include_str!("../tests/fixtures/derive/folder/service.yaml");
    const FOLDER_EXTRAS: &str = include_str!("../tests/fixtures/derive/folder/extras.yaml");

    fn demo() -> Vec<Source> {
        vec![Source::new("welkin-user-demo.yaml", DEMO)]
    }

    fn with(deployer: Deployer, edit: impl FnOnce(&mut DeriveOptions)) -> DeriveOptions {
        let mut options = DeriveOptions::new(deployer);
        edit(&mut options);
        options
    }

    #[test]
    fn helm_template_client_side_apply() {
        let d = derive(&demo(), &with(Deployer::Apply, |o| o.delete = true)).unwrap();
        assert!(d.is_complete());
        insta::assert_yaml_snapshot!("demo_apply", d);
    }

    #[test]
    fn helm_template_server_side_apply() {
        let d = derive(&demo(), &with(Deployer::ServerSide, |o| o.delete = true)).unwrap();
        insta::assert_snapshot!("demo_server_side_explain", d.explain());
    }

    #[test]
    fn helm_template_helm_legacy_wait_uninstall_rollback() {
        let options = with(Deployer::Helm, |o| {
            o.wait = HelmWait::Legacy;
            o.delete = true;
            o.rollback = true;
        });
        let d = derive(&demo(), &options).unwrap();
        insta::assert_yaml_snapshot!("demo_helm_legacy", d);
    }

    #[test]
    fn helm_watcher_wait_lists_and_watches() {
        let d = derive(&demo(), &with(Deployer::Helm, |o| o.wait = HelmWait::Watcher)).unwrap();
        insta::assert_snapshot!("demo_helm_watcher_explain", d.explain());
        let rules = d.rules();
        assert!(coverage::allows(&rules, "watch", "apps", "deployments", ""));
        assert!(coverage::allows(&rules, "list", "", "pods", ""));
        assert!(!coverage::allows(&rules, "watch", "", "pods", ""));
    }

    #[test]
    fn kustomize_list_is_flattened() {
        let sources = [Source::new("kustomize build", KUSTOMIZE_LIST)];
        let d = derive(&sources, &with(Deployer::ServerSide, |o| o.prune = true)).unwrap();
        insta::assert_yaml_snapshot!("kustomize_list", d);
    }

    #[test]
    fn folder_of_files_with_refusals_and_unknowns() {
        let sources = [
            Source::new("deploy/deployment.yaml", FOLDER_DEPLOYMENT),
            Source::new("deploy/extras.yaml", FOLDER_EXTRAS),
            Source::new("deploy/service.yaml", FOLDER_SERVICE),
        ];
        let options = with(Deployer::Apply, |o| o.namespace = Some("shop".into()));
        let d = derive(&sources, &options).unwrap();
        insta::assert_snapshot!("folder_explain", d.explain());
        let refusals: Vec<Refusal> = d.refused.iter().map(|r| r.refusal).collect();
        assert!(refusals.contains(&Refusal::ClusterScoped));
        assert!(refusals.contains(&Refusal::OtherNamespace));
        assert!(refusals.contains(&Refusal::Rbac));
        assert_eq!(d.unknown[0].kind, "Widget");

        let mut options = options;
        options.overrides.push("Widget.example.com=widgets".parse().unwrap());
        let d = derive(&sources, &options).unwrap();
        assert!(d.unknown.is_empty());
        assert!(coverage::allows(&d.rules(), "patch", "example.com", "widgets", ""));
    }

    #[test]
    fn odd_separators() {
        let sources = [Source::new("odd.yaml", ODD_SEPARATORS)];
        let objects = parse_objects(&sources[0]).unwrap();
        insta::assert_yaml_snapshot!("odd_separators", objects);
    }

    #[test]
    fn separators_edge_cases() {
        let parse = |text: &str| parse_objects(&Source::new("t", text)).unwrap();
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";
        assert_eq!(parse(&format!("---\n{cm}")).len(), 1);
        assert_eq!(
            parse(&format!("--- # first\n{cm}---\n# only a comment\n---\n\n---\n{cm}")).len(),
            2
        );
        assert_eq!(parse(&format!("{cm}...\n---\n{cm}...\n")).len(), 2);
        assert_eq!(
            parse("--- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n")[0].kind,
            "Secret"
        );
        assert_eq!(parse(&format!("\u{feff}{}", cm.replace('\n', "\r\n")))[0].name, "a");
        // `----` is content, not a separator.
        let block =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  x: |\n    ----\n";
        assert_eq!(parse(block).len(), 1);
    }

    #[test]
    fn errors_say_where_and_what_to_do() {
        let err = derive(
            &[Source::new("values.yaml", "replicaCount: 1\nimage:\n  tag: x\n")],
            &DeriveOptions::new(Deployer::Apply),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "values.yaml (line 1): not a Kubernetes object (no `kind` or `apiVersion`); pass rendered manifests: the output of `helm template`, `kustomize build` or the files the pipeline applies, not a values file"
        );
        let err = derive(
            &[Source::new("a.yaml", "kind: ConfigMap\napiVersion: v1\n---\nkind: [\n")],
            &DeriveOptions::new(Deployer::Apply),
        )
        .unwrap_err();
        assert!(matches!(err, DeriveError::Yaml { line: 4, .. }), "{err:?}");
        assert!(
            err.to_string().starts_with("a.yaml, document 2 (line 4): not valid YAML"),
            "{err}"
        );
        let err =
            derive(&[Source::new("-", "# nothing\n---\n")], &DeriveOptions::new(Deployer::Apply))
                .unwrap_err();
        assert_eq!(err, DeriveError::NoObjects { sources: "-".into() });
        assert!(
            "x".parse::<Deployer>().unwrap_err().to_string().contains("apply, server-side or helm")
        );
        assert!("Widget".parse::<KindOverride>().is_err());
        assert!("widget.x=Widgets".parse::<KindOverride>().is_err());
        assert_eq!("Widget=widgets".parse::<KindOverride>().unwrap().group, "");
    }

    #[test]
    fn derived_rules_are_valid_and_merge_with_a_preset() {
        for deployer in [Deployer::Apply, Deployer::ServerSide, Deployer::Helm] {
            let options = with(deployer, |o| {
                o.delete = true;
                o.wait = HelmWait::Watcher;
            });
            let rules = derive(&demo(), &options).unwrap().rules();
            assert_eq!(validate_rules(&rules), vec![], "{deployer}");
            let preset = crate::preset::find("deployment-service-ingress").unwrap().rules();
            let merged = crate::draft::merge_rules(&preset, &rules);
            assert_eq!(validate_rules(&merged), vec![]);
            assert!(coverage::missing_rules(&merged, &rules).is_empty());
            assert!(coverage::missing_rules(&merged, &preset).is_empty());
            assert_eq!(&merged[..preset.len()], &preset[..]);
        }
        // The Welkin preset already covers everything helm needs for the demo without --wait
        // except the Secrets' update, which it grants as well.
        let welkin = crate::preset::find("welkin-user-demo").unwrap().rules();
        let helm = derive(&demo(), &with(Deployer::Helm, |o| o.delete = true)).unwrap().rules();
        assert!(coverage::missing_rules(&welkin, &helm).is_empty());
    }

    #[test]
    fn derived_roles_go_through_the_lint() {
        use crate::lint::{Check, Severity, lint_role};
        for deployer in [Deployer::Apply, Deployer::ServerSide, Deployer::Helm] {
            let d = derive(&demo(), &with(deployer, |o| o.delete = true)).unwrap();
            let findings = lint_role(&d.rules(), d.lint_options());
            for finding in &findings {
                assert!(
                    matches!(
                        finding.check,
                        Check::CreatesPods | Check::ReadsSecrets | Check::WritesSecrets
                    ),
                    "{deployer}: {finding:?}"
                );
            }
            let danger: Vec<Check> = findings
                .iter()
                .filter(|f| f.severity == Severity::Danger)
                .map(|f| f.check)
                .collect();
            let expected =
                if deployer == Deployer::Helm { vec![Check::ReadsSecrets] } else { vec![] };
            assert_eq!(danger, expected, "{deployer}");
        }
    }

    #[test]
    fn every_rule_has_reasons_for_every_verb() {
        let options = with(Deployer::Helm, |o| {
            o.delete = true;
            o.wait = HelmWait::Watcher;
            o.rollback = true;
        });
        for rule in derive(&demo(), &options).unwrap().rules {
            let explained: BTreeSet<&String> = rule.reasons.iter().flat_map(|r| &r.verbs).collect();
            let verbs: BTreeSet<&String> = rule.rule.verbs.iter().collect();
            assert_eq!(explained, verbs);
        }
    }

    #[test]
    fn helm_hooks_are_recreated_and_test_hooks_skipped() {
        let text = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n---\n# Source: demo/templates/tests/test-connection.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: demo-test-connection\n  annotations:\n    \"helm.sh/hook\": test\n";
        let sources = [Source::new("helm template", text)];
        let d = derive(&sources, &DeriveOptions::new(Deployer::Helm)).unwrap();
        let jobs = d.rules.iter().find(|r| r.rule.resources == ["jobs"]).unwrap();
        assert_eq!(jobs.rule.verbs, ["create", "delete", "list", "watch"]);
        assert!(!d.rules.iter().any(|r| r.rule.resources == ["pods"]));
        assert_eq!(d.skipped.len(), 1);
        assert!(
            d.skipped[0].contains("helm template (demo/templates/tests/test-connection.yaml)"),
            "{:?}",
            d.skipped
        );
        // kubectl applies whatever it is given, hooks included.
        let d = derive(&sources, &DeriveOptions::new(Deployer::Apply)).unwrap();
        assert!(d.rules.iter().any(|r| r.rule.resources == ["pods"]));
    }

    #[test]
    fn well_known_crds_and_cluster_kinds_do_not_clash_with_the_catalog() {
        for w in WELL_KNOWN {
            assert!(catalog::find_kind(w.group, w.kind).is_none(), "{}", w.kind);
        }
        for c in CLUSTER_KINDS {
            assert!(catalog::find_kind(c.group, c.kind).is_none(), "{}", c.kind);
        }
        assert_eq!(plural_kind("Ingress"), "Ingresses");
        assert_eq!(plural_kind("NetworkPolicy"), "NetworkPolicies");
        assert_eq!(plural_kind("Gateway"), "Gateways");
    }
}
