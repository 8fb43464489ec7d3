//! Input validation with the API server's own name rules.
//!
//! Every error names the field, shows the value and says how to fix it. Whatever passes is
//! safe to put into YAML (serde quotes it) and into the script (single-quoted).

use std::fmt;

use crate::spec::{AccessSpec, Rule, TokenKind};

/// Longest DNS-1123 label (namespaces).
pub const MAX_LABEL: usize = 63;
/// Longest DNS-1123 subdomain (ServiceAccounts, Secrets).
pub const MAX_SUBDOMAIN: usize = 253;
/// Longest value we show back in an error message.
const SHOWN: usize = 40;

/// One thing wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("{field} {value}: {reason}")]
    InvalidName { field: String, value: Shown, reason: String },
    #[error("{field} {value}: {reason}")]
    InvalidServer { field: String, value: Shown, reason: String },
    #[error("{field} {value}: {reason}")]
    InvalidRule { field: String, value: Shown, reason: String },
    /// A keyless access's CI identity (`token.repository`, `token.ref`, ...).
    #[error("{field} {value}: {reason}")]
    InvalidIdentity { field: String, value: Shown, reason: String },
}

impl ValidationError {
    /// The input field at fault, e.g. `namespace` or `rules[2].verbs`.
    pub fn field(&self) -> &str {
        match self {
            ValidationError::InvalidName { field, .. }
            | ValidationError::InvalidServer { field, .. }
            | ValidationError::InvalidRule { field, .. }
            | ValidationError::InvalidIdentity { field, .. } => field,
        }
    }

    /// What is wrong and how to fix it, without the field and value.
    pub fn reason(&self) -> &str {
        match self {
            ValidationError::InvalidName { reason, .. }
            | ValidationError::InvalidServer { reason, .. }
            | ValidationError::InvalidRule { reason, .. }
            | ValidationError::InvalidIdentity { reason, .. } => reason,
        }
    }
}

/// A user's value as shown in a message: quoted, escaped, and cut when long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown(String);

impl Shown {
    pub fn new(value: &str) -> Self {
        let count = value.chars().count();
        if count > SHOWN {
            let head: String = value.chars().take(SHOWN).collect();
            Shown(format!("{head:?}… ({count} characters)"))
        } else {
            Shown(format!("{value:?}"))
        }
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// All that is wrong with a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<ValidationError>);

impl SpecErrors {
    /// The errors of one field, for showing beside it.
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a ValidationError> {
        self.0.iter().filter(move |e| {
            e.field() == field
                || e.field().strip_prefix(field).is_some_and(|rest| rest.starts_with(['[', '.']))
        })
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems in the access spec:", many.len())?;
                for e in many {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SpecErrors {}

fn is_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Explains why `value` is not a DNS-1123 label, as the API server checks namespaces.
pub fn validate_namespace(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty; give the namespace the pipeline deploys to, or choose the current namespace".into());
    }
    if value.len() > MAX_LABEL {
        return Err(format!(
            "is {} characters long; a namespace is a DNS-1123 label of at most {MAX_LABEL} characters",
            value.len()
        ));
    }
    if !is_label(value) {
        return Err(dns_reason("a namespace is a DNS-1123 label", value, false));
    }
    Ok(())
}

/// Explains why `value` is not a DNS-1123 subdomain (ServiceAccount and Secret names).
pub fn validate_subdomain(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty; the default is ci-cd".into());
    }
    if value.len() > MAX_SUBDOMAIN {
        return Err(format!(
            "is {} characters long; the name must be a DNS-1123 subdomain of at most {MAX_SUBDOMAIN} characters",
            value.len()
        ));
    }
    if !value.split('.').all(is_label) {
        return Err(dns_reason("the name must be a DNS-1123 subdomain", value, true));
    }
    Ok(())
}

fn dns_reason(what: &str, value: &str, dots: bool) -> String {
    let allowed = if dots {
        "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
    } else {
        "lowercase letters, digits and '-', starting and ending with a letter or digit"
    };
    let hint = match suggest_name(value, dots) {
        Some(better) if better != value => format!("; try {better:?}"),
        _ => String::new(),
    };
    format!("{what}: use only {allowed}, e.g. ci-cd{hint}")
}

/// The nearest valid DNS name to `value`: lowercase, other characters turned into '-'.
fn suggest_name(value: &str, dots: bool) -> Option<String> {
    let mapped: String = value
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || (dots && c == '.') { c } else { '-' })
        .collect();
    let trimmed = mapped.trim_matches(|c| c == '-' || c == '.');
    let max = if dots { MAX_SUBDOMAIN } else { MAX_LABEL };
    let valid = trimmed.len() <= max
        && if dots { trimmed.split('.').all(is_label) } else { is_label(trimmed) };
    valid.then(|| trimmed.to_owned())
}

/// Explains why `value` is not a valid Role or RoleBinding name (a path segment).
pub fn validate_path_segment(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty; the default is ci-cd".into());
    }
    if value == "." || value == ".." {
        return Err("may not be '.' or '..'; use a name such as ci-cd".into());
    }
    if value.contains(['/', '%']) {
        return Err("may not contain '/' or '%'; use a name such as ci-cd".into());
    }
    // The API server would take these, but a NUL cannot live in a shell script and a
    // newline in a name is never what anyone meant.
    if value.chars().any(char::is_control) {
        return Err("contains a control character (newline, tab, ...); remove it".into());
    }
    Ok(())
}

/// Explains why `value` cannot name the cluster entry of a kubeconfig.
pub fn validate_cluster_name(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty; the default is default-cluster".into());
    }
    if value.len() > MAX_SUBDOMAIN {
        return Err(format!("is {} characters long; use at most {MAX_SUBDOMAIN}", value.len()));
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:@/".contains(&b)) {
        return Err("use only letters, digits and - _ . : @ /, e.g. my-cluster".into());
    }
    Ok(())
}

