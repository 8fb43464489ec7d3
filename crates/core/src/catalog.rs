//! The built-in namespaced resources a Role can name, with the verbs each supports.
//!
//! Group, version, kind and plural come from k8s-openapi's `Resource` impls (only types
//! whose scope is `NamespaceResourceScope` compile in), so they cannot drift from the API.

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::{
    apps, authorization, autoscaling, batch, coordination, core, discovery, events, networking,
    policy, rbac, storage,
};

use crate::derive::Deployer;
use crate::spec::Rule;

/// The eight verbs of an ordinary namespaced collection.
pub const STANDARD_VERBS: &[&str] =
    &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
/// Verbs that only read.
pub const READ_VERBS: &[&str] = &["get", "list", "watch"];
/// What `kubectl apply` and `helm upgrade --install` use to deploy a resource.
pub const DEPLOY_VERBS: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];
const ROLE_VERBS: &[&str] = &[
    "bind",
    "create",
    "delete",
    "deletecollection",
    "escalate",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const SERVICE_ACCOUNT_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "impersonate",
    "list",
    "patch",
    "update",
    "watch",
];
const CREATE_ONLY: &[&str] = &["create"];
const CONNECT: &[&str] = &["create", "get"];
const STATUS: &[&str] = &["get", "patch", "update"];
const GET_ONLY: &[&str] = &["get"];
const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];

/// One resource (or subresource) a namespaced Role can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// API group; `""` is the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// The plural as used in a Role, e.g. `deployments`.
    pub plural: &'static str,
    /// `""` for the resource itself, e.g. `exec` for `pods/exec`.
    pub subresource: &'static str,
    /// Verbs this resource answers to.
    pub verbs: &'static [&'static str],
}

impl CatalogEntry {
    /// The name a Role rule uses: `deployments` or `pods/exec`.
    pub fn resource(&self) -> String {
        if self.subresource.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}/{}", self.plural, self.subresource)
        }
    }

    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn supports(&self, verb: &str) -> bool {
        verb == "*" || self.verbs.contains(&verb)
    }
}

const fn of<T: k8s_openapi::Resource<Scope = NamespaceResourceScope>>(
    verbs: &'static [&'static str],
) -> CatalogEntry {
    CatalogEntry {
        group: T::GROUP,
        version: T::VERSION,
        kind: T::KIND,
        plural: T::URL_PATH_SEGMENT,
        subresource: "",
        verbs,
    }
}

const fn sub<T: k8s_openapi::Resource<Scope = NamespaceResourceScope>>(
    subresource: &'static str,
    verbs: &'static [&'static str],
) -> CatalogEntry {
    CatalogEntry { subresource, ..of::<T>(verbs) }
}

