//! The verb facts: what each deploy method does to each object, and why.

use super::grants::Grants;
use super::{Deployer, DeriveOptions, HelmWait};

/// `Deployment web` or `Deployments web, worker`, and the words that agree with it.
pub(super) struct Label {
    text: String,
    one: bool,
}

impl Label {
    /// `one` for a single object, `many` for several.
    fn say(&self, one: &'static str, many: &'static str) -> &'static str {
        if self.one { one } else { many }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

pub(super) fn labels(kind: &str, names: &[&str]) -> Label {
    let kinds = if names.len() == 1 { kind.to_owned() } else { plural_kind(kind) };
    Label { text: format!("{kinds} {}", names.join(", ")), one: names.len() == 1 }
}

pub(super) fn plural_kind(kind: &str) -> String {
    if kind.ends_with('s') || kind.ends_with('x') {
        format!("{kind}es")
    } else if let Some(stem) = kind.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{kind}s")
    }
}

/// The verbs `options.deployer` needs on the objects of `label`. `names` (empty: every
/// object) limits the requests that name their object; a create by POST, a list or a watch
/// names none, so those stay namespace-wide.
pub(super) fn grant_deploy(
    grants: &mut Grants,
    options: &DeriveOptions,
    (group, resource, kind): (&str, &str, &str),
    label: &Label,
    names: &[String],
) {
    match options.deployer {
        Deployer::Apply => {
            grants.grant_named(group, resource, names, &["get"], format!("kubectl apply reads {label} first, to learn whether {} and to compute the patch", label.say("it exists", "they exist")));
            grants.grant(
                group,
                resource,
                &["create"],
                format!(
                    "kubectl apply creates {label} when {} yet",
                    label.say("it does not exist", "they do not exist")
                ),
            );
            grants.grant_named(group, resource, names, &["patch"], format!("kubectl apply patches {label} when {} (three-way merge with the last-applied-configuration annotation)", label.say("it exists and has changed", "they exist and have changed")));
        }
        Deployer::ServerSide => {
            grants.grant_named(group, resource, names, &["patch"], format!("kubectl apply --server-side sends {label} as one PATCH (application/apply-patch+yaml) at every apply"));
            // The create check of that PATCH carries the object's name (unlike a POST), so
            // resourceNames limit it too.
            grants.grant_named(
                group,
                resource,
                names,
                &["create"],
                format!("when that apply patch creates {label}, the API server also checks create (refused, it answers 403 \"is forbidden: \" with no reason)"),
            );
        }
        Deployer::Helm => {
            grants.grant_named(group, resource, names, &["get"], format!("helm reads {label} before writing {}: install checks that no object of that name exists outside the release, upgrade and rollback compute the patch from {}", label.say("it", "them"), label.say("it", "them")));
            grants.grant(
                group,
                resource,
                &["create"],
                format!(
                    "helm creates {label} at install, and at upgrade or rollback when {}",
                    label.say("it is missing", "they are missing")
                ),
            );
            grants.grant_named(group, resource, names, &["patch"], format!("helm upgrade and rollback patch {label} (Helm 3 three-way merge; Helm 4 server-side apply is a PATCH too)"));
        }
    }
    if options.delete {
        let by =
            if options.deployer == Deployer::Helm { "helm uninstall" } else { "kubectl delete -f" };
        grants.grant_named(group, resource, names, &["delete"], format!("{by} deletes {label}"));
        if waits_by_listing(options, group, resource, names) {
            grants.grant(group, resource, &["list"], format!("kubectl delete -f then waits for {label} to be gone, listing the {} while a finalizer keeps one", plural_kind(kind)));
        }
    }
    if options.prune && options.deployer != Deployer::Helm {
        grants.grant(group, resource, &["list", "delete"], format!("kubectl apply --prune lists the {} of the namespace and deletes those no longer in the manifests", plural_kind(kind)));
    }
}

/// Whether `kubectl delete -f` gets `list` on the kind to wait for what it deleted. It
/// waits for each object to be gone: it reads it (a refused read skips the wait, which is
/// why the server-side Role, without get, needs nothing more), and while a finalizer keeps
/// it, lists it until it is gone; a refused list is retried until kubectl's timeout, 168
/// hours by default. A list reads every object of the kind, Secrets included, which rules
/// by name exist to prevent: for those the derivation says to skip the wait instead.
pub(super) fn waits_by_listing(
    options: &DeriveOptions,
    group: &str,
    resource: &str,
    names: &[String],
) -> bool {
    options.deployer == Deployer::Apply
        && options.delete
        && names.is_empty()
        && (group, resource) != ("", "secrets")
}

pub(super) fn grant_helm_wait(
    grants: &mut Grants,
    wait: HelmWait,
    group: &str,
    resource: &str,
    kind: &str,
    label: &Label,
) {
    let apps = "apps";
    match wait {
        HelmWait::None => {}
        HelmWait::Legacy => {
            if group == apps && kind == "Deployment" {
                grants.grant(apps, "replicasets", &["list"], format!("helm --wait (Helm 3, Helm 4 --wait=legacy) lists ReplicaSets to find the new ReplicaSet of {label} and checks {}", label.say("it is ready", "they are ready")));
            }
        }
        HelmWait::Watcher => {
            grants.grant(group, resource, &["list", "watch"], format!("helm --wait (Helm 4 kstatus watcher) lists and watches the {} of the namespace until {label} {} current", plural_kind(kind), label.say("is", "are")));
            if group == apps && kind == "Deployment" {
                grants.grant(apps, "replicasets", &["list"], format!("helm --wait (kstatus) lists the ReplicaSets of {label} to compute {} status", label.say("its", "their")));
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
                        "helm --wait (kstatus) lists the Pods of {label} to compute {} status",
                        label.say("its", "their")
                    ),
                );
            }
        }
    }
}

pub(super) fn grant_helm_hooks(
    grants: &mut Grants,
    group: &str,
    resource: &str,
    kind: &str,
    label: &Label,
) {
    grants.grant(
        group,
        resource,
        &["create"],
        format!(
            "helm runs the {} {label}: it creates {} at each install or upgrade",
            label.say("hook", "hooks"),
            label.say("it", "them")
        ),
    );
    grants.grant(group, resource, &["delete"], format!("helm deletes the {} {label} before creating {} again (hook-delete-policy before-hook-creation, the default) and per {} other delete policies", label.say("hook", "hooks"), label.say("it", "them"), label.say("its", "their")));
    if matches!(kind, "Job" | "Pod") {
        grants.grant(
            group,
            resource,
            &["list", "watch"],
            format!(
                "helm lists and watches the {} {label} until {}",
                label.say("hook", "hooks"),
                label.say("it completes", "they complete")
            ),
        );
    }
}

pub(super) fn grant_helm_storage(grants: &mut Grants, options: &DeriveOptions) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_in_prose_take_the_english_plural() {
        assert_eq!(plural_kind("Ingress"), "Ingresses");
        assert_eq!(plural_kind("NetworkPolicy"), "NetworkPolicies");
        assert_eq!(plural_kind("Gateway"), "Gateways");
    }
}
