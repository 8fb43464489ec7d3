//! Keyless access: the CI job proves who it is with its provider's OIDC token, so nothing is
//! stored anywhere. The RoleBinding names the job's identity (a prefix and the token's `sub`
//! exactly as the provider writes it); the cluster's JWT authenticator, which the
//! administrator configures from what this module renders, accepts the token.
//!
//! Field checks live here, beside the subjects they protect; [`validate_identity`] is called
//! by [`crate::validate::validate_spec`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::{AccessSpec, KeylessIdentity, Provider, TokenKind};
use crate::validate::{Shown, SpecErrors, ValidationError, validate_spec};

/// GitHub Actions' token issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// gitlab.com's token issuer; a self-managed GitLab is its own (`token.issuer`).
pub const GITLAB_ISSUER: &str = "https://gitlab.com";
/// The CI variable that holds the job's ID token for GitLab (`id_tokens:`) and custom
/// issuers; `kubectl cicd token --variable` reads it.
pub const ID_TOKEN_VARIABLE: &str = "CICD_ACCESS_ID_TOKEN";
/// The claim custom issuers name the job with unless `token.claim` says otherwise.
pub const DEFAULT_CLAIM: &str = "sub";
/// Refuses any identity the mapping could turn into a `system:` user, whatever the prefix.
pub const NO_SYSTEM_USERS: &str = "!user.username.startsWith('system:')";

/// The prefix of every Kubernetes user name of `provider`'s jobs, so that a CI identity can
/// never be taken for another authenticator's user. The CLI and the test harness take it
/// from here.
pub fn username_prefix(provider: Provider) -> &'static str {
    match provider {
        Provider::Github => "github:",
        Provider::Gitlab => "gitlab:",
        Provider::Custom => "oidc:",
    }
}

/// The claim the user name is taken from: `sub`, or a custom issuer's `token.claim`.
pub fn username_claim(identity: &KeylessIdentity) -> &str {
    match identity.provider {
        Provider::Custom => identity.claim.as_deref().unwrap_or(DEFAULT_CLAIM),
        Provider::Github | Provider::Gitlab => DEFAULT_CLAIM,
    }
}

/// The branch or tag of a `refs/heads/…` or `refs/tags/…` ref, as GitLab names it.
fn gitlab_ref(git_ref: &str) -> (&'static str, &str) {
    match git_ref.strip_prefix("refs/tags/") {
        Some(tag) => ("tag", tag),
        None => ("branch", git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref)),
    }
}

/// The value of the username claim of the admitted jobs, exactly as the provider writes
/// it: GitHub `repo:ORG/REPO:ref:refs/heads/main` or `repo:ORG/REPO:environment:NAME`,
/// GitLab `project_path:GROUP/PROJECT:ref_type:branch:ref:main`, custom the given value.
/// Of a validated identity; a missing field is left empty.
pub fn subject(identity: &KeylessIdentity) -> String {
    let text = |field: &Option<String>| field.clone().unwrap_or_default();
    match identity.provider {
        Provider::Github => {
            let repository = text(&identity.repository);
            match &identity.environment {
                Some(environment) => format!("repo:{repository}:environment:{environment}"),
                None => format!("repo:{repository}:ref:{}", text(&identity.git_ref)),
            }
        }
        Provider::Gitlab => {
            let git_ref = text(&identity.git_ref);
            let (ref_type, name) = gitlab_ref(&git_ref);
            format!("project_path:{}:ref_type:{ref_type}:ref:{name}", text(&identity.project))
        }
        Provider::Custom => text(&identity.value),
    }
}

/// The Kubernetes user the authenticator makes of an admitted job: the RoleBinding's
/// subject, and whom `verify` impersonates.
pub fn username(identity: &KeylessIdentity) -> String {
    format!("{}{}", username_prefix(identity.provider), subject(identity))
}

/// The issuer: the given one, else the provider's public one (`None` for custom).
pub fn issuer(identity: &KeylessIdentity) -> Option<&str> {
    identity.issuer.as_deref().or(match identity.provider {
        Provider::Github => Some(GITHUB_ISSUER),
        Provider::Gitlab => Some(GITLAB_ISSUER),
        Provider::Custom => None,
    })
}

/// The audience the job's token must carry: the given one, else the spec's server URL.
pub fn audience<'a>(identity: &'a KeylessIdentity, spec: &'a AccessSpec) -> Option<&'a str> {
    identity.audience.as_deref().or(spec.server.as_deref())
}

