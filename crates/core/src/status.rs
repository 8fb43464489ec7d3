//! `status`: which CI accesses this tool manages, and whether each is still what was meant.
//!
//! The CLI (or the page, from a pasted `kubectl get ... -o json`) reads the objects and hands
//! them over as [`Observed`]; [`assess_status`] returns one [`Status`] per access: its
//! identity, Role and RoleBinding, the Role's rules against the rules it was applied with
//! ([`APPLIED_RULES_ANNOTATION`]) or a given spec (drift), every other binding that names the
//! same identity (wider than its Role), the token's age and the legacy-token labels of
//! current clusters, and the risk lint. [`StatusReport::failed`] is the exit code a scheduled
//! job watches.

use std::fmt::Write as _;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use crate::coverage::missing_rules;
use crate::lint::{Finding, LintOptions, lint_role};
use crate::manifest::{SERVICE_ACCOUNT_ANNOTATION, TOKEN_SECRET_TYPE, rule_of};
use crate::rule_syntax::{format_rule, parse_rule};
use crate::spec::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, Rule};
use crate::time::epoch_seconds;

/// Annotation on the Role holding the rules it was applied with, one `--rule` notation per
/// line, so that a hand edit of the Role shows as drift months later.
pub const APPLIED_RULES_ANNOTATION: &str = "cicd-access/applied-rules";
/// Label a 1.27+ API server sets on a legacy token Secret: the day its token was last used.
pub const LAST_USED_LABEL: &str = "kubernetes.io/legacy-token-last-used";
/// Label the 1.29+ legacy-token cleaner sets when it invalidates an unused Secret token.
pub const INVALID_SINCE_LABEL: &str = "kubernetes.io/legacy-token-invalid-since";
/// Annotation of the Secret a bound token is tied to: when that token expires (RFC 3339).
pub const BOUND_EXPIRY_ANNOTATION: &str = "cicd-access/token-expires";
/// Bootstrap bindings every identity has (`system:discovery`, `system:basic-user`, ...).
const BOOTSTRAP_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

/// The rules as [`APPLIED_RULES_ANNOTATION`] keeps them.
pub fn applied_rules_annotation(rules: &[Rule]) -> String {
    rules.iter().map(format_rule).collect::<Vec<_>>().join("\n")
}

/// What was read from the cluster (or pasted), for one namespace or all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    pub service_accounts: Vec<ObservedServiceAccount>,
    pub roles: Vec<ObservedRole>,
    /// Every RoleBinding read, not only this tool's: a hand-made one may name the identity.
    pub role_bindings: Vec<ObservedBinding>,
    /// Empty when they were not read (the caller may not list them).
    pub cluster_role_bindings: Vec<ObservedBinding>,
    /// Whether `cluster_role_bindings` was read at all.
    pub cluster_wide: bool,
    /// Secrets without their `data`: only metadata and type are looked at.
    pub secrets: Vec<ObservedSecret>,
    /// What each identity may really do, as the API server answered a rules review made
    /// as that identity (the caller impersonating it); empty when it was not asked.
    pub effective: Vec<EffectiveRights>,
}

// The objects as `status` reads them: only the fields it looks at. k8s-openapi's own types
// would do, but their metadata brings the API server's timestamps and with them jiff's whole
// date parser into the page (about 100 KB of wasm) to read one creation time. The CLI
// converts what it lists ([`From`] below); pasted JSON is read field by field
// ([`Observed::add_json`]), which in the page is a fraction of the code serde's derived
// readers of the same structs take.

/// The part of an object's metadata `status` reads; the creation time as the API server
/// writes it (RFC 3339, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedMeta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub creation_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedServiceAccount {
    pub metadata: ObservedMeta,
    /// The names in `.secrets`.
    pub secrets: Option<Vec<NameRef>>,
}

/// One entry of a ServiceAccount's `.secrets`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameRef {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedRole {
    pub metadata: ObservedMeta,
    /// As the page and the spec read rules (the same five fields as RBAC's).
    pub rules: Vec<Rule>,
}

/// A RoleBinding or a ClusterRoleBinding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedBinding {
    pub metadata: ObservedMeta,
    pub role_ref: RoleRef,
    pub subjects: Option<Vec<Subject>>,
}

/// A Secret's metadata and type; its `data` is never read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedSecret {
    pub metadata: ObservedMeta,
    pub type_: Option<String>,
}

/// The metadata `apply` wrote: kubectl apply keeps the whole applied object in an
/// annotation, a Secret's data included, so that one is never kept.
fn observed_meta(meta: ObjectMeta) -> ObservedMeta {
    let mut annotations = meta.annotations;
    if let Some(annotations) = annotations.as_mut() {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    ObservedMeta {
        name: meta.name,
        namespace: meta.namespace,
        labels: meta.labels,
        annotations,
        creation_timestamp: meta.creation_timestamp.map(|t| t.0.to_string()),
    }
}

/// kubectl apply's copy of the object it applied.
const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

impl From<ServiceAccount> for ObservedServiceAccount {
    fn from(account: ServiceAccount) -> Self {
        ObservedServiceAccount {
            metadata: observed_meta(account.metadata),
            secrets: account
                .secrets
                .map(|list| list.into_iter().map(|r| NameRef { name: r.name }).collect()),
        }
    }
}

impl From<Role> for ObservedRole {
    fn from(role: Role) -> Self {
        ObservedRole {
            metadata: observed_meta(role.metadata),
            rules: role.rules.iter().flatten().map(rule_of).collect(),
        }
    }
}

impl From<RoleBinding> for ObservedBinding {
    fn from(binding: RoleBinding) -> Self {
        ObservedBinding {
            metadata: observed_meta(binding.metadata),
            role_ref: binding.role_ref,
            subjects: binding.subjects,
        }
    }
}

impl From<ClusterRoleBinding> for ObservedBinding {
    fn from(binding: ClusterRoleBinding) -> Self {
        ObservedBinding {
            metadata: observed_meta(binding.metadata),
            role_ref: binding.role_ref,
            subjects: binding.subjects,
        }
    }
}

/// Only metadata and type: the token in `data` is dropped here.
impl From<Secret> for ObservedSecret {
    fn from(secret: Secret) -> Self {
        ObservedSecret { metadata: observed_meta(secret.metadata), type_: secret.type_ }
    }
}

/// A rules review made as one identity, in one namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EffectiveRights {
    pub namespace: String,
    /// The user name the review was made as ([`Identity::user`]).
    pub user: String,
    pub rules: Vec<Rule>,
}

