//! `rotate`: a new token Secret (for a new ServiceAccount UID), a new kubeconfig, and the
//! old token seen to stop working.

use std::fmt::Write as _;

use anyhow::Result;
use cicd_access_core::TokenKind;
use cicd_access_core::ownership::{Intent, assess_ownership};
use cicd_access_core::requirements::rotate_rules;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::Api;

use super::Pipeline;
use super::apply::{
    ApplyOptions, ApplyReport, Outcome, apply_object, deliver, issue_token, renew_service_account,
    secret_token,
};
use super::check::{existing, lacking_rights};
use super::revoke::{delete_managed, token_dies};
use crate::cluster::Cluster;
use crate::output::Progress;
use crate::problem::Problem;

/// New Secret, new token, new kubeconfig; the old token stops working. A Secret token is
/// issued for a new ServiceAccount (same name, new UID), so it cannot equal the old one on
/// any signing key.
pub async fn rotate(
    cluster: &Cluster,
    pipeline: &Pipeline,
    options: &ApplyOptions,
    progress: &Progress,
) -> Result<(ApplyReport, Option<bool>)> {
    if matches!(pipeline.spec.token, TokenKind::Keyless(_)) {
        return Err(Problem::usage(format!(
            "{} is keyless: there is no token to rotate (each job fetches a fresh one)",
            pipeline.label()
        ))
        .hint("to stop the access, `kubectl cicd revoke`; to change who may use it, edit the spec's token: and re-apply")
        .into());
    }
    let mut out = ApplyReport::new(pipeline);
    let ns = pipeline.namespace.as_str();
    if let Some(rules) = lacking_rights(cluster, ns, &rotate_rules(&pipeline.spec)).await? {
        return Err(Problem::failed(format!(
            "rotating in namespace {ns} is forbidden to you: you do not hold {rules}; nothing was changed"
        ))
        .hint("ask a cluster administrator to rotate it, or for these rights")
        .into());
    }
    let found = existing(cluster, pipeline).await?;
    if found.service_account.is_none() {
        return Err(Problem::failed(format!(
            "ServiceAccount {} does not exist in namespace {ns}: there is no access to rotate",
            pipeline.spec.service_account
        ))
        .hint("create it with `kubectl cicd apply`")
        .into());
    }
    let ownership = assess_ownership(&pipeline.spec, &found, Intent::Rotate, false);
    if ownership.refused() {
        let mut message = format!(
            "refusing to rotate in namespace {ns}: it would write objects of others; nothing was changed"
        );
        for conflict in &ownership.conflicts {
            let _ = write!(message, "\n  {conflict}");
        }
        return Err(Problem::failed(message)
            .hint("rotate replaces only what this tool created; adopt them first with `kubectl cicd apply --adopt`")
            .into());
    }
    let old = found.secret.as_ref().and_then(|secret| secret_token(secret, pipeline).ok());
    if let Some(secret) = &pipeline.manifests.secret {
        progress.set(format!("replacing the token Secret of {}", pipeline.label()));
        let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), ns);
        delete_managed(cluster, &secrets, &pipeline.spec.secret, pipeline).await?;
        if ownership.renew_service_account {
            renew_service_account(cluster, pipeline, options).await?;
            let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client.clone(), ns);
            if let Some(account) = &pipeline.manifests.service_account {
                let mut change = apply_object(cluster, &accounts, account, false, pipeline).await?;
                change.outcome = Outcome::ReplacedWithNewUid;
                out.changes.push(change);
            }
        }
        let mut change = apply_object(cluster, &secrets, secret, false, pipeline).await?;
        change.outcome = Outcome::Replaced;
        out.changes.push(change);
    }
    if matches!(pipeline.spec.token, TokenKind::Bound { .. }) {
        out.notes.push(format!(
            "Secret {} was made again: the previous bound tokens, tied to the old one, are refused",
            pipeline.spec.secret
        ));
    }
    progress.set(format!("waiting for the new token of {}", pipeline.label()));
    let old_value = old.as_ref().map(|t| t.value.clone());
    let token = issue_token(cluster, pipeline, options, old_value.as_deref()).await?;
    // options() refused, before anything changed, to replace a file that is not this
    // access's kubeconfig without --force.
    deliver(cluster, pipeline, &token, options, true, &mut out, progress).await?;
    let dead = match &old {
        Some(old) if matches!(pipeline.spec.token, TokenKind::Secret) => {
            progress.set("checking that the old token stopped working");
            Some(token_dies(cluster, pipeline, old, options.timeout).await?)
        }
        _ => None,
    };
    Ok((out, dead))
}