/// The claims the authenticator requires, beside the audience, so that only this
/// pipeline's jobs authenticate at all: the issuer of GitHub's and gitlab.com's tokens
/// serves every repository in the world.
pub fn required_claims(identity: &KeylessIdentity) -> Vec<(String, String)> {
    let mut claims = Vec::new();
    let mut require = |claim: &str, value: &Option<String>| {
        if let Some(value) = value {
            claims.push((claim.to_owned(), value.clone()));
        }
    };
    match identity.provider {
        Provider::Github => {
            require("repository", &identity.repository);
            require("ref", &identity.git_ref);
            require("environment", &identity.environment);
        }
        Provider::Gitlab => {
            require("project_path", &identity.project);
            if let Some(git_ref) = &identity.git_ref {
                let (ref_type, name) = gitlab_ref(git_ref);
                require("ref_type", &Some(ref_type.to_owned()));
                require("ref", &Some(name.to_owned()));
            }
            // GitLab's `sub` never names the environment: this rule is what holds it.
            require("environment", &identity.environment);
        }
        Provider::Custom => require(username_claim(identity), &identity.value),
    }
    claims
}

fn invalid(field: &str, value: &str, reason: impl Into<String>) -> ValidationError {
    ValidationError::InvalidIdentity {
        field: format!("token.{field}"),
        value: Shown::new(value),
        reason: reason.into(),
    }
}

/// GitHub's rules for an account or organisation name.
fn check_owner(owner: &str) -> Result<(), String> {
    if owner.is_empty() || owner.len() > 39 {
        return Err("the owner must be 1 to 39 characters; write OWNER/REPO, e.g. org/app".into());
    }
    if !owner.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        || owner.starts_with('-')
        || owner.ends_with('-')
    {
        return Err("the owner may hold only letters, digits and inner hyphens, as GitHub account names do; write OWNER/REPO, e.g. org/app".into());
    }
    Ok(())
}

/// GitHub's rules for a repository name.
fn check_repository_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 100 {
        return Err(
            "the repository name must be 1 to 100 characters; write OWNER/REPO, e.g. org/app"
                .into(),
        );
    }
    if name == "." || name == ".." {
        return Err("the repository name cannot be . or ..; write OWNER/REPO, e.g. org/app".into());
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err("the repository name may hold only letters, digits, -, _ and ., as GitHub's do; write OWNER/REPO, e.g. org/app".into());
    }
    Ok(())
}

fn check_github_repository(value: &str) -> Result<(), String> {
    let Some((owner, name)) = value.split_once('/') else {
        return Err("must be OWNER/REPO, e.g. org/app".into());
    };
    if name.contains('/') {
        return Err("must be OWNER/REPO with one slash, e.g. org/app".into());
    }
    check_owner(owner)?;
    check_repository_name(name)
}

/// A project path as GitLab checks each of its groups and the project.
fn check_gitlab_project(value: &str) -> Result<(), String> {
    let segments: Vec<&str> = value.split('/').collect();
    if segments.len() < 2 {
        return Err("must be the project's full path, GROUP/PROJECT or GROUP/SUBGROUP/PROJECT, e.g. group/app".into());
    }
    // GitLab nests at most 20 subgroups under a top-level group.
    if segments.len() > 22 {
        return Err(
            "has more levels than GitLab allows (a group, 20 subgroups, the project)".into()
        );
    }
    for segment in segments {
        if segment.is_empty() {
            return Err("has an empty group or project; write GROUP/PROJECT without leading, trailing or double slashes".into());
        }
        if !segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err(format!(
                "{segment:?}: a GitLab path may hold only letters, digits, _, - and ."
            ));
        }
        if segment.starts_with(['-', '.']) || segment.ends_with(['-', '.']) {
            return Err(format!("{segment:?}: a GitLab path cannot start or end with - or ."));
        }
        if segment.rsplit_once('.').is_some_and(|(_, end)| {
            end.eq_ignore_ascii_case("git") || end.eq_ignore_ascii_case("atom")
        }) {
            return Err(format!("{segment:?}: a GitLab path cannot end in .git or .atom"));
        }
    }
    Ok(())
}

