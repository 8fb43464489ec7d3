//! Whether the objects of an access are this tool's to write, decided from what the API
//! server returned for their names before anything is changed.
//!
//! An existing object that this tool did not create (no `app.kubernetes.io/managed-by:
//! cicd-access` label) is someone else's: server-side apply would rewrite it (a RoleBinding's
//! subjects included) and `revoke --all` would later delete it. It is refused unless the user
//! adopts it. A Secret that cannot become this access's token Secret is refused always.
//!
//! A legacy Secret token is a signature over the namespace, the ServiceAccount's name and UID
//! and the Secret's name only: no issue time, no id. With an RSA signing key (kubeadm's
//! default) the same four give the same bytes, so a token issued again under the same names
//! would equal the one that was revoked or rotated away. A new UID makes it new: the
//! ServiceAccount is replaced whenever a Secret token is issued again.

use std::fmt;

use k8s_openapi::Resource;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::manifest::{SERVICE_ACCOUNT_ANNOTATION, secret_type};
use crate::spec::{AccessSpec, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TokenKind};

/// What exists under the access's names, as the API server returned it (`None`: 404).
#[derive(Debug, Clone, Default)]
pub struct Existing {
    pub role: Option<Role>,
    pub service_account: Option<ServiceAccount>,
    pub role_binding: Option<RoleBinding>,
    pub secret: Option<Secret>,
}

/// What the command is about to do with the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Create what is missing, update the rest (`apply`).
    Apply,
    /// Replace the token (`rotate`).
    Rotate,
}

/// An existing object the access may not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Not created by this tool; `--adopt` takes it over.
    NotManaged { kind: &'static str, name: String, detail: Option<String> },
    /// A Secret of another type than the access writes (`expected`): its type cannot change.
    SecretType { name: String, found: String, expected: &'static str },
    /// A token Secret of another ServiceAccount.
    SecretOfAnother { name: String, service_account: String },
}

impl Conflict {
    /// Whether `--adopt` resolves it.
    pub fn adoptable(&self) -> bool {
        matches!(self, Conflict::NotManaged { .. })
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::NotManaged { kind, name, detail } => {
                write!(
                    f,
                    "{} {name} exists and was not created by this tool (no label {MANAGED_BY_LABEL}={MANAGED_BY_VALUE})",
                    kind.to_lowercase()
                )?;
                if let Some(detail) = detail {
                    write!(f, "; {detail}")?;
                }
                Ok(())
            }
            Conflict::SecretType { name, found, expected } => write!(
                f,
                "secret {name} exists with type {found}, not {expected}, and a Secret's type cannot change: delete it or choose another --secret"
            ),
            Conflict::SecretOfAnother { name, service_account } => write!(
                f,
                "secret {name} holds the token of ServiceAccount {service_account}, not of this access's: choose another --secret"
            ),
        }
    }
}

/// The verdict on the existing objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    /// What stops the command; empty when it may go on.
    pub conflicts: Vec<Conflict>,
    /// Objects taken over because the user adopted them (`kind/name`).
    pub adopted: Vec<String>,
    /// Delete and recreate the ServiceAccount before the token Secret is created, so the new
    /// token cannot equal an earlier one (see the module's comment).
    pub renew_service_account: bool,
}

impl Ownership {
    pub fn refused(&self) -> bool {
        !self.conflicts.is_empty()
    }

    /// Whether `--adopt` would resolve some of the conflicts.
    pub fn adoptable(&self) -> bool {
        self.conflicts.iter().any(Conflict::adoptable)
    }
}

/// Whether this tool created the object (it carries the managed-by label).
pub fn is_managed(meta: &ObjectMeta) -> bool {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .is_some_and(|v| v == MANAGED_BY_VALUE)
}

/// Who a RoleBinding binds, for the message: taking it over would drop them.
fn subjects(binding: &RoleBinding) -> Option<String> {
    let names: Vec<String> =
        binding.subjects.iter().flatten().map(|s| format!("{} {}", s.kind, s.name)).collect();
    (!names.is_empty()).then(|| format!("it binds {}", names.join(", ")))
}