impl Observed {
    /// Who each managed access authenticates as, by namespace: whom to impersonate for
    /// [`Observed::effective`].
    pub fn identities(&self) -> Vec<(String, String)> {
        self.role_bindings
            .iter()
            .filter(|b| is_managed(&b.metadata))
            .filter_map(|b| Some((namespace(&b.metadata), identity_of(b)?.user())))
            .collect()
    }
}

/// Why a pasted listing could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObservedError {
    #[error("{what}: not JSON ({message}); paste the output of `{}`", command_for(.what))]
    NotJson { what: &'static str, message: String },
    #[error("{what}: item {index} is a {kind} that does not read as one ({message})")]
    BadItem { what: &'static str, index: usize, kind: String, message: String },
    #[error("{what}: {reason}")]
    Input { what: &'static str, reason: crate::input::InputError },
    #[error("{what}: nothing pasted; paste the output of `{}`", command_for(.what))]
    Missing { what: &'static str },
}

/// The command whose output a pasted text should be.
fn command_for(what: &str) -> String {
    if what == PASTED_CLUSTER_ROLE_BINDINGS {
        CLUSTER_ROLE_BINDINGS_COMMAND.to_owned()
    } else {
        listing_command(None)
    }
}

/// What to run for the page's report on `namespace` (`NS` when not known): every object
/// `status` reads there, every RoleBinding included, in one List.
pub fn listing_command(namespace: Option<&str>) -> String {
    format!("kubectl get sa,role,rolebinding,secret -n {} -o json", namespace.unwrap_or("NS"))
}

/// What to run for the ClusterRoleBindings a wider grant may hide in.
pub const CLUSTER_ROLE_BINDINGS_COMMAND: &str = "kubectl get clusterrolebindings -o json";

impl Observed {
    /// Adds the objects of one `kubectl get ... -o json` answer (a `List`, or one object).
    /// Secrets keep only their metadata and type: a token in the paste is dropped here and
    /// never shown or kept. Kinds other than the five read are ignored.
    pub fn add_json(&mut self, what: &'static str, text: &str) -> Result<(), ObservedError> {
        if text.len() > crate::input::MAX_PASTE_BYTES {
            return Err(ObservedError::Input {
                what,
                reason: crate::input::InputError::TooLarge {
                    what: "the listing",
                    size: text.len(),
                    limit: crate::input::MAX_PASTE_BYTES,
                },
            });
        }
        // YAML reads JSON (and `-o yaml` too) with the parser the page already has for
        // pasted Secrets; plain text reads as a string, which is no listing.
        let value: serde_json::Value = serde_yaml::from_str(text)
            .map_err(|e| ObservedError::NotJson { what, message: e.to_string() })?;
        if !value.is_object() {
            return Err(ObservedError::NotJson {
                what,
                message: "a table or plain text, not the object `-o json` prints".to_owned(),
            });
        }
        let items = match value.get("items").and_then(Value::as_array) {
            Some(items) => items.as_slice(),
            None => std::slice::from_ref(&value),
        };
        for (index, item) in items.iter().enumerate() {
            let kind = field(item, "kind").unwrap_or_default();
            let bad = |message: String| ObservedError::BadItem {
                what,
                index,
                kind: kind.clone(),
                message,
            };
            let metadata = read_meta(item);
            match kind.as_str() {
                "ServiceAccount" => self.service_accounts.push(ObservedServiceAccount {
                    metadata,
                    secrets: item.get("secrets").and_then(Value::as_array).map(|list| {
                        list.iter().map(|entry| NameRef { name: field(entry, "name") }).collect()
                    }),
                }),
                "Role" => {
                    let rules = match item.get("rules") {
                        None | Some(Value::Null) => Vec::new(),
                        Some(rules) => serde_json::from_value(rules.clone())
                            .map_err(|e| bad(format!("rules: {e}")))?,
                    };
                    self.roles.push(ObservedRole { metadata, rules });
                }
                "RoleBinding" | "ClusterRoleBinding" => {
                    let binding = read_binding(item, metadata).map_err(bad)?;
                    if kind == "RoleBinding" {
                        self.role_bindings.push(binding);
                    } else {
                        self.cluster_wide = true;
                        self.cluster_role_bindings.push(binding);
                    }
                }
                // Only metadata and type are read: `data` never leaves the text.
                "Secret" => {
                    self.secrets.push(ObservedSecret { metadata, type_: field(item, "type") });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A string field of a JSON object.
fn field(value: &Value, key: &str) -> Option<String> {
    value.get(key)?.as_str().map(str::to_owned)
}

/// The metadata fields `status` reads; the rest, and anything of another type, is left.
fn read_meta(item: &Value) -> ObservedMeta {
    let Some(meta) = item.get("metadata") else { return ObservedMeta::default() };
    let map = |key: &str| {
        meta.get(key).and_then(Value::as_object).map(|entries| {
            entries
                .iter()
                // kubectl apply's copy of the applied object: a Secret's data is in it.
                .filter(|(k, _)| *k != LAST_APPLIED_ANNOTATION)
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
    };
    ObservedMeta {
        name: field(meta, "name"),
        namespace: field(meta, "namespace"),
        labels: map("labels"),
        annotations: map("annotations"),
        creation_timestamp: field(meta, "creationTimestamp"),
    }
}

fn read_binding(item: &Value, metadata: ObservedMeta) -> Result<ObservedBinding, String> {
    let role_ref = item.get("roleRef").ok_or("it has no roleRef")?;
    let role_ref = RoleRef {
        api_group: field(role_ref, "apiGroup").unwrap_or_default(),
        kind: field(role_ref, "kind").ok_or("roleRef has no kind")?,
        name: field(role_ref, "name").ok_or("roleRef has no name")?,
    };
    let subjects = item.get("subjects").and_then(Value::as_array).map(|list| {
        list.iter()
            .map(|subject| Subject {
                api_group: field(subject, "apiGroup"),
                kind: field(subject, "kind").unwrap_or_default(),
                name: field(subject, "name").unwrap_or_default(),
                namespace: field(subject, "namespace"),
            })
            .collect()
    });
    Ok(ObservedBinding { metadata, role_ref, subjects })
}

impl Observed {
    /// What the page was given: the namespace's listing (`kubectl get
    /// sa,role,rolebinding,secret -n NS -o json`, required) and the ClusterRoleBindings
    /// (`kubectl get clusterrolebindings -o json`; empty when not pasted, and the report
    /// then says a wider binding there would not show).
    pub fn from_pasted(
        listing: &str,
        cluster_role_bindings: &str,
    ) -> Result<Observed, ObservedError> {
        if listing.trim().is_empty() {
            return Err(ObservedError::Missing { what: PASTED_LISTING });
        }
        let mut observed = Observed::default();
        observed.add_json(PASTED_LISTING, listing)?;
        if !cluster_role_bindings.trim().is_empty() {
            observed.add_json(PASTED_CLUSTER_ROLE_BINDINGS, cluster_role_bindings)?;
            // Pasted on purpose: none of them naming the identity is an answer too.
            observed.cluster_wide = true;
        }
        Ok(observed)
    }
}

/// The pasted texts, as errors name them.
const PASTED_LISTING: &str = "the namespace's listing";
const PASTED_CLUSTER_ROLE_BINDINGS: &str = "the ClusterRoleBindings";

/// The threshold `status` warns at by default: a Secret token older than 90 days.
pub const DEFAULT_MAX_AGE_DAYS: i64 = 90;

/// How to judge what was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusOptions {
    /// Now, in seconds since the Unix epoch.
    pub now: i64,
    /// A Secret token older than this many days is due for rotation.
    pub max_age_days: i64,
    /// A bound token that expires within this many hours is due for renewal.
    pub expiry_warning_hours: i64,
    /// The rules the access should have (`-f`, `--preset`, `--rule`), instead of the rules
    /// each Role was applied with.
    pub expected: Option<Vec<Rule>>,
}

impl StatusOptions {
    /// The defaults `status` judges by, at `now` (seconds since the Unix epoch).
    pub fn at(now: i64) -> StatusOptions {
        StatusOptions {
            now,
            max_age_days: DEFAULT_MAX_AGE_DAYS,
            expiry_warning_hours: 24,
            expected: None,
        }
    }
}

/// The identity a pipeline authenticates as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Identity {
    ServiceAccount {
        namespace: String,
        name: String,
    },
    /// A keyless access's CI identity, as the JWT authenticator names it.
    User {
        name: String,
    },
}

impl Identity {
    fn user(&self) -> String {
        match self {
            Identity::ServiceAccount { namespace, name } => {
                crate::verify::service_account_user(namespace, name)
            }
            Identity::User { name } => name.clone(),
        }
    }

    /// Whether a binding's subject is this identity, itself or by a group it is in.
    fn is_named_by(&self, subject: &Subject, binding_namespace: Option<&str>) -> bool {
        let Identity::ServiceAccount { namespace, name } = self else {
            return match subject.kind.as_str() {
                "User" => subject.name == self.user(),
                // Every user the authenticator admits is in system:authenticated.
                "Group" => subject.name == "system:authenticated",
                _ => false,
            };
        };
        match subject.kind.as_str() {
            "ServiceAccount" => {
                let subject_namespace = subject.namespace.as_deref().or(binding_namespace);
                subject.name == *name && subject_namespace == Some(namespace.as_str())
            }
            "User" => subject.name == self.user(),
            "Group" => [
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_owned(),
            ]
            .contains(&subject.name),
            _ => false,
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::ServiceAccount { name, .. } => write!(f, "ServiceAccount {name}"),
            Identity::User { name } => write!(f, "User {name}"),
        }
    }
}

/// The Role's rules against what they should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// `applied` (the annotation) or `given` (a spec on the command line).
    pub against: &'static str,
    /// Granted now but not meant, in `--rule` notation.
    pub extra: Vec<String>,
    /// Meant but no longer granted.
    pub missing: Vec<String>,
}

/// Another binding that gives the identity more than its Role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WiderBinding {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub kind: &'static str,
    pub namespace: Option<String>,
    pub name: String,
    /// `ClusterRole/edit`, `Role/deployer`.
    pub role: String,
    /// How it names the identity: `ServiceAccount ci-cd`, `Group system:serviceaccounts`.
    pub subject: String,
}

/// The access's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenStatus {
    /// `secret` (a long-lived token Secret) or `bound` (a TokenRequest tied to the Secret).
    pub kind: &'static str,
    pub secret: String,
    pub created: Option<String>,
    pub age_days: Option<i64>,
    /// Listed in the ServiceAccount's `.secrets`, which makes it a target of the legacy-token
    /// cleaner on 1.29+.
    pub listed_in_service_account: bool,
    pub last_used: Option<String>,
    pub invalid_since: Option<String>,
    pub expires: Option<String>,
}

/// Something about an access that needs a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// Whether it makes `status` fail (exit 1): wider than its Role, drifted, invalidated,
    /// or a part missing. Rotation reminders only warn.
    pub fails: bool,
    pub text: String,
}

/// One access this tool manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub namespace: String,
    pub identity: Identity,
    pub role: String,
    pub role_binding: String,
    /// The Role's rules, one line each; empty when the Role is missing.
    pub rules: Vec<String>,
    pub drift: Option<Drift>,
    pub wider: Vec<WiderBinding>,
    /// What the identity may do beyond its Role and the defaults every user has, as the API
    /// server answered a rules review made as it; `None` when that was not asked.
    pub effective_beyond_role: Option<Vec<String>>,
    pub token: Option<TokenStatus>,
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
}

impl Status {
    pub fn failed(&self) -> bool {
        self.problems.iter().any(|p| p.fails)
    }
}

/// Every managed access read, in namespace and name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub accesses: Vec<Status>,
    /// Whether ClusterRoleBindings were read; without them a wider binding can hide there.
    pub cluster_role_bindings_read: bool,
}

impl StatusReport {
    /// Whether anything is wider than its Role, drifted, invalidated or missing.
    pub fn failed(&self) -> bool {
        self.accesses.iter().any(Status::failed)
    }

    /// Whether some access has a reminder (a token to rotate or renew, a Secret listed in
    /// its ServiceAccount) though none failed.
    pub fn warned(&self) -> bool {
        self.accesses.iter().any(|a| !a.problems.is_empty())
    }

    /// One sentence on the whole report, for the page's verdict.
    pub fn headline(&self) -> String {
        let total = self.accesses.len();
        let accesses = |n: usize| format!("{n} access{}", if n == 1 { "" } else { "es" });
        if total == 0 {
            return "No CI/CD access managed by cicd-access found.".to_owned();
        }
        let failed = self.accesses.iter().filter(|a| a.failed()).count();
        if failed > 0 {
            return format!(
                "{failed} of {} need{} attention: wider than its Role, drifted, invalidated or missing (`kubectl cicd status` exits 1).",
                accesses(total),
                if failed == 1 { "s" } else { "" }
            );
        }
        if self.warned() {
            return format!("{}, none failed; some have reminders below.", accesses(total));
        }
        format!("{}, each as it was meant.", accesses(total))
    }

    /// A table like kubectl's, then each access's problems and findings.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if self.accesses.is_empty() {
            out.push_str("No CI/CD access managed by cicd-access found.\n");
            return out;
        }
        let rows: Vec<[String; 6]> = self
            .accesses
            .iter()
            .map(|a| {
                let token = a.token.as_ref().map_or_else(
                    || "-".to_owned(),
                    |t| match (t.kind, t.age_days, &t.expires) {
                        ("bound", _, Some(expires)) => format!("bound, expires {expires}"),
                        (kind, Some(days), _) => format!("{kind}, {days}d old"),
                        (kind, _, _) => kind.to_owned(),
                    },
                );
                let state = if a.failed() {
                    "FAILED"
                } else if a.problems.is_empty() {
                    "ok"
                } else {
                    "warning"
                };
                [
                    a.namespace.clone(),
                    a.identity.to_string(),
                    a.role.clone(),
                    a.rules.len().to_string(),
                    token,
                    state.to_owned(),
                ]
            })
            .collect();
        let header = ["NAMESPACE", "IDENTITY", "ROLE", "RULES", "TOKEN", "STATUS"];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: &[&str]| -> String {
            let mut text = String::new();
            for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
                if index + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    let _ = write!(text, "{cell:width$}   ");
                }
            }
            text.push('\n');
            text
        };
        out.push_str(&line(&header));
        for row in &rows {
            out.push_str(&line(&row.each_ref().map(String::as_str)));
        }
        for access in &self.accesses {
            if access.problems.is_empty() && access.findings.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{}/{} ({}):", access.namespace, access.role, access.identity);
            for problem in &access.problems {
                let mark = if problem.fails { "FAILED" } else { "warning" };
                let _ = writeln!(out, "  {mark}: {}", problem.text);
            }
            for finding in &access.findings {
                let _ = writeln!(
                    out,
                    "  {} (rule {}): {}",
                    finding.severity.name(),
                    finding.rule + 1,
                    finding.why
                );
            }
        }
        if !self.cluster_role_bindings_read {
            out.push_str("\nClusterRoleBindings were not read (you may not list them): a wider binding there would not show.\n");
        }
        out
    }
}

