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
//! - `kubectl delete -f`: delete; then it waits for each object to be gone: a GET (refused,
//!   the wait is skipped: server-side Roles need nothing more) and, while a finalizer keeps
//!   the object, lists (refused, retried for 168 hours): client-side Roles get list.
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

mod grants;
mod kinds;
mod options;
mod parse;
mod report;
mod verbs;

use std::collections::BTreeMap;

use self::grants::Grants;
use self::kinds::{Lookup, discovered, lookup};
use self::parse::{Found, parse_manifests};
use self::verbs::{
    grant_deploy, grant_helm_hooks, grant_helm_storage, grant_helm_wait, labels, plural_kind,
    waits_by_listing,
};

pub use self::options::{ByName, Deployer, DeriveOptions, HelmWait, KindOverride};
pub use self::parse::{ObjectRef, Source, parse_objects};
pub use self::report::{
    Derivation, DerivedRule, Reason, Refusal, Refused, UnknownKind, Unresolved,
};

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
    #[error("by-name {value:?} is unknown; use secrets (the default), all or none")]
    UnknownByName { value: String },
    #[error(
        "helm wait {value:?} is unknown; use none, legacy (Helm 3 --wait) or watcher (Helm 4 --wait)"
    )]
    UnknownWait { value: String },
    #[error(
        "all {count} objects the pipeline would deploy name namespace {named:?}, but it deploys to {target:?}: did you mean namespace {named:?} (-n {named})? A Role grants nothing outside its own namespace"
    )]
    OtherNamespace { count: usize, named: String, target: String },
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
    let derivation = derive_objects(found, options);
    // Every deployable object in one other namespace is a wrong namespace, not a list of
    // separate refusals (and then an empty Role).
    let elsewhere: Vec<&str> = derivation
        .refused
        .iter()
        .filter(|r| r.refusal == Refusal::OtherNamespace)
        .filter_map(|r| r.object.namespace.as_deref())
        .collect();
    if let (Some(target), Some(named)) = (&options.namespace, elsewhere.first())
        && derivation.rules.is_empty()
        && elsewhere.iter().all(|ns| ns == named)
    {
        return Err(DeriveError::OtherNamespace {
            count: elsewhere.len(),
            named: (*named).to_owned(),
            target: target.clone(),
        });
    }
    Ok(derivation)
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
                lookup(f.object.group(), &f.object.kind, options),
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
        match lookup(object.group(), &object.kind, options) {
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
            Lookup::Namespaced { .. } if f.generated && options.deployer != Deployer::Helm => {
                refused.push(Refused {
                    object: object.clone(),
                    refusal: Refusal::GenerateName,
                    why: format!("cannot: it has a generateName and no name, and {} refuses such objects (\"cannot use generate name with apply\"); create it with `kubectl create -f` (a new {} each run; the Role then needs create on it) or give it a name", options.deployer.command(), object.kind),
                });
            }
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
    let mut by_names = Vec::new();
    // Kinds `kubectl delete -f` cannot wait for: it would have to list them all.
    let mut unwaited = Vec::new();
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
            let scope = match by_name(options.by_name, group, resource, &plain_names) {
                Scope::Names => plain_names.clone(),
                Scope::Namespace => Vec::new(),
                Scope::Hashed(hashed) => {
                    let hashed: Vec<&str> = hashed.iter().map(String::as_str).collect();
                    let has = if hashed.len() == 1 { "has a name" } else { "have names" };
                    notes.push(format!("{} {has} with a content hash (kustomize's configMapGenerator and secretGenerator write them), which changes whenever the content does: the Role grants {resource} namespace-wide instead of by name", labels(kind, &hashed)));
                    Vec::new()
                }
            };
            if !scope.is_empty() {
                by_names.push(label.to_string());
            }
            grant_deploy(&mut grants, options, (group, resource, kind), &label, &scope);
            if options.delete
                && options.deployer == Deployer::Apply
                && !waits_by_listing(options, group, resource, &scope)
            {
                unwaited.push(plural_kind(kind));
            }
            if options.deployer == Deployer::Helm {
                grant_helm_wait(&mut grants, options.wait, group, resource, kind, &label);
            }
        }
        if !hooks.is_empty() {
            let label = labels(kind, &hook_refs);
            grant_helm_hooks(&mut grants, group, resource, kind, &label);
        }
    }
    if !by_names.is_empty() {
        notes.push(format!("the rules for {} name those objects (resourceNames), so the pipeline can read and change them and no other object of their kind; a create by POST, a list or a watch carries no name, so those stay namespace-wide. When the manifests gain an object of these kinds, derive the Role again", by_names.join("; ")));
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
                let group = crate::catalog::group_label(group);
                format!("--prune-allowlist={group}/{version}/{kind}")
            })
            .collect();
        notes.push(format!(
            "without --prune-allowlist, kubectl apply --prune also prunes its default kinds, cluster-scoped Namespaces and PersistentVolumes among them, which no Role can grant; pass exactly these: {}",
            allowlist.join(" ")
        ));
    }
    if !unwaited.is_empty() {
        notes.push(format!("kubectl delete -f waits for what it deleted, listing what a finalizer keeps; a list of {} would read every one of the namespace, so the Role leaves it out: delete with `kubectl delete -f … --wait=false`, or an object kept by a finalizer makes the pipeline wait for 168 hours", unwaited.join(", ")));
    }
    let mut resolved: Vec<String> = Vec::new();
    for f in &found {
        if let Some(d) = discovered(f.object.group(), &f.object.kind, options) {
            let scope = if d.namespaced { "namespaced" } else { "cluster-scoped" };
            let entry = format!("{} ({scope})", d.flag());
            if !resolved.contains(&entry) {
                resolved.push(entry);
            }
        }
    }
    if !resolved.is_empty() {
        notes.push(format!(
            "kinds the table does not know, as the cluster's discovery serves them: {}",
            resolved.join(", ")
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

/// Whether a resource's rule names its objects.
enum Scope {
    Names,
    Namespace,
    /// Names are wanted, but these names carry a content hash and change with the content.
    Hashed(Vec<String>),
}

fn by_name(by_name: ByName, group: &str, resource: &str, names: &[String]) -> Scope {
    let wanted = match by_name {
        ByName::All => true,
        ByName::Secrets => (group, resource) == ("", "secrets"),
        ByName::None => false,
    };
    if !wanted {
        return Scope::Namespace;
    }
    let hashed: Vec<String> = names.iter().filter(|n| has_content_hash(n)).cloned().collect();
    if hashed.is_empty() { Scope::Names } else { Scope::Hashed(hashed) }
}

/// `app-config-7g4mt9bk58`: kustomize's generators end a name in `-` and ten characters of
/// the alphabet its hash encoding uses (hex digits with 0, 1, 3, a, e replaced so the suffix
/// spells no words), at least one of them a digit.
fn has_content_hash(name: &str) -> bool {
    const ALPHABET: &str = "bcdfghkmt2456789";
    name.rsplit_once('-').is_some_and(|(stem, suffix)| {
        !stem.is_empty()
            && suffix.len() == 10
            && suffix.chars().all(|c| ALPHABET.contains(c))
            && suffix.chars().any(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::Rule;
    use crate::coverage;
    use crate::validate::validate_rules;

    const DEMO: &str = include_str!("../../tests/fixtures/derive/welkin-user-demo.yaml");
    const KUSTOMIZE_LIST: &str = include_str!("../../tests/fixtures/derive/kustomize-list.yaml");
    const FOLDER_DEPLOYMENT: &str =
        include_str!("../../tests/fixtures/derive/folder/deployment.yaml");
    const FOLDER_SERVICE: &str = include_str!("../../tests/fixtures/derive/folder/service.yaml");
    const FOLDER_EXTRAS: &str = include_str!("../../tests/fixtures/derive/folder/extras.yaml");

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
    fn every_object_in_another_namespace_is_said_once() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: dev}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b, namespace: dev}\n";
        let sources = [Source::new("app.yaml", text)];
        let other = with(Deployer::Apply, |o| o.namespace = Some("other".into()));
        let error = derive(&sources, &other).unwrap_err().to_string();
        assert!(error.starts_with("all 2 objects the pipeline would deploy name namespace \"dev\", but it deploys to \"other\": did you mean namespace \"dev\" (-n dev)?"), "{error}");
        let dev = with(Deployer::Apply, |o| o.namespace = Some("dev".into()));
        assert!(derive(&sources, &dev).is_ok());
    }

    #[test]
    fn reasons_agree_with_one_object_or_several() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
        let d =
            derive(&[Source::new("app.yaml", text)], &DeriveOptions::new(Deployer::Apply)).unwrap();
        let explained = d.explain();
        assert!(
            explained.contains("reads Services a, b first, to learn whether they exist"),
            "{explained}"
        );
        assert!(
            explained.contains("creates Services a, b when they do not exist yet"),
            "{explained}"
        );
        assert!(
            explained.contains("reads ConfigMap c first, to learn whether it exists"),
            "{explained}"
        );
    }

    #[test]
    fn kubectl_delete_may_wait_for_what_it_deleted_but_never_lists_secrets() {
        let text = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: grafana}\n";
        let sources = [Source::new("app.yaml", text)];
        let d = derive(&sources, &with(Deployer::Apply, |o| o.delete = true)).unwrap();
        let verbs = |resource: &str| {
            d.rules().into_iter().find(|r| r.resources == [resource]).map(|r| r.verbs).unwrap()
        };
        assert_eq!(verbs("services"), ["create", "delete", "get", "list", "patch"]);
        assert_eq!(verbs("secrets"), ["create"]);
        assert!(d.notes.iter().any(|n| n.contains("--wait=false")), "{:?}", d.notes);
        let server_side =
            derive(&sources, &with(Deployer::ServerSide, |o| o.delete = true)).unwrap();
        assert!(server_side.rules().iter().all(|r| r.verbs == ["create", "delete", "patch"]));
        let secrets = server_side.rules().into_iter().find(|r| r.resources == ["secrets"]);
        assert_eq!(secrets.unwrap().resource_names, ["grafana"]);
        let helm = derive(&sources, &with(Deployer::Helm, |o| o.delete = true)).unwrap();
        assert!(!helm.notes.iter().any(|n| n.contains("--wait=false")), "{:?}", helm.notes);
    }

    #[test]
    fn secrets_are_limited_to_their_names_by_default() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: grafana}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: db}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n";
        let sources = [Source::new("app.yaml", text)];
        let rules = |deployer, by_name| {
            let options = with(deployer, |o| {
                o.delete = true;
                o.by_name = by_name;
            });
            derive(&sources, &options).unwrap().rules()
        };
        let secrets = |list: &str| list.split(',').map(str::to_owned).collect::<Vec<_>>();
        let apply = rules(Deployer::Apply, ByName::Secrets);
        assert_eq!(
            apply[0],
            Rule::new(&[""], &["configmaps"], &["create", "delete", "get", "list", "patch"])
        );
        // A POST carries no name: create stays namespace-wide.
        assert_eq!(apply[1], Rule::new(&[""], &["secrets"], &["create"]));
        assert_eq!(apply[2].verbs, ["delete", "get", "patch"]);
        assert_eq!(apply[2].resource_names, secrets("grafana,db"));
        assert_eq!(apply.len(), 3);
        // Server-side apply's create check names the object: the whole rule is by name.
        let server_side = rules(Deployer::ServerSide, ByName::All);
        assert!(server_side.iter().all(|r| r.verbs == ["create", "delete", "patch"]));
        assert_eq!(server_side[0].resource_names, ["app"]);
        assert_eq!(server_side[1].resource_names, secrets("grafana,db"));
        // Helm's release Secrets are namespace-wide: only what they lack stays named.
        let helm = rules(Deployer::Helm, ByName::Secrets);
        let named: Vec<&Rule> = helm.iter().filter(|r| !r.resource_names.is_empty()).collect();
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].verbs, ["patch"]);
        // By name, kubectl delete -f cannot list to wait: it is told to skip the wait.
        let all = rules(Deployer::Apply, ByName::All);
        assert_eq!(all[0], Rule::new(&[""], &["configmaps"], &["create"]));
        let none = rules(Deployer::Apply, ByName::None);
        assert!(none.iter().all(|r| r.resource_names.is_empty()));
        assert_eq!(none[1].verbs, ["create", "delete", "get", "patch"]);
        for deployer in [Deployer::Apply, Deployer::ServerSide, Deployer::Helm] {
            for by_name in [ByName::Secrets, ByName::All, ByName::None] {
                let rules = rules(deployer, by_name);
                assert_eq!(validate_rules(&rules), vec![], "{deployer} {by_name}");
                let options = with(deployer, |o| o.by_name = by_name);
                let lint = crate::lint::lint_role(
                    &rules,
                    derive(&sources, &options).unwrap().lint_options(),
                );
                assert!(
                    lint.iter().all(|f| f.check != crate::lint::Check::IneffectiveNames),
                    "{deployer} {by_name}: {lint:?}"
                );
            }
        }
    }

    #[test]
    fn names_with_a_content_hash_stay_namespace_wide() {
        assert!(has_content_hash("app-config-7g4mt9bk58"));
        assert!(!has_content_hash("grafana"));
        assert!(!has_content_hash("my-long-servicename"));
        assert!(!has_content_hash("-7g4mt9bk58"));
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: db-creds-7g4mt9bk58}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: tls}\n";
        let d =
            derive(&[Source::new("kustomize build", text)], &DeriveOptions::new(Deployer::Apply))
                .unwrap();
        assert!(d.rules().iter().all(|r| r.resource_names.is_empty()), "{:?}", d.rules());
        assert!(d.notes.iter().any(|n| n.starts_with("Secret db-creds-7g4mt9bk58 has a name with a content hash")), "{:?}", d.notes);
    }

    #[test]
    fn unknown_kinds_are_resolved_from_the_clusters_discovery() {
        let text = "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: success-rate}\n---\napiVersion: argoproj.io/v1alpha1\nkind: ClusterAnalysisTemplate\nmetadata: {name: shared}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
        let sources = [Source::new("rollout.yaml", text)];
        let offline = derive(&sources, &DeriveOptions::new(Deployer::Apply)).unwrap();
        assert_eq!(offline.unknown.len(), 3);
        // What a cluster with Argo Rollouts' CRDs answers to GET /apis/argoproj.io/v1alpha1.
        let served: k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList =
            serde_json::from_str(r#"{"kind":"APIResourceList","groupVersion":"argoproj.io/v1alpha1","resources":[
                {"name":"analysistemplates","singularName":"analysistemplate","namespaced":true,"kind":"AnalysisTemplate","verbs":["get","list","create","patch"]},
                {"name":"clusteranalysistemplates","singularName":"","namespaced":false,"kind":"ClusterAnalysisTemplate","verbs":["get"]},
                {"name":"rollouts/status","singularName":"","namespaced":true,"kind":"Rollout","verbs":["get"]}]}"#).unwrap();
        let options =
            with(Deployer::Apply, |o| o.discovered = KindOverride::from_discovery(&served));
        let d = derive(&sources, &options).unwrap();
        assert!(coverage::allows(&d.rules(), "create", "argoproj.io", "analysistemplates", ""));
        assert_eq!(d.refused[0].refusal, Refusal::ClusterScoped);
        assert_eq!(d.refused[0].object.kind, "ClusterAnalysisTemplate");
        assert!(
            d.notes
                .iter()
                .any(|n| n.contains("AnalysisTemplate.argoproj.io=analysistemplates (namespaced)")),
            "{:?}",
            d.notes
        );
        // The Widget's group is not served: it stays unknown, and apply is told why and how.
        assert_eq!(d.unknown.len(), 1);
        let unresolved = d.unresolved().unwrap();
        assert!(
            unresolved.message.contains("Widget (example.com/v1: w)"),
            "{}",
            unresolved.message
        );
        assert!(
            unresolved.hint.contains("--kind Widget.example.com=widgets"),
            "{}",
            unresolved.hint
        );
        assert!(unresolved.hint.contains("--allow-unknown"), "{}", unresolved.hint);
        // The user's word wins over the cluster's.
        let mut options = options;
        options
            .overrides
            .push("ClusterAnalysisTemplate.argoproj.io=clusteranalysistemplates".parse().unwrap());
        options.overrides.push("Widget.example.com=widgets".parse().unwrap());
        let d = derive(&sources, &options).unwrap();
        assert!(d.refused.is_empty() && d.unresolved().is_none());
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
}