/// Explains why `value` is not a server URL a kubeconfig can use: `https://host[:port][/path]`.
pub fn validate_server(value: &str) -> Result<(), String> {
    let example = "e.g. https://api.example.com:6443";
    let Some(rest) = value.strip_prefix("https://") else {
        if value.starts_with("http://") {
            return Err(format!("must use https: the token would travel in clear text; {example}"));
        }
        return Err(format!("must be an https URL, {example}"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(format!("must not carry a user or password; {example}"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err(format!("has an unclosed IPv6 bracket; {example}"));
        };
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(format!("has an invalid IPv6 address; {example}"));
        }
        match after {
            "" => (addr, None),
            p if p.starts_with(':') => (addr, Some(&p[1..])),
            _ => return Err(format!("has text after the IPv6 address; {example}")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("has no host; {example}"));
    }
    let host_ok = authority.starts_with('[')
        || (host.len() <= MAX_SUBDOMAIN
            && host.split('.').all(|part| {
                !part.is_empty()
                    && part.len() <= MAX_LABEL
                    && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            }));
    if !host_ok {
        return Err(format!("has an invalid host name; {example}"));
    }
    if let Some(port) = port
        && !(port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p)))
    {
        return Err(format!("has an invalid port {port:?}; use 1-65535, {example}"));
    }
    if path.contains(['?', '#']) {
        return Err(format!("must not have a query or fragment; {example}"));
    }
    if !path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-._~%".contains(&b)) {
        return Err(format!("has characters a URL path cannot hold; {example}"));
    }
    Ok(())
}

fn is_verb(value: &str) -> bool {
    value == "*" || (!value.is_empty() && value.bytes().all(|b| b.is_ascii_lowercase()))
}

fn is_group(value: &str) -> bool {
    value.is_empty() || value == "*" || validate_subdomain(value).is_ok()
}