fn name(meta: &ObservedMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn namespace(meta: &ObservedMeta) -> String {
    meta.namespace.clone().unwrap_or_default()
}

fn label<'a>(meta: &'a ObservedMeta, key: &str) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

fn annotation<'a>(meta: &'a ObservedMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// Whether this tool created the object (the label [`crate::ownership::is_managed`] reads).
fn is_managed(meta: &ObservedMeta) -> bool {
    label(meta, MANAGED_BY_LABEL) == Some(MANAGED_BY_VALUE)
}

/// Every access in `observed`: one per RoleBinding this tool manages.
pub fn assess_status(observed: &Observed, options: &StatusOptions) -> StatusReport {
    let mut accesses: Vec<Status> = observed
        .role_bindings
        .iter()
        .filter(|b| is_managed(&b.metadata))
        .filter_map(|binding| assess_one(observed, options, binding))
        .collect();
    accesses.sort_by(|a, b| (&a.namespace, &a.role_binding).cmp(&(&b.namespace, &b.role_binding)));
    StatusReport { accesses, cluster_role_bindings_read: observed.cluster_wide }
}

fn assess_one(
    observed: &Observed,
    options: &StatusOptions,
    binding: &ObservedBinding,
) -> Option<Status> {
    let ns = namespace(&binding.metadata);
    let identity = identity_of(binding)?;
    let mut problems = Vec::new();
    let mut fail = |text: String| problems.push(Problem { fails: true, text });

    let role_name = binding.role_ref.name.clone();
    let role = observed
        .roles
        .iter()
        .find(|r| namespace(&r.metadata) == ns && name(&r.metadata) == role_name);
    let rules: Vec<Rule> = role.map(|r| r.rules.clone()).unwrap_or_default();
    if binding.role_ref.kind != "Role" {
        fail(format!(
            "RoleBinding {} binds {} {role_name}, not the Role this tool made",
            name(&binding.metadata),
            binding.role_ref.kind
        ));
    } else if role.is_none() {
        fail(format!(
            "Role {role_name} is missing: the pipeline can do nothing; apply the access again"
        ));
    }
    // A keyless access has no ServiceAccount and no token to check: the job brings its own.
    let account = match &identity {
        Identity::ServiceAccount { name: sa_name, .. } => {
            let service_account = observed
                .service_accounts
                .iter()
                .find(|s| namespace(&s.metadata) == ns && name(&s.metadata) == *sa_name);
            if service_account.is_none() {
                fail(format!(
                    "ServiceAccount {sa_name} is missing: its token no longer authenticates"
                ));
            }
            Some((sa_name.clone(), service_account))
        }
        Identity::User { .. } => None,
    };

    let drift = role.and_then(|role| drift_of(role, &rules, options.expected.as_deref()));
    if let Some(drift) = &drift {
        let what = if drift.against == "given" {
            "the spec given"
        } else {
            "the rules it was applied with"
        };
        let mut parts = Vec::new();
        if !drift.extra.is_empty() {
            parts.push(format!("grants {} beyond them", drift.extra.join(", ")));
        }
        if !drift.missing.is_empty() {
            parts.push(format!("lacks {}", drift.missing.join(", ")));
        }
        fail(format!("Role {role_name} has drifted from {what}: it {}", parts.join(" and ")));
    }

    let wider = wider_bindings(observed, &identity, binding);
    for w in &wider {
        let place = w
            .namespace
            .as_deref()
            .map_or_else(|| "cluster-wide".to_owned(), |n| format!("in namespace {n}"));
        fail(format!(
            "{} {} binds {} to {} {place}: the pipeline holds more than its Role",
            w.kind, w.name, w.subject, w.role
        ));
    }

    let user = identity.user();
    let effective = observed.effective.iter().find(|e| e.namespace == ns && e.user == user);
    let beyond: Option<Vec<String>> = effective.map(|e| {
        let mut extra = crate::verify::compare_rights(&e.rules, &rules).extra;
        for rule in &mut extra {
            crate::spec::dedup_verbs(&mut rule.verbs);
        }
        extra.iter().map(format_rule).collect()
    });
    if let Some(beyond) = beyond.as_ref().filter(|b| !b.is_empty()) {
        // A binding to `edit` adds dozens of rules: the first few say enough, -o json has all.
        const SHOWN: usize = 4;
        let more = beyond.len().saturating_sub(SHOWN);
        let tail =
            if more > 0 { format!(" and {more} more (-o json lists them)") } else { String::new() };
        fail(format!(
            "as {user}, the API server allows {}{tail} beyond the Role: the pipeline holds more than its Role",
            beyond[..beyond.len().min(SHOWN)].join(", ")
        ));
    }

    let token = account.and_then(|(sa_name, service_account)| {
        token_status(observed, options, &ns, &sa_name, service_account, &mut problems)
    });
    let findings = lint_role(&rules, LintOptions::default());
    Some(Status {
        namespace: ns,
        identity,
        role: role_name,
        role_binding: name(&binding.metadata),
        rules: rules.iter().map(format_rule).collect(),
        drift,
        wider,
        effective_beyond_role: beyond,
        token,
        findings,
        problems,
    })
}