/// Every built-in namespaced resource, grouped by API group.
pub static CATALOG: &[CatalogEntry] = &[
    of::<core::v1::ConfigMap>(STANDARD_VERBS),
    of::<core::v1::Endpoints>(STANDARD_VERBS),
    of::<core::v1::Event>(STANDARD_VERBS),
    of::<core::v1::LimitRange>(STANDARD_VERBS),
    of::<core::v1::PersistentVolumeClaim>(STANDARD_VERBS),
    sub::<core::v1::PersistentVolumeClaim>("status", STATUS),
    of::<core::v1::Pod>(STANDARD_VERBS),
    sub::<core::v1::Pod>("attach", CONNECT),
    sub::<core::v1::Pod>("ephemeralcontainers", STATUS),
    sub::<core::v1::Pod>("eviction", CREATE_ONLY),
    sub::<core::v1::Pod>("exec", CONNECT),
    sub::<core::v1::Pod>("log", GET_ONLY),
    sub::<core::v1::Pod>("portforward", CONNECT),
    sub::<core::v1::Pod>("proxy", PROXY),
    sub::<core::v1::Pod>("status", STATUS),
    of::<core::v1::PodTemplate>(STANDARD_VERBS),
    of::<core::v1::ReplicationController>(STANDARD_VERBS),
    sub::<core::v1::ReplicationController>("scale", STATUS),
    sub::<core::v1::ReplicationController>("status", STATUS),
    of::<core::v1::ResourceQuota>(STANDARD_VERBS),
    sub::<core::v1::ResourceQuota>("status", STATUS),
    of::<core::v1::Secret>(STANDARD_VERBS),
    of::<core::v1::ServiceAccount>(SERVICE_ACCOUNT_VERBS),
    sub::<core::v1::ServiceAccount>("token", CREATE_ONLY),
    of::<core::v1::Service>(STANDARD_VERBS),
    sub::<core::v1::Service>("proxy", PROXY),
    sub::<core::v1::Service>("status", STATUS),
    of::<apps::v1::ControllerRevision>(STANDARD_VERBS),
    of::<apps::v1::DaemonSet>(STANDARD_VERBS),
    sub::<apps::v1::DaemonSet>("status", STATUS),
    of::<apps::v1::Deployment>(STANDARD_VERBS),
    sub::<apps::v1::Deployment>("scale", STATUS),
    sub::<apps::v1::Deployment>("status", STATUS),
    of::<apps::v1::ReplicaSet>(STANDARD_VERBS),
    sub::<apps::v1::ReplicaSet>("scale", STATUS),
    sub::<apps::v1::ReplicaSet>("status", STATUS),
    of::<apps::v1::StatefulSet>(STANDARD_VERBS),
    sub::<apps::v1::StatefulSet>("scale", STATUS),
    sub::<apps::v1::StatefulSet>("status", STATUS),
    of::<authorization::v1::LocalSubjectAccessReview>(CREATE_ONLY),
    of::<autoscaling::v2::HorizontalPodAutoscaler>(STANDARD_VERBS),
    sub::<autoscaling::v2::HorizontalPodAutoscaler>("status", STATUS),
    of::<batch::v1::CronJob>(STANDARD_VERBS),
    sub::<batch::v1::CronJob>("status", STATUS),
    of::<batch::v1::Job>(STANDARD_VERBS),
    sub::<batch::v1::Job>("status", STATUS),
    of::<coordination::v1::Lease>(STANDARD_VERBS),
    of::<discovery::v1::EndpointSlice>(STANDARD_VERBS),
    of::<events::v1::Event>(STANDARD_VERBS),
    of::<networking::v1::Ingress>(STANDARD_VERBS),
    sub::<networking::v1::Ingress>("status", STATUS),
    of::<networking::v1::NetworkPolicy>(STANDARD_VERBS),
    of::<policy::v1::PodDisruptionBudget>(STANDARD_VERBS),
    sub::<policy::v1::PodDisruptionBudget>("status", STATUS),
    of::<rbac::v1::Role>(ROLE_VERBS),
    of::<rbac::v1::RoleBinding>(STANDARD_VERBS),
    of::<storage::v1::CSIStorageCapacity>(STANDARD_VERBS),
];

/// API groups in the order the page shows them (core first).
pub fn groups() -> Vec<&'static str> {
    let mut groups: Vec<&'static str> = Vec::new();
    for entry in CATALOG {
        if !groups.contains(&entry.group) {
            groups.push(entry.group);
        }
    }
    groups
}

/// The entry for `resource` (`deployments` or `pods/exec`) in `group`.
pub fn find(group: &str, resource: &str) -> Option<&'static CatalogEntry> {
    let (plural, subresource) = resource.split_once('/').unwrap_or((resource, ""));
    CATALOG.iter().find(|e| e.group == group && e.plural == plural && e.subresource == subresource)
}

/// The top-level entry for `kind` in `api_version` (`apps/v1`, `v1`); the version is not
/// compared so that older manifests (`autoscaling/v1`) still map.
pub fn find_kind(group: &str, kind: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|e| e.group == group && e.kind == kind && e.subresource.is_empty())
}

/// Whether `group` is one of the built-in groups this catalog covers.
pub fn is_builtin_group(group: &str) -> bool {
    CATALOG.iter().any(|e| e.group == group)
}

/// Search as the page's search box does: by plural, kind or group, case-insensitive.
/// Every name in the catalog is ASCII, so ASCII case folding is enough (and keeps
/// Unicode's case tables out of the page).
pub fn search(query: &str) -> Vec<&'static CatalogEntry> {
    let query = query.trim().to_ascii_lowercase();
    CATALOG
        .iter()
        .filter(|e| {
            query.is_empty()
                || e.resource().contains(&query)
                || e.kind.to_ascii_lowercase().contains(&query)
                || e.group.contains(&query)
        })
        .collect()
}

/// The closest catalog resource to a misspelt one ("did you mean `deployments`?").
pub fn suggest(resource: &str) -> Option<&'static CatalogEntry> {
    let wanted = resource.to_ascii_lowercase();
    CATALOG
        .iter()
        .map(|e| (edit_distance(&wanted, &e.resource()), e))
        .filter(|(d, e)| *d > 0 && *d <= 2.max(e.resource().len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e)
}

/// Levenshtein distance, for typo hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push((previous[j] + cost).min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Verbs of Helm 3's release storage: it lists a release's Secrets, creates one per
/// revision, updates their status, and reads and deletes those beyond `--history-max`.
const HELM_STORAGE_VERBS: &[&str] = &["create", "delete", "get", "list", "update"];