fn is_resource(value: &str) -> bool {
    let part = |p: &str| p == "*" || (!p.is_empty() && p.len() <= MAX_LABEL && is_label(p));
    match value.split_once('/') {
        Some((resource, sub)) => part(resource) && part(sub),
        None => part(value),
    }
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Checks the rules a Role will hold. Role rules cannot name non-resource URLs.
pub fn validate_rules(rules: &[Rule]) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    let mut push = |field: String, value: &str, reason: &str| {
        errors.push(ValidationError::InvalidRule {
            field,
            value: Shown::new(value),
            reason: reason.to_owned(),
        });
    };
    if rules.is_empty() {
        push(
            "rules".into(),
            "",
            "the Role has no rules; start from a preset or add the resources the pipeline deploys",
        );
    }
    for (i, rule) in rules.iter().enumerate() {
        let at = |f: &str| format!("rules[{i}].{f}");
        if !rule.non_resource_urls.is_empty() {
            push(
                at("nonResourceURLs"),
                &rule.non_resource_urls.join(","),
                "a namespaced Role cannot grant non-resource URLs; remove them (they need a ClusterRole, which a namespaced pipeline should not have)",
            );
        }
        if rule.verbs.is_empty() {
            push(at("verbs"), "", "a rule needs at least one verb, e.g. get, list, create");
        }
        for verb in &rule.verbs {
            if !is_verb(verb) {
                push(
                    at("verbs"),
                    verb,
                    "a verb is lowercase letters (get, list, watch, create, update, patch, delete, deletecollection) or *",
                );
            }
        }
        if rule.api_groups.is_empty() {
            push(
                at("apiGroups"),
                "",
                "a rule needs at least one API group; use \"\" for the core group (pods, services, secrets)",
            );
        }
        for group in &rule.api_groups {
            if !is_group(group) {
                push(
                    at("apiGroups"),
                    group,
                    "an API group is \"\" (core), * or a DNS subdomain such as apps or networking.k8s.io",
                );
            }
        }
        if rule.resources.is_empty() {
            push(at("resources"), "", "a rule needs at least one resource, e.g. deployments");
        }
        for resource in &rule.resources {
            if !is_resource(resource) {
                push(
                    at("resources"),
                    resource,
                    "a resource is a lowercase plural such as deployments, optionally with a subresource (pods/log), or *",
                );
            }
        }
        // The objects a name can limit are named as DNS-1123 subdomains, except the RBAC
        // kinds (path segments, `system:...`): an uppercase name or one with a space never
        // matches an object, so the rule would grant nothing.
        let rbac = rule.api_groups.iter().any(|g| g == RBAC_GROUP || g == "*");
        for name in &rule.resource_names {
            if rbac {
                if let Err(reason) = validate_path_segment(name) {
                    push(at("resourceNames"), name, &format!("a resource name {reason}"));
                }
            } else if let Err(reason) = validate_subdomain(name) {
                push(
                    at("resourceNames"),
                    name,
                    &format!("{} cannot name an object: {reason}", Shown::new(name)),
                );
            }
        }
    }
    errors
}

/// Everything wrong with `spec`, or nothing.
pub fn validate_spec(spec: &AccessSpec) -> Result<(), SpecErrors> {
    let mut errors = match validate_names(spec) {
        Ok(()) => Vec::new(),
        Err(SpecErrors(errors)) => errors,
    };
    if spec.rules.len() > crate::input::MAX_RULES {
        errors.push(ValidationError::InvalidRule {
            field: "rules".into(),
            value: Shown::new(&format!("({} rules)", spec.rules.len())),
            reason: format!(
                "more than {} rules; merge rules that share a group and verbs, or split the pipeline",
                crate::input::MAX_RULES
            ),
        });
    }
    errors.extend(validate_rules(&spec.rules));
    if let TokenKind::Keyless(identity) = &spec.token {
        errors.extend(crate::keyless::validate_identity(identity, spec.server.as_deref()));
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecErrors(errors)) }
}

/// What is wrong with `spec`'s namespace, names and server, its rules aside.
pub fn validate_names(spec: &AccessSpec) -> Result<(), SpecErrors> {
    let mut errors = Vec::new();
    let mut name = |field: &str, value: &str, check: fn(&str) -> Result<(), String>| {
        if let Err(reason) = check(value) {
            errors.push(ValidationError::InvalidName {
                field: field.to_owned(),
                value: Shown::new(value),
                reason,
            });
        }
    };
    if let Some(namespace) = &spec.namespace {
        name("namespace", namespace, validate_namespace);
    }
    // A keyless access has no ServiceAccount: its unused name is no reason to refuse it.
    if spec.token.has_service_account() {
        name("serviceAccount", &spec.service_account, validate_subdomain);
    }
    name("role", &spec.role, validate_path_segment);
    name("roleBinding", &spec.role_binding, validate_path_segment);
    if spec.token.has_secret() {
        name("secret", &spec.secret, validate_subdomain);
    }
    name("clusterName", &spec.cluster_name, validate_cluster_name);
    if let Some(server) = &spec.server
        && let Err(reason) = validate_server(server)
    {
        errors.push(ValidationError::InvalidServer {
            field: "server".into(),
            value: Shown::new(server),
            reason,
        });
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecErrors(errors)) }
}