/// The identity a managed RoleBinding grants to: its ServiceAccount, else its User.
fn identity_of(binding: &ObservedBinding) -> Option<Identity> {
    let ns = namespace(&binding.metadata);
    let subjects = || binding.subjects.iter().flatten();
    Some(match subjects().find(|s| s.kind == "ServiceAccount") {
        Some(subject) => Identity::ServiceAccount {
            namespace: subject.namespace.clone().unwrap_or(ns),
            name: subject.name.clone(),
        },
        None => Identity::User { name: subjects().find(|s| s.kind == "User")?.name.clone() },
    })
}

/// The Role's rules against the given spec's, or the annotation's; `None` when they agree
/// (compared as the RBAC authorizer reads them: regrouping is no drift) or nothing says what
/// they should be.
fn drift_of(role: &ObservedRole, rules: &[Rule], expected: Option<&[Rule]>) -> Option<Drift> {
    let (against, meant): (&'static str, Vec<Rule>) = if let Some(expected) = expected {
        ("given", expected.to_vec())
    } else {
        let text = annotation(&role.metadata, APPLIED_RULES_ANNOTATION)?;
        // A line that no longer parses was edited by hand: what it granted shows as drift.
        let meant = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| parse_rule(l).ok())
            .collect();
        ("applied", meant)
    };
    let extra: Vec<String> = missing_rules(&meant, rules).iter().map(format_rule).collect();
    let missing: Vec<String> = missing_rules(rules, &meant).iter().map(format_rule).collect();
    (!extra.is_empty() || !missing.is_empty()).then_some(Drift { against, extra, missing })
}