/// A full branch or tag ref, by git's own ref-name rules.
fn check_ref(value: &str) -> Result<(), String> {
    let Some(name) = value.strip_prefix("refs/heads/").or_else(|| value.strip_prefix("refs/tags/"))
    else {
        if value.starts_with("refs/") {
            return Err("must be a branch (refs/heads/NAME) or a tag (refs/tags/NAME); other refs, such as pull requests, never deploy".into());
        }
        return Err(format!(
            "must be the full ref, as the token's claim holds it: refs/heads/{value} for a branch, refs/tags/{value} for a tag"
        ));
    };
    let bad = name.is_empty()
        || name.starts_with(['/', '.', '-'])
        || name.ends_with(['/', '.'])
        || name.rsplit_once('.').is_some_and(|(_, end)| end == "lock")
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name.bytes().any(|b| b.is_ascii_control() || b" ~^:?*[\\".contains(&b));
    if bad {
        return Err("is not a git branch or tag name (no spaces, ~ ^ : ? * [ \\, .., //, @{, or a trailing . / .lock)".into());
    }
    Ok(())
}

/// An environment name as both providers accept it (GitHub's and GitLab's common ground).
fn check_environment(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > 255 {
        return Err("must be 1 to 255 characters, e.g. production".into());
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err("must not start or end with a space".into());
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b" -_./".contains(&b)) {
        return Err("may hold only letters, digits, spaces, -, _, . and /, e.g. production".into());
    }
    Ok(())
}

/// An issuer URL, as the authenticator compares it with the token's `iss`.
fn check_issuer(value: &str) -> Result<(), String> {
    let example = "e.g. https://gitlab.example.com";
    let Some(rest) = value.strip_prefix("https://") else {
        return Err(format!(
            "must be an https URL: the API server fetches its signing keys from it; {example}"
        ));
    };
    let host = rest.split(['/', ':']).next().unwrap_or("");
    if host.is_empty() {
        return Err(format!("has no host; {example}"));
    }
    if value.contains(['?', '#']) {
        return Err(format!(
            "must not have a query or fragment: the token's iss never has one; {example}"
        ));
    }
    if value.contains('@') {
        return Err(format!("must not carry a user or password; {example}"));
    }
    if value.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return Err(format!("must not hold spaces; {example}"));
    }
    Ok(())
}

/// An audience, claim name or claim value: written into flags and CEL-free rules as is.
fn check_word(value: &str, what: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("must not be empty; give {what}"));
    }
    if value.len() > 1024 {
        return Err(format!("is {} characters; give {what} of at most 1024", value.len()));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("must not hold spaces or control characters; give {what}"));
    }
    Ok(())
}

/// Everything wrong with a keyless identity, each error naming its `token.` field.
/// `server` is the API server URL the audience defaults to, if known.
pub fn validate_identity(identity: &KeylessIdentity, server: Option<&str>) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    let provider = identity.provider.as_str();
    let mut check =
        |field: &str, value: &Option<String>, rule: &dyn Fn(&str) -> Result<(), String>| {
            if let Some(value) = value
                && let Err(reason) = rule(value)
            {
                errors.push(invalid(field, value, reason));
            }
        };
    check("repository", &identity.repository, &check_github_repository);
    check("project", &identity.project, &check_gitlab_project);
    check("ref", &identity.git_ref, &check_ref);
    check("environment", &identity.environment, &check_environment);
    check("issuer", &identity.issuer, &check_issuer);
    check("audience", &identity.audience, &|v| {
        check_word(v, "the token's aud, e.g. the API server URL")
    });
    check("claim", &identity.claim, &|v| {
        check_word(v, "the claim's name, e.g. sub")?;
        if v.contains('=') {
            Err("must not hold =: --oidc-required-claim could not say it".into())
        } else {
            Ok(())
        }
    });
    check("value", &identity.value, &|v| check_word(v, "the claim's value"));
    // Which fields each provider takes: a field of another provider is a mistake, never ignored.
    let foreign: &[(&str, bool, &str)] = match identity.provider {
        Provider::Github => &[
            ("project", identity.project.is_some(), "GitHub names `repository: OWNER/REPO`"),
            ("claim", identity.claim.is_some(), "only provider: custom names its claim"),
            ("value", identity.value.is_some(), "only provider: custom names its claim's value"),
        ],
        Provider::Gitlab => &[
            ("repository", identity.repository.is_some(), "GitLab names `project: GROUP/PROJECT`"),
            ("claim", identity.claim.is_some(), "only provider: custom names its claim"),
            ("value", identity.value.is_some(), "only provider: custom names its claim's value"),
        ],
        Provider::Custom => &[
            (
                "repository",
                identity.repository.is_some(),
                "a custom issuer names the job with `claim` and `value`",
            ),
            (
                "project",
                identity.project.is_some(),
                "a custom issuer names the job with `claim` and `value`",
            ),
            (
                "ref",
                identity.git_ref.is_some(),
                "a custom issuer names the job with `claim` and `value`",
            ),
            (
                "environment",
                identity.environment.is_some(),
                "a custom issuer names the job with `claim` and `value`",
            ),
        ],
    };
    for (field, given, hint) in foreign {
        if *given {
            errors.push(invalid(
                field,
                "",
                format!("is not a field of provider {provider}: {hint}; drop it"),
            ));
        }
    }
    let missing = |field: &str, reason: &str| invalid(field, "", reason.to_owned());
    match identity.provider {
        Provider::Github => {
            if identity.repository.is_none() {
                errors.push(missing(
                    "repository",
                    "is required for GitHub: the repository whose jobs deploy, e.g. org/app",
                ));
            }
            match (&identity.git_ref, &identity.environment) {
                (None, None) => errors.push(missing("ref", "GitHub needs a ref (e.g. refs/heads/main) or an environment (e.g. production): the job's sub names one of them")),
                (Some(_), Some(_)) => errors.push(missing("environment", "give a ref or an environment, not both: a job with an environment has a sub that names the environment and no ref")),
                _ => {}
            }
        }
        Provider::Gitlab => {
            if identity.project.is_none() {
                errors.push(missing(
                    "project",
                    "is required for GitLab: the project's full path, e.g. group/app",
                ));
            }
            if identity.git_ref.is_none() {
                errors.push(missing("ref", "is required for GitLab, whose sub always names the ref (e.g. refs/heads/main); an environment only narrows it further"));
            }
        }
        Provider::Custom => {
            if identity.issuer.is_none() {
                errors.push(missing(
                    "issuer",
                    "is required for a custom provider: the https URL of its token issuer",
                ));
            }
            if identity.value.is_none() {
                errors.push(missing(
                    "value",
                    "is required for a custom provider: the value the job's claim must have",
                ));
            }
        }
    }
    if identity.audience.is_none() && server.is_none() {
        errors.push(missing("audience", "is not given and the spec has no server to default to; give token.audience (usually the API server URL) or server"));
    }
    errors
}