/// Decides, from what exists, whether the command may write the access's objects.
/// `adopt`: the user asked to take over objects of these names that this tool did not create.
pub fn assess_ownership(
    spec: &AccessSpec,
    existing: &Existing,
    intent: Intent,
    adopt: bool,
) -> Ownership {
    let mut ownership = Ownership::default();
    let mut foreign = |kind: &'static str, meta: &ObjectMeta, detail: Option<String>| {
        if is_managed(meta) {
            return;
        }
        let name = meta.name.clone().unwrap_or_default();
        if adopt {
            ownership.adopted.push(format!("{}/{name}", kind.to_lowercase()));
        } else {
            ownership.conflicts.push(Conflict::NotManaged { kind, name, detail });
        }
    };
    if let Some(role) = &existing.role {
        foreign(Role::KIND, &role.metadata, None);
    }
    // A keyless access writes no ServiceAccount: one of the same name is not its business.
    if let Some(account) =
        existing.service_account.as_ref().filter(|_| spec.token.has_service_account())
    {
        foreign(ServiceAccount::KIND, &account.metadata, None);
    }
    if let Some(binding) = &existing.role_binding {
        foreign(RoleBinding::KIND, &binding.metadata, subjects(binding));
    }
    let secret_token = matches!(spec.token, TokenKind::Secret);
    // The Secret this access writes must be of its type: a Secret's type cannot change, so
    // applying over another would fail half-way, after the Role and binding were written.
    if let (Some(expected), Some(secret)) = (secret_type(&spec.token), &existing.secret) {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let kind = secret.type_.clone().unwrap_or_else(|| "Opaque".to_owned());
        let account = secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SERVICE_ACCOUNT_ANNOTATION))
            .cloned()
            .unwrap_or_default();
        if kind != expected {
            ownership.conflicts.push(Conflict::SecretType { name, found: kind, expected });
        } else if secret_token && account != spec.service_account {
            ownership.conflicts.push(Conflict::SecretOfAnother { name, service_account: account });
        } else {
            foreign(Secret::KIND, &secret.metadata, None);
        }
    }
    // Only a ServiceAccount of this tool's is replaced: an adopted one may have other users.
    let account_ours = existing.service_account.as_ref().is_some_and(|a| is_managed(&a.metadata));
    let new_secret = match intent {
        Intent::Apply => existing.secret.is_none(),
        Intent::Rotate => true,
    };
    ownership.renew_service_account = secret_token && account_ours && new_secret;
    ownership
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::api::rbac::v1::Subject;

    use super::*;
    use crate::manifest::{BOUND_ANCHOR_TYPE, TOKEN_SECRET_TYPE, build_manifests};
    use crate::spec::Rule;

    fn spec() -> AccessSpec {
        AccessSpec {
            namespace: Some("demo".into()),
            rules: vec![Rule::new(&[""], &["pods"], &["get"])],
            ..AccessSpec::default()
        }
    }

    /// The four objects as this tool writes them.
    fn ours() -> Existing {
        let m = build_manifests(&spec()).unwrap();
        Existing {
            role: Some(m.role),
            service_account: m.service_account,
            role_binding: Some(m.role_binding),
            secret: m.secret,
        }
    }

    fn unlabel(meta: &mut ObjectMeta) {
        meta.labels = None;
    }

    #[test]
    fn objects_of_this_tool_are_updated_and_nothing_is_renewed() {
        let verdict = assess_ownership(&spec(), &ours(), Intent::Apply, false);
        assert_eq!(verdict, Ownership::default());
        assert!(
            assess_ownership(&spec(), &Existing::default(), Intent::Apply, false)
                .conflicts
                .is_empty()
        );
    }

    #[test]
    fn foreign_objects_are_named_and_refused_unless_adopted() {
        let mut existing = ours();
        unlabel(&mut existing.role.as_mut().unwrap().metadata);
        unlabel(&mut existing.service_account.as_mut().unwrap().metadata);
        let binding = existing.role_binding.as_mut().unwrap();
        unlabel(&mut binding.metadata);
        binding.subjects =
            Some(vec![Subject { kind: "User".into(), name: "alice".into(), ..Subject::default() }]);
        existing.secret = None;
        let refused = assess_ownership(&spec(), &existing, Intent::Apply, false);
        let lines: Vec<String> = refused.conflicts.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(lines[0].starts_with("role ci-cd exists and was not created by this tool"));
        assert!(lines[1].starts_with("serviceaccount ci-cd exists"));
        assert!(lines[2].ends_with("; it binds User alice"), "{}", lines[2]);
        // Never renewed: the ServiceAccount is not this tool's.
        assert!(!refused.renew_service_account);

        let adopted = assess_ownership(&spec(), &existing, Intent::Apply, true);
        assert!(!adopted.refused());
        assert_eq!(adopted.adopted, ["role/ci-cd", "serviceaccount/ci-cd", "rolebinding/ci-cd"]);
        assert!(!adopted.renew_service_account);
    }

    #[test]
    fn a_secret_that_cannot_hold_the_token_is_refused_even_when_adopting() {
        let mut existing = ours();
        existing.secret.as_mut().unwrap().type_ = Some("Opaque".into());
        let verdict = assess_ownership(&spec(), &existing, Intent::Apply, true);
        assert_eq!(
            verdict.conflicts,
            [Conflict::SecretType {
                name: "ci-cd".into(),
                found: "Opaque".into(),
                expected: TOKEN_SECRET_TYPE
            }]
        );
        assert!(!verdict.conflicts[0].adoptable());

        let mut existing = ours();
        existing.secret.as_mut().unwrap().metadata.annotations =
            Some(BTreeMap::from([(SERVICE_ACCOUNT_ANNOTATION.to_owned(), "builder".to_owned())]));
        let verdict = assess_ownership(&spec(), &existing, Intent::Apply, true);
        assert!(verdict.conflicts[0].to_string().contains("ServiceAccount builder"));
    }

    #[test]
    fn a_bound_tokens_anchor_must_be_an_anchor_of_this_tool() {
        let bound =
            AccessSpec { token: TokenKind::Bound { duration: "1h".parse().unwrap() }, ..spec() };
        let anchor = build_manifests(&bound).unwrap().secret;
        let existing = Existing { secret: anchor.clone(), ..ours() };
        assert!(!assess_ownership(&bound, &existing, Intent::Apply, false).refused());
        // An application's Secret of the same name: refused, adopting or not.
        let mut existing = Existing { secret: anchor, ..ours() };
        existing.secret.as_mut().unwrap().type_ = Some("Opaque".into());
        let verdict = assess_ownership(&bound, &existing, Intent::Apply, true);
        assert_eq!(
            verdict.conflicts,
            [Conflict::SecretType {
                name: "ci-cd".into(),
                found: "Opaque".into(),
                expected: BOUND_ANCHOR_TYPE
            }]
        );
        assert!(
            verdict.conflicts[0].to_string().contains("not cicd-access.dev/bound-token-anchor")
        );
        // An anchor made by hand is taken over only when adopted.
        let mut existing = Existing { secret: build_manifests(&bound).unwrap().secret, ..ours() };
        unlabel(&mut existing.secret.as_mut().unwrap().metadata);
        assert!(assess_ownership(&bound, &existing, Intent::Apply, false).refused());
        assert!(!assess_ownership(&bound, &existing, Intent::Apply, true).refused());
    }

    #[test]
    fn a_secret_token_issued_again_gets_a_new_service_account() {
        // Re-issue after revoke: the ServiceAccount stayed, the Secret went.
        let mut existing = ours();
        existing.secret = None;
        assert!(assess_ownership(&spec(), &existing, Intent::Apply, false).renew_service_account);
        // Rotation always issues again.
        assert!(assess_ownership(&spec(), &ours(), Intent::Rotate, false).renew_service_account);
        // First apply: the ServiceAccount is new anyway.
        assert!(
            !assess_ownership(&spec(), &Existing::default(), Intent::Apply, false)
                .renew_service_account
        );
        // Bound tokens carry their own issue time and id.
        let bound =
            AccessSpec { token: TokenKind::Bound { duration: "1h".parse().unwrap() }, ..spec() };
        assert!(!assess_ownership(&bound, &existing, Intent::Apply, false).renew_service_account);
    }

    #[test]
    fn keyless_leaves_a_foreign_service_account_and_secret_alone() {
        let keyless = AccessSpec {
            token: TokenKind::Keyless(crate::spec::KeylessIdentity::default()),
            ..spec()
        };
        let mut existing = ours();
        unlabel(&mut existing.service_account.as_mut().unwrap().metadata);
        unlabel(&mut existing.secret.as_mut().unwrap().metadata);
        let ownership = assess_ownership(&keyless, &existing, Intent::Apply, false);
        assert!(!ownership.refused(), "{:?}", ownership.conflicts);
        assert!(!ownership.renew_service_account);
        assert!(assess_ownership(&spec(), &existing, Intent::Apply, false).refused());
    }
}