fn wider_bindings(
    observed: &Observed,
    identity: &Identity,
    own: &ObservedBinding,
) -> Vec<WiderBinding> {
    let bootstrap = |meta: &ObservedMeta| label(meta, BOOTSTRAP_LABEL.0) == Some(BOOTSTRAP_LABEL.1);
    let subject_text = |s: &Subject| format!("{} {}", s.kind, s.name);
    let mut wider = Vec::new();
    for binding in &observed.role_bindings {
        let same = namespace(&binding.metadata) == namespace(&own.metadata)
            && name(&binding.metadata) == name(&own.metadata);
        if same || bootstrap(&binding.metadata) {
            continue;
        }
        let ns = namespace(&binding.metadata);
        if let Some(subject) =
            binding.subjects.iter().flatten().find(|s| identity.is_named_by(s, Some(&ns)))
        {
            wider.push(WiderBinding {
                kind: "RoleBinding",
                namespace: Some(ns),
                name: name(&binding.metadata),
                role: format!("{}/{}", binding.role_ref.kind, binding.role_ref.name),
                subject: subject_text(subject),
            });
        }
    }
    for binding in &observed.cluster_role_bindings {
        if bootstrap(&binding.metadata) {
            continue;
        }
        if let Some(subject) =
            binding.subjects.iter().flatten().find(|s| identity.is_named_by(s, None))
        {
            wider.push(WiderBinding {
                kind: "ClusterRoleBinding",
                namespace: None,
                name: name(&binding.metadata),
                role: format!("{}/{}", binding.role_ref.kind, binding.role_ref.name),
                subject: subject_text(subject),
            });
        }
    }
    wider
}