/// Why the cluster side of an access cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeylessError {
    #[error(
        "the access uses a {kind} token, not a keyless one; write token: {{kind: keyless, provider: ...}} in the spec"
    )]
    NotKeyless { kind: &'static str },
    #[error(transparent)]
    Spec(#[from] SpecErrors),
}

/// Which `AuthenticationConfiguration` a kube-apiserver reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticationApi {
    /// `apiserver.config.k8s.io/v1`, Kubernetes 1.34 and later.
    V1,
    /// `apiserver.config.k8s.io/v1beta1`, Kubernetes 1.30 to 1.33.
    V1beta1,
}

impl AuthenticationApi {
    pub fn api_version(self) -> &'static str {
        match self {
            AuthenticationApi::V1 => "apiserver.config.k8s.io/v1",
            AuthenticationApi::V1beta1 => "apiserver.config.k8s.io/v1beta1",
        }
    }

    fn versions(self) -> &'static str {
        match self {
            AuthenticationApi::V1 => "Kubernetes 1.34 and later",
            AuthenticationApi::V1beta1 => "Kubernetes 1.30 to 1.33",
        }
    }
}

/// A valid keyless access, with everything the cluster side needs resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeylessAccess<'a> {
    pub identity: &'a KeylessIdentity,
    pub issuer: &'a str,
    pub audience: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthenticationConfiguration<'a> {
    api_version: &'static str,
    kind: &'static str,
    jwt: [JwtAuthenticator<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JwtAuthenticator<'a> {
    issuer: Issuer<'a>,
    claim_validation_rules: Vec<ClaimValidationRule<'a>>,
    claim_mappings: ClaimMappings<'a>,
    user_validation_rules: [UserValidationRule; 1],
}

#[derive(Serialize)]
struct Issuer<'a> {
    url: &'a str,
    audiences: [&'a str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClaimValidationRule<'a> {
    claim: &'a str,
    required_value: &'a str,
}

#[derive(Serialize)]
struct ClaimMappings<'a> {
    username: PrefixedClaim<'a>,
}

#[derive(Serialize)]
struct PrefixedClaim<'a> {
    claim: &'a str,
    prefix: &'static str,
}

#[derive(Serialize)]
struct UserValidationRule {
    expression: &'static str,
    message: &'static str,
}

