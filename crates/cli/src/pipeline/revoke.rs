//! `revoke`: the token Secret (or every object this tool created) deleted, and the old
//! token seen to stop working.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Result;
use cicd_access_core::TokenKind;
use cicd_access_core::requirements::revoke_rules;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Resource;
use kube::api::{Api, DeleteParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::apply::{Change, Outcome, Token, render, secret_token};
use super::check::lacking_rights;
use super::{POLL, PROPAGATION, Pipeline, doing, get_opt};
use crate::cluster::{Cluster, client_from_text, explain};
use crate::output::Progress;
use crate::problem::Problem;

/// The outcome of `revoke`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeReport {
    pub namespace: String,
    pub changes: Vec<Change>,
    /// Whether the old token was seen to stop working.
    pub token_dead: Option<bool>,
    pub notes: Vec<String>,
}

impl RevokeReport {
    pub fn text(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let _ = writeln!(out, "{change}");
        }
        match self.token_dead {
            Some(true) => out.push_str("the old token no longer authenticates (401)\n"),
            Some(false) => out.push_str("THE OLD TOKEN STILL AUTHENTICATES\n"),
            None => {}
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

fn managed<K: Resource>(object: &K) -> bool {
    cicd_access_core::ownership::is_managed(object.meta())
}

pub(super) async fn delete_managed<K>(
    cluster: &Cluster,
    api: &Api<K>,
    name: &str,
    pipeline: &Pipeline,
) -> Result<Change>
where
    K: Resource + k8s_openapi::Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
    K::DynamicType: Default,
{
    let kind = <K as k8s_openapi::Resource>::KIND;
    let outcome =
        match get_opt(cluster, api, name, &doing(&format!("reading {kind} {name}"), pipeline))
            .await?
        {
            None => Outcome::AlreadyAbsent,
            Some(object) if !managed(&object) => Outcome::LeftAlone,
            Some(_) => match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => Outcome::Deleted,
                Err(kube::Error::Api(status)) if status.code == 404 => Outcome::AlreadyAbsent,
                Err(e) => {
                    return Err(explain(
                        e,
                        &cluster.server,
                        &cluster.context,
                        &doing(&format!("deleting {kind} {name}"), pipeline),
                    ));
                }
            },
        };
    Ok(Change { kind, name: name.to_owned(), outcome, dry_run: false })
}

/// Polls until `token` stops authenticating (the authenticator may cache briefly).
pub(super) async fn token_dies(
    cluster: &Cluster,
    pipeline: &Pipeline,
    token: &Token,
    timeout: Duration,
) -> Result<bool> {
    let text = render(cluster, pipeline, token)?;
    let (client, _) = client_from_text(&text).await?;
    let deadline = tokio::time::Instant::now() + timeout.min(PROPAGATION * 3);
    loop {
        match client.apiserver_version().await {
            Err(kube::Error::Api(status)) if status.code == 401 => return Ok(true),
            Err(e) => {
                return Err(explain(
                    e,
                    &cluster.server,
                    &cluster.context,
                    "checking that the old token stopped working",
                ));
            }
            Ok(_) if tokio::time::Instant::now() >= deadline => return Ok(false),
            Ok(_) => tokio::time::sleep(POLL).await,
        }
    }
}

async fn current_token(cluster: &Cluster, pipeline: &Pipeline) -> Result<Option<Token>> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), &pipeline.namespace);
    let name = &pipeline.spec.secret;
    let Some(secret) =
        get_opt(cluster, &api, name, &doing(&format!("reading Secret {name}"), pipeline)).await?
    else {
        return Ok(None);
    };
    if !managed(&secret) {
        return Ok(None);
    }
    Ok(secret_token(&secret, pipeline).ok())
}

/// Deletes the token Secret (and with `all` every object this tool created) and checks
/// that the old token stopped working.
pub async fn revoke(
    cluster: &Cluster,
    pipeline: &Pipeline,
    all: bool,
    timeout: Duration,
    progress: &Progress,
) -> Result<RevokeReport> {
    progress.set(format!("revoking {}", pipeline.label()));
    if let Some(rules) = lacking_rights(cluster, &pipeline.namespace, &revoke_rules(all)).await? {
        return Err(Problem::failed(format!(
            "you may not revoke in namespace {}: you do not hold {rules}",
            pipeline.namespace
        ))
        .hint("ask a cluster administrator to revoke it, or for these rights")
        .into());
    }
    let ns = pipeline.namespace.as_str();
    let client = &cluster.client;
    let mut report = RevokeReport {
        namespace: ns.to_owned(),
        changes: Vec::new(),
        token_dead: None,
        notes: Vec::new(),
    };
    let old = current_token(cluster, pipeline).await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), ns);
    match pipeline.spec.token {
        // No credential to delete: the binding is what lets the CI's jobs in.
        TokenKind::Keyless(_) => report
            .changes
            .push(delete_managed(cluster, &bindings, &pipeline.spec.role_binding, pipeline).await?),
        _ => report
            .changes
            .push(delete_managed(cluster, &secrets, &pipeline.spec.secret, pipeline).await?),
    }
    if all {
        let roles: Api<Role> = Api::namespaced(client.clone(), ns);
        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
        if pipeline.spec.token.has_service_account() {
            report.changes.push(
                delete_managed(cluster, &bindings, &pipeline.spec.role_binding, pipeline).await?,
            );
        }
        report.changes.push(delete_managed(cluster, &roles, &pipeline.spec.role, pipeline).await?);
        if pipeline.spec.token.has_service_account() {
            report.changes.push(
                delete_managed(cluster, &accounts, &pipeline.spec.service_account, pipeline)
                    .await?,
            );
        }
    }
    if matches!(pipeline.spec.token, TokenKind::Bound { .. }) {
        report.notes.push(format!(
            "every bound token of this access was tied to Secret {}: with it gone, the API server refuses them",
            pipeline.spec.secret
        ));
    }
    if let Some(old) = old {
        progress.set("checking that the old token stopped working");
        report.token_dead = Some(token_dies(cluster, pipeline, &old, timeout).await?);
    }
    Ok(report)
}