fn token_status(
    observed: &Observed,
    options: &StatusOptions,
    ns: &str,
    service_account: &str,
    account: Option<&ObservedServiceAccount>,
    problems: &mut Vec<Problem>,
) -> Option<TokenStatus> {
    let secret = observed.secrets.iter().find(|s| {
        namespace(&s.metadata) == ns
            && is_managed(&s.metadata)
            && (annotation(&s.metadata, SERVICE_ACCOUNT_ANNOTATION) == Some(service_account)
                || annotation(&s.metadata, BOUND_EXPIRY_ANNOTATION).is_some())
    })?;
    let secret_name = name(&secret.metadata);
    let bound = secret.type_.as_deref() != Some(TOKEN_SECRET_TYPE);
    let created = secret.metadata.creation_timestamp.clone();
    let age_days = created.as_deref().and_then(epoch_seconds).map(|c| (options.now - c) / 86_400);
    let listed = account
        .and_then(|a| a.secrets.as_ref())
        .is_some_and(|list| list.iter().any(|r| r.name.as_deref() == Some(secret_name.as_str())));
    let last_used = label(&secret.metadata, LAST_USED_LABEL).map(str::to_owned);
    let invalid_since = label(&secret.metadata, INVALID_SINCE_LABEL).map(str::to_owned);
    let expires = annotation(&secret.metadata, BOUND_EXPIRY_ANNOTATION).map(str::to_owned);
    if let Some(day) = &invalid_since {
        problems.push(Problem {
            fails: true,
            text: format!("the token of Secret {secret_name} was invalidated on {day} by the legacy-token cleaner (unused for too long): the pipeline cannot authenticate; issue a new one with `kubectl cicd rotate`"),
        });
    }
    if listed && !bound {
        problems.push(Problem {
            fails: false,
            text: format!("Secret {secret_name} is listed in ServiceAccount {service_account}'s .secrets, which makes it a target of the legacy-token cleaner (1.29+) once unused; remove it from that list (this tool never adds it)"),
        });
    }
    if !bound
        && let Some(days) = age_days
        && days > options.max_age_days
    {
        problems.push(Problem {
            fails: false,
            text: format!("the Secret token is {days} days old (more than {}): rotate it with `kubectl cicd rotate`", options.max_age_days),
        });
    }
    if bound && let Some(expiry) = expires.as_deref().and_then(epoch_seconds) {
        let hours = (expiry - options.now) / 3600;
        if hours < 0 {
            problems.push(Problem { fails: false, text: "the bound token has expired: issue a new one with `kubectl cicd kubeconfig --token-duration ...`".to_owned() });
        } else if hours < options.expiry_warning_hours {
            problems.push(Problem {
                fails: false,
                text: format!(
                    "the bound token expires in {hours} hours: issue a new one before then"
                ),
            });
        }
    }
    Some(TokenStatus {
        kind: if bound { "bound" } else { "secret" },
        secret: secret_name,
        created,
        age_days,
        listed_in_service_account: listed,
        last_used,
        invalid_since,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessSpec;
    use crate::manifest::build_manifests;

    const NOW: &str = "2026-12-02T00:00:00Z";

    fn options() -> StatusOptions {
        StatusOptions::at(epoch_seconds(NOW).unwrap())
    }

    /// The objects `apply` makes for the welkin preset in `demo`, as the API server returns
    /// them (a creation time; the Secret filled, its token dropped on reading).
    fn applied(created: &str) -> Observed {
        let spec = AccessSpec {
            namespace: Some("demo".into()),
            ..crate::preset::find("welkin-user-demo").unwrap().spec()
        };
        let manifests = build_manifests(&spec).unwrap();
        let mut secret = serde_json::to_value(manifests.secret.unwrap()).unwrap();
        secret["metadata"]["creationTimestamp"] = created.into();
        secret["data"] = serde_json::json!({"token": "c2VjcmV0LXRva2Vu", "namespace": "ZGVtbw=="});
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
            serde_json::to_value(&manifests.service_account).unwrap(),
            serde_json::to_value(&manifests.role).unwrap(),
            serde_json::to_value(&manifests.role_binding).unwrap(),
            secret,
        ]});
        let mut observed = Observed::default();
        observed.add_json("the listing", &list.to_string()).unwrap();
        observed
    }

    #[test]
    fn a_fresh_access_is_healthy_and_its_token_is_not_kept() {
        let observed = applied("2026-11-30T10:00:00Z");
        assert!(!format!("{observed:?}").contains("c2VjcmV0"), "the token was kept");
        let report = assess_status(&observed, &options());
        assert_eq!(report.accesses.len(), 1);
        let access = &report.accesses[0];
        assert_eq!(access.problems, [], "{}", report.text());
        assert!(!report.failed());
        assert_eq!(access.token.as_ref().unwrap().age_days, Some(1));
        assert!(report.text().starts_with("NAMESPACE   IDENTITY               ROLE    RULES   TOKEN            STATUS\ndemo        ServiceAccount ci-cd   ci-cd   7       secret, 1d old   ok\n"), "{}", report.text());
    }

    #[test]
    fn a_keyless_access_is_its_ci_user_with_no_service_account_or_token() {
        let spec = AccessSpec {
            namespace: Some("demo".into()),
            server: Some("https://api.example.com".into()),
            token: crate::TokenKind::Keyless(crate::KeylessIdentity {
                repository: Some("org/app".into()),
                git_ref: Some("refs/heads/main".into()),
                ..crate::KeylessIdentity::default()
            }),
            ..crate::preset::find("welkin-user-demo").unwrap().spec()
        };
        let manifests = build_manifests(&spec).unwrap();
        let user = "github:repo:org/app:ref:refs/heads/main";
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
            serde_json::to_value(&manifests.role).unwrap(),
            serde_json::to_value(&manifests.role_binding).unwrap(),
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": "too-much"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
             "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]},
        ]});
        let mut observed = Observed::default();
        observed.add_json("the listing", &list.to_string()).unwrap();
        let report = assess_status(&observed, &options());
        assert_eq!(report.accesses.len(), 1, "{}", report.text());
        let access = &report.accesses[0];
        assert_eq!(access.identity, Identity::User { name: user.into() });
        assert_eq!(access.token, None);
        assert!(
            !access.problems.iter().any(|p| p.text.contains("ServiceAccount")),
            "{}",
            report.text()
        );
        let wider: Vec<&str> = access.wider.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(wider, ["too-much"]);
    }

    #[test]
    fn effective_rights_beyond_the_role_fail_and_equal_ones_pass() {
        let mut observed = applied("2026-11-30T10:00:00Z");
        let identities = observed.identities();
        assert_eq!(
            identities,
            [("demo".to_owned(), "system:serviceaccount:demo:ci-cd".to_owned())]
        );
        let (namespace, user) = identities[0].clone();
        let role: Vec<Rule> = observed.roles[0].rules.clone();
        // The review lists the Role's rules in another grouping, plus what every user has.
        let mut rules: Vec<Rule> = role.iter().rev().cloned().collect();
        rules.push(Rule::new(&["authorization.k8s.io"], &["selfsubjectrulesreviews"], &["create"]));
        observed.effective = vec![EffectiveRights { namespace, user, rules }];
        let report = assess_status(&observed, &options());
        assert_eq!(report.accesses[0].effective_beyond_role.as_deref(), Some(&[][..]));
        assert!(!report.failed(), "{}", report.text());

        observed.effective[0].rules.push(Rule::new(&["apps"], &["daemonsets"], &["create"]));
        let report = assess_status(&observed, &options());
        let beyond = report.accesses[0].effective_beyond_role.clone().unwrap();
        assert_eq!(beyond, ["apps:daemonsets:create"]);
        assert!(report.failed());
        assert!(
            report.text().contains("the API server allows apps:daemonsets:create beyond the Role"),
            "{}",
            report.text()
        );
    }

    #[test]
    fn a_hand_edited_role_is_drift_against_what_it_was_applied_with() {
        let mut observed = applied("2026-11-30T10:00:00Z");
        let rules = &mut observed.roles[0].rules;
        rules[0].verbs.push("deletecollection".into());
        rules.remove(1);
        let report = assess_status(&observed, &options());
        let drift = report.accesses[0].drift.as_ref().expect("drift");
        assert_eq!(drift.against, "applied");
        assert!(!drift.extra.is_empty(), "{drift:?}");
        assert!(drift.extra.iter().all(|r| r.ends_with(":deletecollection")), "{drift:?}");
        assert!(drift.missing.iter().all(|r| r.starts_with("apps:")), "{drift:?}");
        assert!(!drift.missing.is_empty(), "{drift:?}");
        assert!(report.failed());
        // Against a given spec instead: the same rules as now are no drift.
        let now: Vec<Rule> = observed.roles[0].rules.clone();
        let given = StatusOptions { expected: Some(now), ..options() };
        assert!(assess_status(&observed, &given).accesses[0].drift.is_none());
    }

    #[test]
    fn other_bindings_of_the_identity_are_wider_than_its_role() {
        let mut observed = applied("2026-11-30T10:00:00Z");
        let binding = |kind: &str,
                       name: &str,
                       subject: serde_json::Value,
                       labels: serde_json::Value| {
            serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                "metadata": {"name": name, "namespace": "demo", "labels": labels},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": [subject]})
        };
        let list = serde_json::json!({"kind": "List", "items": [
            binding("RoleBinding", "edit", serde_json::json!({"kind": "ServiceAccount", "name": "ci-cd"}), serde_json::json!({})),
            binding("RoleBinding", "someone-else", serde_json::json!({"kind": "ServiceAccount", "name": "other"}), serde_json::json!({})),
            binding("ClusterRoleBinding", "view", serde_json::json!({"kind": "Group", "name": "system:serviceaccounts:demo"}), serde_json::json!({})),
            binding("ClusterRoleBinding", "system:discovery", serde_json::json!({"kind": "Group", "name": "system:authenticated"}), serde_json::json!({"kubernetes.io/bootstrapping": "rbac-defaults"})),
        ]});
        observed.add_json("bindings", &list.to_string()).unwrap();
        let report = assess_status(&observed, &options());
        let wider: Vec<(&str, &str)> =
            report.accesses[0].wider.iter().map(|w| (w.kind, w.name.as_str())).collect();
        assert_eq!(wider, [("RoleBinding", "edit"), ("ClusterRoleBinding", "view")]);
        assert!(report.failed());
        assert!(
            report.headline().starts_with("1 of 1 access needs attention"),
            "{}",
            report.headline()
        );
        assert!(report.text().contains("ClusterRoleBinding view binds Group system:serviceaccounts:demo to ClusterRole/view cluster-wide"), "{}", report.text());
    }

    /// Labels as 1.27+ (last used) and 1.29+ (invalidated) API servers write them on a legacy
    /// token Secret; 1.20 writes neither, so they are tested here from what those servers write.
    #[test]
    fn legacy_token_labels_of_current_clusters_are_read() {
        let mut observed = applied("2026-06-01T10:00:00Z");
        let labels = observed.secrets[0].metadata.labels.get_or_insert_with(Default::default);
        labels.insert(LAST_USED_LABEL.into(), "2026-07-01".into());
        let report = assess_status(&observed, &options());
        let token = report.accesses[0].token.as_ref().unwrap();
        assert_eq!(token.last_used.as_deref(), Some("2026-07-01"));
        assert_eq!(token.age_days, Some(183));
        assert!(!report.failed(), "an old token is a reminder, not a failure");
        assert!(report.warned());
        assert_eq!(report.headline(), "1 access, none failed; some have reminders below.");
        assert!(report.accesses[0].problems[0].text.contains("183 days old (more than 90)"));

        let labels = observed.secrets[0].metadata.labels.as_mut().unwrap();
        labels.insert(INVALID_SINCE_LABEL.into(), "2027-08-01".into());
        observed.service_accounts[0].secrets = Some(vec![NameRef { name: Some("ci-cd".into()) }]);
        let report = assess_status(&observed, &options());
        let token = report.accesses[0].token.as_ref().unwrap();
        assert!(token.listed_in_service_account);
        assert!(report.failed(), "an invalidated token fails");
        assert!(report.text().contains("invalidated on 2027-08-01"), "{}", report.text());
    }

    #[test]
    fn pasted_listings_are_read_and_their_tokens_dropped() {
        let manifests = build_manifests(&AccessSpec {
            namespace: Some("demo".into()),
            ..crate::preset::find("welkin-user-demo").unwrap().spec()
        })
        .unwrap();
        let mut secret = serde_json::to_value(manifests.secret.unwrap()).unwrap();
        secret["data"] = serde_json::json!({"token": "c2VjcmV0LXRva2Vu"});
        secret["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
            r#"{"data":{"token":"c2VjcmV0LXRva2Vu"}}"#.into();
        let listing = serde_json::json!({"kind": "List", "items": [
            serde_json::to_value(&manifests.role).unwrap(),
            serde_json::to_value(&manifests.role_binding).unwrap(),
            serde_json::to_value(&manifests.service_account).unwrap(),
            secret,
        ]})
        .to_string();
        let observed = Observed::from_pasted(&listing, "").unwrap();
        assert!(!format!("{observed:?}").contains("c2VjcmV0"), "the token was kept");
        let report = assess_status(&observed, &options());
        assert!(!report.cluster_role_bindings_read);
        assert!(report.text().contains("ClusterRoleBindings were not read"), "{}", report.text());
        let none = r#"{"apiVersion": "v1", "kind": "List", "items": []}"#;
        let report = assess_status(&Observed::from_pasted(&listing, none).unwrap(), &options());
        assert!(report.cluster_role_bindings_read);
        assert!(!report.failed(), "{}", report.text());
        assert_eq!(report.headline(), "1 access, each as it was meant.");

        let error = Observed::from_pasted(" \n", "").unwrap_err().to_string();
        assert!(error.starts_with("the namespace's listing: nothing pasted"), "{error}");
        let error = Observed::from_pasted(&listing, "NAME   ROLE").unwrap_err().to_string();
        assert!(error.starts_with("the ClusterRoleBindings: not JSON"), "{error}");
        assert!(error.ends_with("`kubectl get clusterrolebindings -o json`"), "{error}");
        let broken =
            r#"{"kind": "List", "items": [{"kind": "RoleBinding", "metadata": {"name": "x"}}]}"#;
        let error = Observed::from_pasted(broken, "").unwrap_err().to_string();
        assert_eq!(
            error,
            "the namespace's listing: item 0 is a RoleBinding that does not read as one (it has no roleRef)"
        );
        let broken = r#"{"kind": "Role", "rules": [{"verbs": "get"}]}"#;
        let error = Observed::from_pasted(broken, "").unwrap_err().to_string();
        assert!(error.contains("item 0 is a Role that does not read as one (rules: "), "{error}");
    }

    #[test]
    fn missing_parts_fail_and_bad_pastes_name_the_fix() {
        let mut observed = applied("2026-11-30T10:00:00Z");
        observed.roles.clear();
        observed.service_accounts.clear();
        let report = assess_status(&observed, &options());
        assert_eq!(report.accesses[0].problems.len(), 2, "{}", report.text());
        assert!(report.failed());
        let error = Observed::default().add_json("the listing", "NAME  SECRETS").unwrap_err();
        assert!(error.to_string().contains("-o json"), "{error}");
        assert!(
            assess_status(&Observed::default(), &options()).text().starts_with("No CI/CD access")
        );
    }
}