/// `aws eks associate-identity-provider-config --cli-input-json`, the cluster named on the
/// command line.
#[derive(Serialize)]
struct EksInput<'a> {
    oidc: EksOidc<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EksOidc<'a> {
    identity_provider_config_name: String,
    issuer_url: &'a str,
    client_id: &'a str,
    username_claim: &'a str,
    username_prefix: &'static str,
    required_claims: BTreeMap<String, String>,
}

impl<'a> KeylessAccess<'a> {
    /// The keyless access of `spec`, validated; `Err` for another kind of token or an
    /// invalid spec.
    pub fn of(spec: &'a AccessSpec) -> Result<KeylessAccess<'a>, KeylessError> {
        let identity = match &spec.token {
            TokenKind::Keyless(identity) => identity,
            TokenKind::Secret => return Err(KeylessError::NotKeyless { kind: "secret" }),
            TokenKind::Bound { .. } => return Err(KeylessError::NotKeyless { kind: "bound" }),
        };
        validate_spec(spec)?;
        // Validation guarantees both; the fallbacks only keep this total.
        Ok(KeylessAccess {
            identity,
            issuer: issuer(identity).unwrap_or_default(),
            audience: audience(identity, spec).unwrap_or_default(),
        })
    }

    /// The RoleBinding's user: [`username`].
    pub fn username(&self) -> String {
        username(self.identity)
    }

    fn required_claims(&self) -> Vec<(String, String)> {
        required_claims(self.identity)
    }

    /// The `AuthenticationConfiguration` file for `kube-apiserver --authentication-config`:
    /// one `jwt` authenticator for this pipeline's issuer, audience and claims.
    pub fn authentication_configuration(&self, api: AuthenticationApi) -> String {
        let claims = self.required_claims();
        let config = AuthenticationConfiguration {
            api_version: api.api_version(),
            kind: "AuthenticationConfiguration",
            jwt: [JwtAuthenticator {
                issuer: Issuer { url: self.issuer, audiences: [self.audience] },
                claim_validation_rules: claims
                    .iter()
                    .map(|(claim, value)| ClaimValidationRule { claim, required_value: value })
                    .collect(),
                claim_mappings: ClaimMappings {
                    username: PrefixedClaim {
                        claim: username_claim(self.identity),
                        prefix: username_prefix(self.identity.provider),
                    },
                },
                user_validation_rules: [UserValidationRule {
                    expression: NO_SYSTEM_USERS,
                    message: "the CI identity must not be a system: user",
                }],
            }],
        };
        format!(
            "# {}: kube-apiserver --authentication-config=/etc/kubernetes/authentication-config.yaml\n# (not together with --oidc-* flags). The API server re-reads this file when it changes.\n{}",
            api.versions(),
            crate::yaml::to_string(&config).unwrap_or_default()
        )
    }

    /// The `kube-apiserver` flags for clusters without structured authentication
    /// configuration (before 1.30), one per line. They admit one issuer per API server.
    pub fn oidc_flags(&self) -> Vec<String> {
        let mut flags = vec![
            format!("--oidc-issuer-url={}", self.issuer),
            format!("--oidc-client-id={}", self.audience),
            format!("--oidc-username-claim={}", username_claim(self.identity)),
            format!("--oidc-username-prefix={}", username_prefix(self.identity.provider)),
        ];
        flags.extend(
            self.required_claims()
                .into_iter()
                .map(|(claim, value)| format!("--oidc-required-claim={claim}={value}")),
        );
        flags
    }

    /// The JSON for `aws eks associate-identity-provider-config --cluster-name CLUSTER
    /// --cli-input-json file://FILE`.
    pub fn eks_identity_provider_config(&self) -> String {
        let input = EksInput {
            oidc: EksOidc {
                identity_provider_config_name: format!(
                    "cicd-access-{}",
                    self.identity.provider.as_str()
                ),
                issuer_url: self.issuer,
                client_id: self.audience,
                username_claim: username_claim(self.identity),
                username_prefix: username_prefix(self.identity.provider),
                required_claims: self.required_claims().into_iter().collect(),
            },
        };
        let mut json = serde_json::to_string_pretty(&input).unwrap_or_default();
        json.push('\n');
        json
    }

    /// Which of the forms above to give the cluster, by Kubernetes version and platform.
    pub fn guide(&self) -> String {
        let user = self.username();
        format!(
            "How the cluster accepts the job's token (the administrator's part; do it once per cluster):\n\
             - Kubernetes 1.34 and later: the AuthenticationConfiguration apiserver.config.k8s.io/v1, passed with kube-apiserver --authentication-config.\n\
             - Kubernetes 1.30 to 1.33: the same file as apiserver.config.k8s.io/v1beta1.\n\
             - Older clusters, or to keep using flags: the --oidc-* flags. They admit one issuer per API server and cannot be combined with --authentication-config.\n\
             - Amazon EKS: the identity provider config, with aws eks associate-identity-provider-config --cluster-name CLUSTER --cli-input-json file://FILE; EKS allows one OIDC provider per cluster.\n\
             - Other managed clusters: their own way to add an OIDC issuer, with the same issuer, audience ({audience}), username claim ({claim}), prefix ({prefix}) and required claims.\n\
             The RoleBinding names the user {user}: the token's {claim} with the prefix {prefix}. \
             A repository or organisation that customises its OIDC subject template changes that sub, and the binding would no longer match.\n",
            audience = self.audience,
            claim = username_claim(self.identity),
            prefix = username_prefix(self.identity.provider),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(identity: KeylessIdentity) -> AccessSpec {
        AccessSpec {
            namespace: Some("demo".into()),
            server: Some("https://api.example.com:6443".into()),
            token: TokenKind::Keyless(identity),
            ..crate::preset::PRESETS[0].spec()
        }
    }

    fn github(git_ref: Option<&str>, environment: Option<&str>) -> KeylessIdentity {
        KeylessIdentity {
            provider: Provider::Github,
            repository: Some("Org/app".into()),
            git_ref: git_ref.map(Into::into),
            environment: environment.map(Into::into),
            ..KeylessIdentity::default()
        }
    }

    fn gitlab(git_ref: &str, environment: Option<&str>) -> KeylessIdentity {
        KeylessIdentity {
            provider: Provider::Gitlab,
            project: Some("group/sub/app".into()),
            git_ref: Some(git_ref.into()),
            environment: environment.map(Into::into),
            issuer: Some("https://gitlab.example.com".into()),
            ..KeylessIdentity::default()
        }
    }

    fn custom() -> KeylessIdentity {
        KeylessIdentity {
            provider: Provider::Custom,
            issuer: Some("https://issuer.example.com/".into()),
            audience: Some("kubernetes".into()),
            claim: Some("job".into()),
            value: Some("deploy-demo".into()),
            ..KeylessIdentity::default()
        }
    }

    #[test]
    fn usernames_are_the_prefix_and_the_sub_as_the_provider_writes_it() {
        assert_eq!(
            username(&github(Some("refs/heads/main"), None)),
            "github:repo:Org/app:ref:refs/heads/main"
        );
        assert_eq!(
            username(&github(None, Some("production"))),
            "github:repo:Org/app:environment:production"
        );
        assert_eq!(
            username(&gitlab("refs/heads/main", None)),
            "gitlab:project_path:group/sub/app:ref_type:branch:ref:main"
        );
        assert_eq!(
            username(&gitlab("refs/tags/v1.2", Some("production"))),
            "gitlab:project_path:group/sub/app:ref_type:tag:ref:v1.2"
        );
        assert_eq!(username(&custom()), "oidc:deploy-demo");
        assert_eq!(username_claim(&custom()), "job");
    }

    #[test]
    fn gitlab_environments_are_a_required_claim_since_its_sub_has_none() {
        let claims = required_claims(&gitlab("refs/heads/main", Some("production")));
        let pairs: Vec<(&str, &str)> =
            claims.iter().map(|(c, v)| (c.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("project_path", "group/sub/app"),
                ("ref_type", "branch"),
                ("ref", "main"),
                ("environment", "production")
            ]
        );
    }

    #[test]
    fn defaults_are_the_public_issuers_and_the_server() {
        let spec = spec(github(Some("refs/heads/main"), None));
        let access = KeylessAccess::of(&spec).unwrap();
        assert_eq!(access.issuer, GITHUB_ISSUER);
        assert_eq!(access.audience, "https://api.example.com:6443");
        let gitlab_com = KeylessIdentity { issuer: None, ..gitlab("refs/heads/main", None) };
        assert_eq!(issuer(&gitlab_com), Some(GITLAB_ISSUER));
        assert_eq!(issuer(&KeylessIdentity { issuer: None, ..custom() }), None);
    }

    #[test]
    fn another_kind_of_token_has_no_cluster_side() {
        let secret = AccessSpec::default();
        assert_eq!(
            KeylessAccess::of(&secret).unwrap_err(),
            KeylessError::NotKeyless { kind: "secret" }
        );
    }

    fn errors(identity: KeylessIdentity) -> Vec<(String, String)> {
        let spec = AccessSpec { server: None, ..spec(identity) };
        match &spec.token {
            TokenKind::Keyless(identity) => validate_identity(identity, spec.server.as_deref())
                .into_iter()
                .map(|e| (e.field().to_owned(), e.to_string()))
                .collect(),
            _ => unreachable!(),
        }
    }

    fn refused(identity: KeylessIdentity, field: &str, wanted: &str) {
        let found = errors(identity);
        assert!(
            found.iter().any(|(f, message)| f == field && message.contains(wanted)),
            "{field} / {wanted}: {found:#?}"
        );
    }

    #[test]
    fn bad_inputs_are_refused_naming_the_field() {
        let main = || github(Some("refs/heads/main"), None);
        let with_audience = |identity: KeylessIdentity| KeylessIdentity {
            audience: Some("k8s".into()),
            ..identity
        };
        for (repository, wanted) in [
            ("app", "must be OWNER/REPO"),
            ("org/app/x", "one slash"),
            ("-org/app", "inner hyphens"),
            ("org/app name", "letters, digits, -, _ and ."),
            ("org/..", "cannot be . or .."),
            ("an-owner-name-of-forty-characters-long-x/app", "1 to 39"),
        ] {
            refused(
                KeylessIdentity { repository: Some(repository.into()), ..main() },
                "token.repository",
                wanted,
            );
        }
        for (git_ref, wanted) in [
            ("main", "refs/heads/main for a branch"),
            ("refs/pull/1/merge", "pull requests"),
            ("refs/heads/a..b", "not a git branch"),
            ("refs/heads/a b", "not a git branch"),
            ("refs/heads/", "not a git branch"),
        ] {
            refused(
                KeylessIdentity { git_ref: Some(git_ref.into()), ..main() },
                "token.ref",
                wanted,
            );
        }
        refused(github(None, Some("prod:eu")), "token.environment", "letters, digits");
        refused(github(None, None), "token.ref", "a ref (e.g. refs/heads/main) or an environment");
        refused(
            github(Some("refs/heads/main"), Some("production")),
            "token.environment",
            "not both",
        );
        refused(main(), "token.audience", "no server to default to");
        for (issuer, wanted) in [
            ("http://gitlab.example.com", "https URL"),
            ("https://gitlab.example.com/?x=1", "query or fragment"),
            ("https://gitlab.example.com/#a", "query or fragment"),
            ("https:///path", "no host"),
            ("https://user@gitlab.example.com", "user or password"),
        ] {
            refused(
                KeylessIdentity { issuer: Some(issuer.into()), ..main() },
                "token.issuer",
                wanted,
            );
        }
        refused(
            KeylessIdentity { audience: Some("my audience".into()), ..main() },
            "token.audience",
            "spaces",
        );
        refused(
            KeylessIdentity { audience: Some(String::new()), ..main() },
            "token.audience",
            "must not be empty",
        );
        refused(
            with_audience(KeylessIdentity { project: Some("group/app".into()), ..main() }),
            "token.project",
            "not a field of provider github",
        );
        for (project, wanted) in [
            ("app", "GROUP/PROJECT"),
            ("group//app", "empty group"),
            ("group/app.git", ".git"),
            ("group/-app", "cannot start or end"),
            ("group/a pp", "only letters"),
        ] {
            refused(
                KeylessIdentity {
                    project: Some(project.into()),
                    ..gitlab("refs/heads/main", None)
                },
                "token.project",
                wanted,
            );
        }
        refused(
            KeylessIdentity { git_ref: None, ..gitlab("refs/heads/main", None) },
            "token.ref",
            "required for GitLab",
        );
        refused(
            KeylessIdentity { issuer: None, ..custom() },
            "token.issuer",
            "required for a custom",
        );
        refused(
            KeylessIdentity { value: None, ..custom() },
            "token.value",
            "required for a custom",
        );
        refused(
            KeylessIdentity { claim: Some("a=b".into()), ..custom() },
            "token.claim",
            "must not hold =",
        );
        refused(
            KeylessIdentity { repository: Some("org/app".into()), ..custom() },
            "token.repository",
            "claim` and `value",
        );
    }

    #[test]
    fn good_inputs_pass() {
        for identity in [
            KeylessIdentity {
                audience: Some("k8s".into()),
                ..github(Some("refs/tags/v1.0.0"), None)
            },
            KeylessIdentity { audience: Some("k8s".into()), ..github(None, Some("production eu")) },
            KeylessIdentity {
                audience: Some("k8s".into()),
                ..gitlab("refs/heads/release/1.x", Some("production"))
            },
            custom(),
        ] {
            assert_eq!(errors(identity.clone()), vec![], "{identity:?}");
        }
    }

    #[test]
    fn a_spec_file_is_checked_through_validate_spec() {
        let check = |token: &str| {
            let text = format!(
                "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\nnamespace: demo\nserver: https://api.example.com\nrules: [{{apiGroups: [apps], resources: [deployments], verbs: [get]}}]\ntoken:\n{token}"
            );
            let spec = AccessSpec::parse_documents(&text).unwrap().remove(0);
            match validate_spec(&spec) {
                Ok(()) => Vec::new(),
                Err(errors) => errors.0.iter().map(|e| e.field().to_owned()).collect(),
            }
        };
        assert_eq!(
            check(
                "  kind: keyless\n  provider: gitlab\n  project: group/sub/app\n  ref: refs/heads/main\n  environment: production\n"
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            check(
                "  kind: keyless\n  provider: custom\n  issuer: https://issuer.example.com\n  value: deployer\n"
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            check("  kind: keyless\n  provider: github\n  repository: org\n  ref: main\n"),
            ["token.repository", "token.ref"]
        );
        // The unused ServiceAccount name is not checked for a keyless access.
        let unused = "serviceAccount: Not A Name\n";
        let text = format!(
            "apiVersion: cicd-access.dev/v1alpha1\nkind: CiCdAccess\n{unused}rules: [{{apiGroups: [apps], resources: [deployments], verbs: [get]}}]\ntoken: {{kind: keyless, provider: github, repository: org/app, ref: refs/heads/main, audience: k8s}}\n"
        );
        assert_eq!(validate_spec(&AccessSpec::parse_documents(&text).unwrap()[0]), Ok(()));
    }

    #[test]
    fn golden_cluster_side() {
        let github_spec = spec(github(Some("refs/heads/main"), None));
        let github = KeylessAccess::of(&github_spec).unwrap();
        insta::assert_snapshot!(
            "github_v1",
            github.authentication_configuration(AuthenticationApi::V1)
        );
        insta::assert_snapshot!(
            "github_v1beta1",
            github.authentication_configuration(AuthenticationApi::V1beta1)
        );
        insta::assert_snapshot!("github_flags", github.oidc_flags().join("\n"));
        insta::assert_snapshot!("github_eks", github.eks_identity_provider_config());
        insta::assert_snapshot!("github_guide", github.guide());
        let gitlab_spec = spec(gitlab("refs/heads/main", Some("production")));
        let gitlab = KeylessAccess::of(&gitlab_spec).unwrap();
        insta::assert_snapshot!(
            "gitlab_v1",
            gitlab.authentication_configuration(AuthenticationApi::V1)
        );
        insta::assert_snapshot!("gitlab_flags", gitlab.oidc_flags().join("\n"));
        let custom_spec = spec(custom());
        let custom = KeylessAccess::of(&custom_spec).unwrap();
        insta::assert_snapshot!(
            "custom_v1",
            custom.authentication_configuration(AuthenticationApi::V1)
        );
        insta::assert_snapshot!("custom_eks", custom.eks_identity_provider_config());
    }

    #[test]
    fn the_authenticator_holds_the_documented_fields() {
        let spec = spec(github(None, Some("production")));
        let access = KeylessAccess::of(&spec).unwrap();
        let text = access.authentication_configuration(AuthenticationApi::V1beta1);
        let config: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(config["apiVersion"], "apiserver.config.k8s.io/v1beta1");
        let jwt = &config["jwt"][0];
        assert_eq!(jwt["issuer"]["url"], GITHUB_ISSUER);
        assert_eq!(jwt["issuer"]["audiences"][0], "https://api.example.com:6443");
        assert_eq!(jwt["claimMappings"]["username"]["claim"], "sub");
        assert_eq!(jwt["claimMappings"]["username"]["prefix"], "github:");
        assert_eq!(jwt["claimValidationRules"][1]["claim"], "environment");
        assert_eq!(jwt["claimValidationRules"][1]["requiredValue"], "production");
        assert_eq!(jwt["userValidationRules"][0]["expression"], NO_SYSTEM_USERS);
        let eks: serde_json::Value =
            serde_json::from_str(&access.eks_identity_provider_config()).unwrap();
        assert_eq!(eks["oidc"]["requiredClaims"]["repository"], "Org/app");
        assert_eq!(eks["oidc"]["usernamePrefix"], "github:");
    }
}