/// Pairs of pipelines (of one spec file) that would write the same object, as messages:
/// they would be applied concurrently and the last writer would win, so the file is refused
/// before anything is created.
pub fn overlapping_pipelines(specs: &[AccessSpec]) -> Vec<String> {
    let mut writers: std::collections::BTreeMap<(&str, &str, &str), usize> =
        std::collections::BTreeMap::new();
    let mut overlaps = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let namespace = spec.namespace_or_current();
        let mut objects = vec![("Role", spec.role.as_str())];
        if spec.token.has_service_account() {
            objects.push(("ServiceAccount", spec.service_account.as_str()));
        }
        objects.push(("RoleBinding", spec.role_binding.as_str()));
        if spec.token.has_secret() {
            objects.push(("Secret", spec.secret.as_str()));
        }
        for (kind, name) in objects {
            match writers.entry((namespace, kind, name)) {
                std::collections::btree_map::Entry::Occupied(first) => overlaps.push(format!(
                    "pipelines {} and {} both write {kind} {name} in namespace {namespace}",
                    first.get() + 1,
                    index + 1
                )),
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
        }
    }
    overlaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_are_object_names() {
        let named = |group: &str, names: &[&str]| {
            validate_rules(&[Rule::new(&[group], &["configmaps"], &["get"]).with_names(names)])
        };
        assert_eq!(named("", &["app-config", "a.b"]), vec![]);
        for bad in ["My-Config", "my app"] {
            let errors = named("", &[bad]);
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].field(), "rules[0].resourceNames");
            assert!(errors[0].reason().contains("DNS-1123 subdomain"), "{}", errors[0].reason());
        }
        assert!(named("", &["My App"])[0].reason().contains("try \"my-app\""));
        // RBAC objects are named as path segments.
        assert_eq!(named(RBAC_GROUP, &["system:Deployer"]), vec![]);
    }

    #[test]
    fn names_follow_the_api_server() {
        assert!(validate_namespace("team-a").is_ok());
        assert!(validate_namespace(&"a".repeat(63)).is_ok());
        assert!(validate_namespace(&"a".repeat(64)).is_err());
        assert!(validate_namespace("a.b").is_err());
        assert!(validate_subdomain("a.b").is_ok());
        assert!(validate_subdomain("a..b").is_err());
        assert!(validate_path_segment("Weird Name:ü").is_ok());
        assert!(validate_path_segment("..").is_err());
    }

    #[test]
    fn servers() {
        for ok in ["https://1.2.3.4:6443", "https://api.example.com", "https://[::1]:443/k8s"] {
            assert_eq!(validate_server(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://a",
            "https://",
            "https://a:0",
            "https://a:99999",
            "https://u@a",
            "https://a/$(x)",
            "https://a b",
            "https://a?x=1",
        ] {
            assert!(validate_server(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_name_field_value_and_fix() {
        let spec = AccessSpec {
            namespace: Some("Team_A".into()),
            rules: vec![Rule::new(&["apps"], &["deployments"], &["get"])],
            ..AccessSpec::default()
        };
        let err = validate_spec(&spec).unwrap_err();
        assert_eq!(err.0.len(), 1);
        let text = err.to_string();
        assert!(
            text.starts_with("namespace \"Team_A\": a namespace is a DNS-1123 label"),
            "{text}"
        );
        assert!(text.contains("try \"team-a\""), "{text}");
    }

    #[test]
    fn a_bound_tokens_anchor_secret_is_named_like_any_secret() {
        let spec = |token: TokenKind| AccessSpec {
            secret: "$A".into(),
            token,
            rules: vec![Rule::new(&["apps"], &["deployments"], &["get"])],
            ..AccessSpec::default()
        };
        let bound = validate_spec(&spec(TokenKind::Bound { duration: "1h".parse().unwrap() }));
        let text = bound.unwrap_err().to_string();
        assert!(text.starts_with("secret \"$A\""), "{text}");
        assert!(validate_spec(&spec(TokenKind::Secret)).is_err());
        // Keyless writes no Secret: its unused name is no reason to refuse it.
        let keyless = spec(TokenKind::Keyless(crate::spec::KeylessIdentity {
            repository: Some("org/app".into()),
            git_ref: Some("refs/heads/main".into()),
            ..Default::default()
        }));
        assert!(validate_names(&keyless).is_ok());
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let shown = Shown::new(&"x".repeat(10_000)).to_string();
        assert!(shown.len() < 80 && shown.contains("10000 characters"), "{shown}");
    }

    #[test]
    fn pipelines_writing_the_same_object_are_found() {
        let spec = |namespace: &str, account: &str| AccessSpec {
            namespace: Some(namespace.into()),
            service_account: account.into(),
            role: account.into(),
            role_binding: account.into(),
            secret: account.into(),
            ..AccessSpec::default()
        };
        assert!(
            overlapping_pipelines(&[spec("a", "ci"), spec("b", "ci"), spec("a", "cd")]).is_empty()
        );
        let overlaps = overlapping_pipelines(&[spec("a", "ci"), spec("b", "x"), spec("a", "ci")]);
        assert_eq!(overlaps.len(), 4, "{overlaps:#?}");
        assert_eq!(overlaps[0], "pipelines 1 and 3 both write Role ci in namespace a");
    }
}
