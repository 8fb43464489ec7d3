//! One pipeline's access against the live cluster: check, apply, kubeconfig, verify,
//! revoke, rotate. Every decision is the core's; this is requests and their order.

mod apply;
mod check;
mod revoke;
mod rotate;
mod status;
mod verify;

use std::time::Duration;

use anyhow::Result;
use cicd_access_core::AccessSpec;
use cicd_access_core::lint::LintOptions;
use cicd_access_core::manifest::{Manifests, build_for_names, build_manifests};
use kube::Resource;
use kube::api::Api;
use serde::de::DeserializeOwned;

use crate::cluster::{Cluster, explain};
use crate::problem::Problem;

pub use apply::{ApplyOptions, ApplyReport, apply, kubeconfig};
pub use check::{CheckReport, check};
pub use revoke::{RevokeReport, revoke};
pub use rotate::rotate;
pub use status::status;
pub use verify::verify_file;

/// The one field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "kubectl-cicd";
/// How long the RBAC authorizer may take to see a new RoleBinding, or the token
/// authenticator a deleted Secret.
const PROPAGATION: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);
/// What a step's own timeout leaves before the command's deadline, to report it.
const DEADLINE_MARGIN: Duration = Duration::from_millis(300);

/// A spec whose namespace is resolved, with its manifests.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub spec: AccessSpec,
    pub manifests: Manifests,
    pub namespace: String,
    /// The spec named the Role's rules (`revoke`, `rotate` and `kubeconfig` need none):
    /// otherwise verification compares with the live Role.
    pub rules_given: bool,
    /// How the lint reads the Role (Helm, server-side apply).
    pub lint: LintOptions,
}

impl Pipeline {
    /// Fills the namespace from the context when the spec names none, and builds the objects.
    pub fn new(
        mut spec: AccessSpec,
        context_namespace: &str,
        lint: LintOptions,
    ) -> Result<Pipeline, Problem> {
        let namespace = spec.namespace.get_or_insert_with(|| context_namespace.to_owned()).clone();
        let rules_given = !spec.rules.is_empty();
        let manifests = if rules_given { build_manifests(&spec) } else { build_for_names(&spec) }
            .map_err(|e| Problem::usage(e.to_string()))?;
        Ok(Pipeline { spec, manifests, namespace, rules_given, lint })
    }

    fn label(&self) -> String {
        format!("{}/{}", self.namespace, self.spec.service_account)
    }
}

fn doing(what: &str, pipeline: &Pipeline) -> String {
    format!("{what} ({})", pipeline.label())
}

/// Runs a request, turning a failure into one of the distinct messages.
async fn call<T>(
    cluster: &Cluster,
    what: &str,
    future: impl Future<Output = kube::Result<T>>,
) -> Result<T> {
    future.await.map_err(|e| explain(e, &cluster.server, &cluster.context, what))
}

/// `Ok(None)` for a 404.
async fn get_opt<K>(cluster: &Cluster, api: &Api<K>, name: &str, what: &str) -> Result<Option<K>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.get_opt(name).await {
        Ok(found) => Ok(found),
        Err(e) => Err(explain(e, &cluster.server, &cluster.context, what)),
    }
}