/// What a deployer needs besides the objects it deploys: Helm keeps every release revision
/// in a Secret of the namespace (the derivation grants the same verbs, with their reasons).
pub fn deployer_rules(deployer: Deployer) -> Vec<Rule> {
    match deployer {
        Deployer::Helm => vec![Rule::new(&[""], &["secrets"], HELM_STORAGE_VERBS)],
        Deployer::Apply | Deployer::ServerSide => Vec::new(),
    }
}

/// What the page's "deploy" shortcut grants for `deployer`, and why, for its tooltip.
pub fn deploy_shortcut(deployer: Deployer) -> (&'static [&'static str], String) {
    let verbs = deployer.verbs();
    let why = match deployer {
        Deployer::Apply => "kubectl apply reads the object (get), then creates or patches it",
        Deployer::ServerSide => {
            "kubectl apply --server-side creates or patches the object without reading it"
        }
        Deployer::Helm => {
            "helm upgrade --install reads the object (get), then creates or patches it"
        }
    };
    (
        verbs,
        format!("{}: {why}; deleting, listing and watching are separate verbs", verbs.join(", ")),
    )
}

/// How an API group is written for people: the core group, whose name is empty, as `core`.
pub fn group_label(group: &str) -> &str {
    if group.is_empty() { "core" } else { group }
}

/// Verbs offered as checkboxes for a rule: those its resources support (the catalog's),
/// the standard ones for custom resources, plus whatever the rule already has.
pub fn offered_verbs(rule: &Rule) -> Vec<String> {
    let mut verbs: Vec<String> = Vec::new();
    let mut push = |v: &str| {
        if !verbs.iter().any(|x| x == v) {
            verbs.push(v.to_owned());
        }
    };
    let entries: Vec<Option<&CatalogEntry>> = rule
        .api_groups
        .iter()
        .flat_map(|g| rule.resources.iter().map(move |r| find(g, r)))
        .collect();
    if entries.is_empty() || entries.iter().any(Option::is_none) {
        for verb in STANDARD_VERBS {
            push(verb);
        }
    }
    for entry in entries.into_iter().flatten() {
        for verb in entry.verbs {
            push(verb);
        }
    }
    for verb in &rule.verbs {
        push(verb);
    }
    // Alphabetical, `*` last.
    let (stars, mut sorted): (Vec<String>, Vec<String>) = verbs.into_iter().partition(|v| v == "*");
    sorted.sort();
    sorted.extend(stars);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comes_from_k8s_openapi() {
        let deployments = find("apps", "deployments").unwrap();
        assert_eq!((deployments.kind, deployments.version), ("Deployment", "v1"));
        assert_eq!(find("", "pods/exec").unwrap().verbs, CONNECT);
        assert!(find("", "nodes").is_none(), "nodes are cluster-scoped");
        assert_eq!(find_kind("networking.k8s.io", "Ingress").unwrap().plural, "ingresses");
    }

    #[test]
    fn suggests_typos() {
        assert_eq!(suggest("deploymnets").unwrap().resource(), "deployments");
        assert_eq!(suggest("configmap").unwrap().resource(), "configmaps");
        assert!(suggest("zzzzzzzzzz").is_none());
    }

    #[test]
    fn helm_storage_is_what_the_derivation_grants_on_secrets() {
        use crate::derive::{DeriveOptions, Source, derive};
        let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n";
        let derived = derive(&[Source::new("m", manifest)], &DeriveOptions::new(Deployer::Helm))
            .expect("derives");
        let mut verbs: Vec<String> = derived
            .rules()
            .into_iter()
            .filter(|r| r.resources == ["secrets"])
            .flat_map(|r| r.verbs)
            .collect();
        verbs.sort();
        verbs.dedup();
        assert_eq!(deployer_rules(Deployer::Helm)[0].verbs, verbs);
        assert!(deployer_rules(Deployer::Apply).is_empty());
    }

    #[test]
    fn the_deploy_shortcut_is_the_deployers_verbs_and_says_so() {
        for deployer in [Deployer::Apply, Deployer::ServerSide, Deployer::Helm] {
            let (verbs, why) = deploy_shortcut(deployer);
            assert_eq!(verbs, deployer.verbs());
            assert!(why.starts_with(&verbs.join(", ")), "{why}");
        }
    }

    #[test]
    fn groups_start_with_core() {
        let groups = groups();
        assert_eq!(groups[0], "");
        assert!(groups.contains(&"apps"));
    }
}
