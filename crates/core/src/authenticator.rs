//! Whether the cluster's authenticator admits a keyless access's jobs, where that can be
//! told: kubeadm, kind and minikube run kube-apiserver as a static pod whose mirror in
//! `kube-system` shows its command line; managed control planes (EKS, GKE, AKS) show none.
//!
//! The CLI reads the pods and the server's version; [`assess_authenticator`] decides.

use std::fmt::{self, Write as _};

use k8s_openapi::api::core::v1::{Container, Pod};
use serde::Serialize;

use crate::keyless::{KeylessAccess, required_claims, username_claim, username_prefix};

/// The label of kube-apiserver's static pod (kubeadm, kind, minikube).
pub const API_SERVER_SELECTOR: &str = "component=kube-apiserver";
/// The namespace of the control plane's static pods.
pub const API_SERVER_NAMESPACE: &str = "kube-system";

/// One kube-apiserver as its pod shows it: the pod's name and its container's `command`
/// followed by its `args`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiServerCommand {
    pub pod: String,
    pub command_line: Vec<String>,
}

/// What could be read of the cluster's API servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiServerPods {
    /// The kube-apiserver pods in `kube-system`; none on a managed control plane.
    Listed(Vec<ApiServerCommand>),
    /// Listing pods in `kube-system` was forbidden.
    Forbidden,
}

/// The command lines of the kube-apiserver containers of `pods` (as listed with
/// [`API_SERVER_SELECTOR`]). A pod without such a container is left out.
pub fn api_server_commands(pods: &[Pod]) -> Vec<ApiServerCommand> {
    pods.iter()
        .filter_map(|pod| {
            let containers = &pod.spec.as_ref()?.containers;
            let container = containers
                .iter()
                .find(|c| c.name == "kube-apiserver")
                .or_else(|| containers.iter().find(|c| runs_api_server(c)))
                .or(match containers.as_slice() {
                    [only] => Some(only),
                    _ => None,
                })?;
            let mut command_line = container.command.clone().unwrap_or_default();
            command_line.extend(container.args.clone().unwrap_or_default());
            Some(ApiServerCommand {
                pod: pod.metadata.name.clone().unwrap_or_default(),
                command_line,
            })
        })
        .collect()
}

fn runs_api_server(container: &Container) -> bool {
    let command = container.command.iter().flatten();
    command
        .chain(container.args.iter().flatten())
        .take(2)
        .any(|word| word.rsplit('/').next() == Some("kube-apiserver") || word == "kube-apiserver")
}

/// The Kubernetes version an API server reports (`gitVersion` of `/version`), as far as
/// the advice needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterVersion {
    pub minor: u32,
    /// Amazon EKS (`v1.29.3-eks-adc7111`).
    pub eks: bool,
}

impl ClusterVersion {
    /// `v1.MINOR.PATCH[-suffix]`; `None` for anything else.
    pub fn parse(git_version: &str) -> Option<ClusterVersion> {
        let rest = git_version.strip_prefix('v').unwrap_or(git_version);
        let rest = rest.strip_prefix("1.")?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some(ClusterVersion { minor: digits.parse().ok()?, eks: git_version.contains("-eks-") })
    }
}

/// Which `kubectl cicd generate -o` output configures an API server of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "form", rename_all = "camelCase")]
pub enum ClusterSide {
    /// Before 1.30: `--oidc-*` flags only.
    Flags { minor: u32 },
    /// 1.30 to 1.33: `apiserver.config.k8s.io/v1beta1`, or the flags.
    V1beta1 { minor: u32 },
    /// 1.34 and later: `apiserver.config.k8s.io/v1`.
    V1 { minor: u32 },
    /// The version is not known: each, by version.
    Unknown,
}

impl ClusterSide {
    fn of(version: Option<ClusterVersion>) -> ClusterSide {
        match version {
            Some(ClusterVersion { minor, .. }) if minor < 30 => ClusterSide::Flags { minor },
            Some(ClusterVersion { minor, .. }) if minor < 34 => ClusterSide::V1beta1 { minor },
            Some(ClusterVersion { minor, .. }) => ClusterSide::V1 { minor },
            None => ClusterSide::Unknown,
        }
    }

    /// What the file of `--authentication-config` must hold.
    fn file(self) -> String {
        match self {
            ClusterSide::Flags { .. } | ClusterSide::V1 { .. } => {
                "`kubectl cicd generate -o authentication`".to_owned()
            }
            ClusterSide::V1beta1 { minor } => {
                format!("`kubectl cicd generate -o authentication-v1beta1` (Kubernetes 1.{minor})")
            }
            ClusterSide::Unknown => "`kubectl cicd generate -o authentication` (Kubernetes 1.34+) or `-o authentication-v1beta1` (1.30 to 1.33)".to_owned(),
        }
    }
}

impl fmt::Display for ClusterSide {
    /// The output the administrator needs, and for which kube-apiserver setting.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterSide::Flags { minor } => write!(
                f,
                "`kubectl cicd generate -o oidc-flags` (kube-apiserver's --oidc-* flags; Kubernetes 1.{minor} has no --authentication-config)"
            ),
            ClusterSide::V1beta1 { minor } => write!(
                f,
                "`kubectl cicd generate -o authentication-v1beta1` (the file of kube-apiserver --authentication-config, Kubernetes 1.{minor}), or `-o oidc-flags`"
            ),
            ClusterSide::V1 { minor } => write!(
                f,
                "`kubectl cicd generate -o authentication` (the file of kube-apiserver --authentication-config, Kubernetes 1.{minor})"
            ),
            ClusterSide::Unknown => f.write_str(
                "`kubectl cicd generate -o authentication` (kube-apiserver --authentication-config, Kubernetes 1.34+), `-o authentication-v1beta1` (1.30 to 1.33) or `-o oidc-flags` (older)",
            ),
        }
    }
}

/// What the API server must be told for this access, as `generate` renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Expected {
    pub issuer: String,
    pub audience: String,
    pub username_claim: String,
    pub username_prefix: String,
    /// `[claim, value]` pairs.
    pub required_claims: Vec<(String, String)>,
    /// The RoleBinding's user.
    pub user: String,
    /// The name `generate -o eks-identity-provider` gives the EKS identity provider config.
    pub eks_config_name: String,
}

impl Expected {
    fn of(access: &KeylessAccess<'_>) -> Expected {
        let eks: serde_json::Value =
            serde_json::from_str(&access.eks_identity_provider_config()).unwrap_or_default();
        Expected {
            issuer: access.issuer.to_owned(),
            audience: access.audience.to_owned(),
            username_claim: username_claim(access.identity).to_owned(),
            username_prefix: username_prefix(access.identity.provider).to_owned(),
            required_claims: required_claims(access.identity),
            user: access.username(),
            eks_config_name: eks["oidc"]["identityProviderConfigName"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "issuer {} for the audience {}, user names from the claim {} with the prefix {}",
            self.issuer, self.audience, self.username_claim, self.username_prefix
        )?;
        if !self.required_claims.is_empty() {
            let claims: Vec<String> = self
                .required_claims
                .iter()
                .map(|(claim, value)| format!("{claim}={value}"))
                .collect();
            write!(f, ", required claims {}", claims.join(", "))?;
        }
        Ok(())
    }
}

/// One way an API server's `--oidc-*` flags differ from what the access needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Difference {
    /// `--oidc-issuer-url`; `None`: not set.
    #[serde(rename_all = "camelCase")]
    Issuer { trusted: Option<String>, needed: String },
    /// `--oidc-client-id`: the audience the token must carry; `None`: not set.
    #[serde(rename_all = "camelCase")]
    Audience { trusted: Option<String>, needed: String },
    /// `--oidc-username-claim` (default `sub`).
    #[serde(rename_all = "camelCase")]
    UsernameClaim { used: String, needed: String },
    /// `--oidc-username-prefix`, as it takes effect (`defaulted`: the flag is not given).
    #[serde(rename_all = "camelCase")]
    UsernamePrefix { used: String, defaulted: bool, needed: String, user: String },
    /// A required claim of the access that the API server requires with another value
    /// (`required`), or not at all (`None`).
    #[serde(rename_all = "camelCase")]
    RequiredClaim { claim: String, required: Option<String>, needed: String },
    /// A claim the API server requires that the access does not.
    #[serde(rename_all = "camelCase")]
    ExtraClaim { claim: String, required: String },
}

impl Difference {
    /// Whether the access's jobs may be refused, or named another user than the
    /// RoleBinding's; otherwise the API server only admits more jobs than the access needs.
    pub fn refuses(&self) -> bool {
        !matches!(self, Difference::RequiredClaim { required: None, .. })
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Issuer { trusted: Some(trusted), needed } => {
                write!(f, "the API server trusts issuer {trusted}, the access needs {needed}")?;
                if trusted.trim_end_matches('/') == needed.trim_end_matches('/') {
                    f.write_str(" (the token's iss is compared character for character, a trailing slash included)")?;
                }
                Ok(())
            }
            Difference::Issuer { trusted: None, needed } => {
                write!(f, "the API server has no --oidc-issuer-url, the access needs {needed}")
            }
            Difference::Audience { trusted: Some(trusted), needed } => write!(
                f,
                "the API server accepts tokens for the audience {trusted} (--oidc-client-id), the access's jobs ask for {needed}"
            ),
            Difference::Audience { trusted: None, needed } => write!(
                f,
                "the API server has no --oidc-client-id, the access's jobs ask for the audience {needed}"
            ),
            Difference::UsernameClaim { used, needed } => write!(
                f,
                "the API server takes user names from the claim {used} (--oidc-username-claim), the access from {needed}"
            ),
            Difference::UsernamePrefix { used, defaulted, needed, user } => {
                let used = if used.is_empty() {
                    "no prefix".to_owned()
                } else {
                    format!("the prefix {used}")
                };
                let how =
                    if *defaulted { ", its default without --oidc-username-prefix" } else { "" };
                write!(
                    f,
                    "the API server gives user names {used}{how}, the access needs {needed} (its RoleBinding names {user})"
                )
            }
            Difference::RequiredClaim { claim, required: Some(required), needed } => write!(
                f,
                "the API server requires {claim}={required}, the access needs {claim}={needed}: its jobs are refused"
            ),
            Difference::RequiredClaim { claim, required: None, needed } => write!(
                f,
                "the API server does not require {claim}={needed} (--oidc-required-claim): jobs with another {claim} authenticate too, as users the RoleBinding does not name (they get what every authenticated user may)"
            ),
            Difference::ExtraClaim { claim, required } => write!(
                f,
                "the API server also requires {claim}={required}, which the access does not: its jobs are refused unless their tokens carry it"
            ),
        }
    }
}

/// What one kube-apiserver's command line says about its authenticator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ServerConfig {
    /// `--oidc-*` flags, and how they differ from the access (nothing: they match).
    Flags { differences: Vec<Difference> },
    /// `--authentication-config=PATH`, a file on the control-plane node.
    File { path: String },
    /// Neither; `webhook`: a token webhook authenticator is configured.
    NoOidc { webhook: bool },
    /// The container has no command or args: it runs its image's default.
    NotShown,
}

impl ServerConfig {
    fn read(command_line: &[String], expected: &Expected) -> ServerConfig {
        if command_line.is_empty() {
            return ServerConfig::NotShown;
        }
        let flags = Flags(command_line);
        if let Some(path) = flags.last("authentication-config") {
            return ServerConfig::File { path };
        }
        let issuer = flags.last("oidc-issuer-url").filter(|v| !v.is_empty());
        let client_id = flags.last("oidc-client-id").filter(|v| !v.is_empty());
        if issuer.is_none() && client_id.is_none() {
            return ServerConfig::NoOidc {
                webhook: flags.last("authentication-token-webhook-config-file").is_some(),
            };
        }
        let mut differences = Vec::new();
        if issuer.as_deref() != Some(expected.issuer.as_str()) {
            differences.push(Difference::Issuer {
                trusted: issuer.clone(),
                needed: expected.issuer.clone(),
            });
        }
        if client_id.as_deref() != Some(expected.audience.as_str()) {
            differences.push(Difference::Audience {
                trusted: client_id,
                needed: expected.audience.clone(),
            });
        }
        let claim = flags.last("oidc-username-claim").unwrap_or_else(|| "sub".to_owned());
        // kube-apiserver's rule: without the flag, names from any claim but email are
        // prefixed with the issuer URL and `#`; `-` means no prefix.
        let (prefix, defaulted) = match flags.last("oidc-username-prefix") {
            Some(given) if given == "-" => (String::new(), false),
            Some(given) => (given, false),
            None if claim == "email" => (String::new(), true),
            None => (format!("{}#", issuer.unwrap_or_default()), true),
        };
        if claim != expected.username_claim {
            differences.push(Difference::UsernameClaim {
                used: claim,
                needed: expected.username_claim.clone(),
            });
        }
        if prefix != expected.username_prefix {
            differences.push(Difference::UsernamePrefix {
                used: prefix,
                defaulted,
                needed: expected.username_prefix.clone(),
                user: expected.user.clone(),
            });
        }
        // The flag is repeated once per claim; a claim given twice keeps its last value.
        let mut required: Vec<(String, String)> = Vec::new();
        for pair in flags.all("oidc-required-claim") {
            let (claim, value) = pair.split_once('=').unwrap_or((pair.as_str(), ""));
            required.retain(|(c, _)| c != claim);
            required.push((claim.to_owned(), value.to_owned()));
        }
        for (claim, needed) in &expected.required_claims {
            let found = required.iter().find(|(c, _)| c == claim).map(|(_, v)| v);
            if found != Some(needed) {
                differences.push(Difference::RequiredClaim {
                    claim: claim.clone(),
                    required: found.cloned(),
                    needed: needed.clone(),
                });
            }
        }
        for (claim, value) in &required {
            if !expected.required_claims.iter().any(|(c, _)| c == claim) {
                differences
                    .push(Difference::ExtraClaim { claim: claim.clone(), required: value.clone() });
            }
        }
        ServerConfig::Flags { differences }
    }
}

impl fmt::Display for ServerConfig {
    /// One line, for a list of API servers that disagree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerConfig::Flags { differences } if differences.is_empty() => {
                f.write_str("--oidc-* flags configured for this access")
            }
            ServerConfig::Flags { differences } => {
                let all: Vec<String> = differences.iter().map(ToString::to_string).collect();
                write!(f, "--oidc-* flags that differ: {}", all.join("; "))
            }
            ServerConfig::File { path } => {
                write!(f, "--authentication-config={path} (not readable through the API)")
            }
            ServerConfig::NoOidc { .. } => f.write_str("no OIDC authenticator"),
            ServerConfig::NotShown => {
                f.write_str("its command line is not shown (the container has no command or args)")
            }
        }
    }
}

/// A kube-apiserver pod and what its command line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFinding {
    pub pod: String,
    pub config: ServerConfig,
}

/// Why the authenticator cannot be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Unseen {
    /// No kube-apiserver pod in `kube-system`.
    NoApiServerPod,
    /// You may not list pods in `kube-system`.
    Forbidden,
    /// The pods' containers show no command line.
    NotShown,
}

impl fmt::Display for Unseen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unseen::NoApiServerPod => {
                "no kube-apiserver pod is visible in kube-system: the control plane is managed (EKS, GKE, AKS) or does not run as static pods"
            }
            Unseen::Forbidden => {
                "you may not list pods in kube-system, where the kube-apiserver pod of a kubeadm, kind or minikube cluster shows its flags"
            }
            Unseen::NotShown => {
                "the kube-apiserver pods show no command line (their containers run the image's default)"
            }
        })
    }
}

/// Whether the cluster's authenticator admits the access's jobs as the RoleBinding's user.
/// Never a refusal: the Role and RoleBinding can be created either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum Authenticator {
    /// Every kube-apiserver seen has `--oidc-*` flags that match the access exactly.
    #[serde(rename_all = "camelCase")]
    Configured { servers: usize, expected: Expected },
    /// They admit the access's jobs, and more: required claims the access has are missing.
    #[serde(rename_all = "camelCase")]
    Wider { servers: usize, differences: Vec<Difference>, side: ClusterSide },
    /// They differ from the access so that its jobs may be refused or named otherwise.
    #[serde(rename_all = "camelCase")]
    Differs { servers: usize, differences: Vec<Difference>, user: String, side: ClusterSide },
    /// `--authentication-config=PATH`: a file on the control-plane node.
    #[serde(rename_all = "camelCase")]
    File { path: String, expected: Expected, side: ClusterSide },
    /// kube-apiserver has neither `--oidc-issuer-url` nor `--authentication-config`.
    #[serde(rename_all = "camelCase")]
    NotConfigured { webhook: bool, side: ClusterSide },
    /// The kube-apiserver pods are configured differently.
    #[serde(rename_all = "camelCase")]
    Disagree { servers: Vec<ServerFinding> },
    /// Nothing shows how the API server authenticates.
    #[serde(rename_all = "camelCase")]
    CannotTell { why: Unseen, expected: Expected, eks: bool, side: ClusterSide },
}

/// The verdict on `pods` (and the API server's `/version` `gitVersion`, if read) for
/// `access`.
pub fn assess_authenticator(
    pods: &ApiServerPods,
    git_version: Option<&str>,
    access: &KeylessAccess<'_>,
) -> Authenticator {
    let expected = Expected::of(access);
    let version = git_version.and_then(ClusterVersion::parse);
    let side = ClusterSide::of(version);
    let cannot_tell = |why| Authenticator::CannotTell {
        why,
        expected: expected.clone(),
        eks: version.is_some_and(|v| v.eks),
        side,
    };
    let servers = match pods {
        ApiServerPods::Forbidden => return cannot_tell(Unseen::Forbidden),
        ApiServerPods::Listed(servers) if servers.is_empty() => {
            return cannot_tell(Unseen::NoApiServerPod);
        }
        ApiServerPods::Listed(servers) => servers,
    };
    let mut findings: Vec<ServerFinding> = servers
        .iter()
        .map(|server| ServerFinding {
            pod: server.pod.clone(),
            config: ServerConfig::read(&server.command_line, &expected),
        })
        .collect();
    let count = findings.len();
    if findings.iter().any(|f| f.config != findings[0].config) {
        return Authenticator::Disagree { servers: findings };
    }
    match findings.swap_remove(0).config {
        ServerConfig::Flags { differences } if differences.is_empty() => {
            Authenticator::Configured { servers: count, expected }
        }
        ServerConfig::Flags { differences } if differences.iter().all(|d| !d.refuses()) => {
            Authenticator::Wider { servers: count, differences, side }
        }
        ServerConfig::Flags { differences } => {
            Authenticator::Differs { servers: count, differences, user: expected.user, side }
        }
        ServerConfig::File { path } => Authenticator::File { path, expected, side },
        ServerConfig::NoOidc { webhook } => Authenticator::NotConfigured { webhook, side },
        ServerConfig::NotShown => cannot_tell(Unseen::NotShown),
    }
}

impl Authenticator {
    /// Whether the access's jobs are known to authenticate as the RoleBinding's user.
    pub fn admits(&self) -> bool {
        matches!(self, Authenticator::Configured { .. } | Authenticator::Wider { .. })
    }
}

/// "kube-apiserver's", or "the 3 kube-apiserver pods' (the same flags)".
fn whose(servers: usize) -> String {
    if servers == 1 {
        "kube-apiserver's".to_owned()
    } else {
        format!("the {servers} kube-apiserver pods' (all the same)")
    }
}

/// Continuation lines of the paragraph, under the `authenticator:` heading.
const INDENT: &str = "\n  ";

impl fmt::Display for Authenticator {
    /// A headline and, on indented lines below it, the details and what to do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |differences: &[Difference]| {
            differences.iter().fold(String::new(), |mut out, d| {
                let _ = write!(out, "{INDENT}- {d}");
                out
            })
        };
        match self {
            Authenticator::Configured { servers, expected } => write!(
                f,
                "configured for this access: {} --oidc-* flags match it ({expected})",
                whose(*servers)
            ),
            Authenticator::Wider { servers, differences, side: _ } => write!(
                f,
                "admits this access's jobs, but more than them ({} --oidc-* flags):{}{INDENT}`kubectl cicd generate -o oidc-flags` shows the flags of this access",
                whose(*servers),
                list(differences)
            ),
            Authenticator::Differs { servers, differences, user, side } => {
                // A claim the API server adds may be one the jobs carry anyway.
                let certain =
                    differences.iter().any(|d| !matches!(d, Difference::ExtraClaim { .. }));
                write!(
                    f,
                    "configured differently from this access ({} --oidc-* flags):{}{INDENT}its jobs {} authenticate as {user}; `kubectl cicd generate -o oidc-flags` shows the flags it needs. The flags hold one issuer and one set of required claims per API server",
                    whose(*servers),
                    list(differences),
                    if certain { "would not" } else { "may not" },
                )?;
                match side {
                    ClusterSide::Flags { .. } => Ok(()),
                    _ => write!(
                        f,
                        ": for several accesses, --authentication-config (Kubernetes 1.30+) holds one jwt authenticator each, {}",
                        side.file()
                    ),
                }
            }
            Authenticator::File { path, expected, side } => write!(
                f,
                "configured by --authentication-config={path}: that file lives on the control-plane node and cannot be read through the API{INDENT}ask the administrator whether it holds this access's jwt authenticator, as {} writes it: {expected}",
                side.file()
            ),
            Authenticator::NotConfigured { webhook, side } => {
                f.write_str(
                    "no OIDC authenticator configured: kube-apiserver has neither --oidc-issuer-url nor --authentication-config, so the access's jobs cannot authenticate",
                )?;
                write!(f, "{INDENT}the administrator needs {side}")?;
                if *webhook {
                    write!(
                        f,
                        "{INDENT}a token webhook (--authentication-token-webhook-config-file) is configured: if it accepts OIDC tokens, ask its operator instead"
                    )?;
                }
                Ok(())
            }
            Authenticator::Disagree { servers } => {
                write!(
                    f,
                    "the {} kube-apiserver pods are configured differently, and a request may reach any of them:",
                    servers.len()
                )?;
                for server in servers {
                    write!(f, "{INDENT}- {}: {}", server.pod, server.config)?;
                }
                write!(f, "{INDENT}give every API server the same authentication flags")
            }
            Authenticator::CannotTell { why, expected, eks, side } => {
                write!(
                    f,
                    "cannot tell: {why}{INDENT}ask the cluster administrator whether the API server trusts {expected}; if not, the administrator needs {side}"
                )?;
                let describe = format!(
                    "aws eks describe-identity-provider-config --cluster-name CLUSTER --identity-provider-config type=oidc,name={}",
                    expected.eks_config_name
                );
                if *eks {
                    write!(
                        f,
                        "{INDENT}this is EKS: `{describe}` shows its identity provider config (`kubectl cicd generate -o eks-identity-provider` writes it)"
                    )
                } else {
                    write!(
                        f,
                        "{INDENT}on EKS: `{describe}` (`kubectl cicd generate -o eks-identity-provider` writes it)"
                    )
                }
            }
        }
    }
}

/// A command line's flags as kube-apiserver's parser reads them: `--name=value` or
/// `--name value`, up to a bare `--`.
struct Flags<'a>(&'a [String]);

impl Flags<'_> {
    fn all(&self, name: &str) -> Vec<String> {
        let mut values = Vec::new();
        let mut words = self.0.iter();
        while let Some(word) = words.next() {
            if word == "--" {
                break;
            }
            let Some(flag) = word.strip_prefix("--") else { continue };
            match flag.split_once('=') {
                Some((given, value)) if given == name => values.push(value.to_owned()),
                None if flag == name => {
                    if let Some(value) = words.next() {
                        values.push(value.clone());
                    }
                }
                _ => {}
            }
        }
        values
    }

    /// The last value given, as kube-apiserver keeps it.
    fn last(&self, name: &str) -> Option<String> {
        self.all(name).pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{AccessSpec, KeylessIdentity, Provider, TokenKind};

    const ISSUER: &str = "https://token.actions.githubusercontent.com";
    const AUDIENCE: &str = "https://api.example.com:6443";

    fn spec(identity: KeylessIdentity) -> AccessSpec {
        AccessSpec {
            namespace: Some("demo".into()),
            server: Some(AUDIENCE.into()),
            token: TokenKind::Keyless(identity),
            ..crate::preset::PRESETS[0].spec()
        }
    }

    fn github(repository: &str) -> AccessSpec {
        spec(KeylessIdentity {
            provider: Provider::Github,
            repository: Some(repository.into()),
            git_ref: Some("refs/heads/main".into()),
            ..KeylessIdentity::default()
        })
    }

    /// A kubeadm 1.20 kube-apiserver's command line, with `extra` flags.
    fn kubeadm(extra: &[&str]) -> Vec<String> {
        [
            "kube-apiserver",
            "--advertise-address=172.18.0.2",
            "--allow-privileged=true",
            "--authorization-mode=Node,RBAC",
            "--client-ca-file=/etc/kubernetes/pki/ca.crt",
            "--enable-admission-plugins=NodeRestriction",
            "--etcd-servers=https://127.0.0.1:2379",
            "--secure-port=6443",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        ]
        .iter()
        .chain(extra)
        .map(|&s| s.to_owned())
        .collect()
    }

    const MATCHING: &[&str] = &[
        "--oidc-issuer-url=https://token.actions.githubusercontent.com",
        "--oidc-client-id=https://api.example.com:6443",
        "--oidc-username-claim=sub",
        "--oidc-username-prefix=github:",
        "--oidc-required-claim=repository=org/app",
        "--oidc-required-claim=ref=refs/heads/main",
    ];

    fn pods(lines: Vec<Vec<String>>) -> ApiServerPods {
        ApiServerPods::Listed(
            lines
                .into_iter()
                .enumerate()
                .map(|(i, command_line)| ApiServerCommand {
                    pod: format!("kube-apiserver-control-plane-{i}"),
                    command_line,
                })
                .collect(),
        )
    }

    fn verdict(spec: &AccessSpec, pods: &ApiServerPods, version: Option<&str>) -> Authenticator {
        assess_authenticator(pods, version, &KeylessAccess::of(spec).unwrap())
    }

    fn differences(found: &Authenticator) -> Vec<Difference> {
        match found {
            Authenticator::Differs { differences, .. }
            | Authenticator::Wider { differences, .. } => differences.clone(),
            other => panic!("not a difference: {other:#?}"),
        }
    }

    #[test]
    fn matching_oidc_flags_are_configured_for_this_access() {
        let spec = github("org/app");
        let found = verdict(&spec, &pods(vec![kubeadm(MATCHING)]), Some("v1.20.2"));
        assert!(matches!(found, Authenticator::Configured { servers: 1, .. }), "{found:#?}");
        assert!(found.admits());
        let text = found.to_string();
        assert!(text.starts_with("configured for this access: kube-apiserver's --oidc-* flags match it (issuer https://token.actions.githubusercontent.com for the audience https://api.example.com:6443, user names from the claim sub with the prefix github:, required claims repository=org/app, ref=refs/heads/main)"), "{text}");
    }

    #[test]
    fn the_flags_generate_writes_are_the_flags_check_accepts() {
        for spec in [
            github("org/app"),
            spec(KeylessIdentity {
                provider: Provider::Gitlab,
                project: Some("group/app".into()),
                git_ref: Some("refs/tags/v1".into()),
                environment: Some("production".into()),
                ..KeylessIdentity::default()
            }),
            spec(KeylessIdentity {
                provider: Provider::Custom,
                issuer: Some("https://issuer.example.com".into()),
                claim: Some("job".into()),
                value: Some("deploy".into()),
                ..KeylessIdentity::default()
            }),
        ] {
            let access = KeylessAccess::of(&spec).unwrap();
            let mut line = vec!["/usr/local/bin/kube-apiserver".to_owned()];
            line.extend(access.oidc_flags());
            let found = assess_authenticator(&pods(vec![line]), None, &access);
            assert!(matches!(found, Authenticator::Configured { .. }), "{found:#?}");
        }
    }

    #[test]
    fn flags_with_separate_values_in_args_are_read_too() {
        // `--flag value`, split across `command` and `args` as the CLI joins them.
        let line: Vec<String> = [
            "/hyperkube",
            "kube-apiserver",
            "--oidc-issuer-url",
            ISSUER,
            "--oidc-client-id",
            AUDIENCE,
            "--oidc-username-prefix",
            "github:",
            "--oidc-required-claim",
            "repository=org/app",
            "--oidc-required-claim=ref=refs/heads/main",
        ]
        .map(str::to_owned)
        .to_vec();
        let found = verdict(&github("org/app"), &pods(vec![line]), None);
        assert!(matches!(found, Authenticator::Configured { .. }), "{found:#?}");
    }

    #[test]
    fn each_mismatch_is_named() {
        let spec = github("org/app");
        let with = |replace: &str, by: &str| {
            let flags: Vec<&str> =
                MATCHING.iter().map(|&f| if f.starts_with(replace) { by } else { f }).collect();
            verdict(&spec, &pods(vec![kubeadm(&flags)]), Some("v1.31.4"))
        };
        let found = with("--oidc-issuer-url", "--oidc-issuer-url=https://gitlab.com");
        assert_eq!(
            differences(&found),
            [Difference::Issuer {
                trusted: Some("https://gitlab.com".into()),
                needed: ISSUER.into()
            }]
        );
        let text = found.to_string();
        assert!(
            text.contains("the API server trusts issuer https://gitlab.com, the access needs https://token.actions.githubusercontent.com"),
            "{text}"
        );
        assert!(
            text.contains("would not authenticate as github:repo:org/app:ref:refs/heads/main"),
            "{text}"
        );
        assert!(text.contains("--authentication-config (Kubernetes 1.30+)"), "{text}");
        assert!(!found.admits());
        // Before 1.30 the flags are the only way.
        let old = verdict(
            &spec,
            &pods(vec![kubeadm(&[MATCHING[1], "--oidc-issuer-url=https://gitlab.com"])]),
            Some("v1.28.4"),
        );
        assert!(!old.to_string().contains("--authentication-config"), "{old}");

        let slash = with(
            "--oidc-issuer-url",
            "--oidc-issuer-url=https://token.actions.githubusercontent.com/",
        );
        assert!(slash.to_string().contains("a trailing slash included"), "{slash}");

        let found = with("--oidc-client-id", "--oidc-client-id=kubernetes");
        assert_eq!(
            differences(&found),
            [Difference::Audience { trusted: Some("kubernetes".into()), needed: AUDIENCE.into() }]
        );
        assert!(found.to_string().contains("accepts tokens for the audience kubernetes (--oidc-client-id), the access's jobs ask for https://api.example.com:6443"), "{found}");

        let found = with("--oidc-username-claim", "--oidc-username-claim=email");
        assert_eq!(
            differences(&found),
            [Difference::UsernameClaim { used: "email".into(), needed: "sub".into() }]
        );

        let found = with("--oidc-username-prefix", "--oidc-username-prefix=oidc:");
        assert!(
            found.to_string().contains("gives user names the prefix oidc:, the access needs github: (its RoleBinding names github:repo:org/app:ref:refs/heads/main)"),
            "{found}"
        );
        // Without the flag, kube-apiserver prefixes with the issuer URL and #.
        let found = with("--oidc-username-prefix", "--v=2");
        assert_eq!(
            differences(&found),
            [Difference::UsernamePrefix {
                used: format!("{ISSUER}#"),
                defaulted: true,
                needed: "github:".into(),
                user: "github:repo:org/app:ref:refs/heads/main".into(),
            }]
        );
        let found = with("--oidc-username-prefix", "--oidc-username-prefix=-");
        assert!(
            found.to_string().contains("gives user names no prefix, the access needs github:"),
            "{found}"
        );

        let found =
            with("--oidc-required-claim=repository", "--oidc-required-claim=repository=org/other");
        assert_eq!(
            differences(&found),
            [Difference::RequiredClaim {
                claim: "repository".into(),
                required: Some("org/other".into()),
                needed: "org/app".into()
            }]
        );
        assert!(
            found.to_string().contains("the API server requires repository=org/other, the access needs repository=org/app: its jobs are refused"),
            "{found}"
        );

        let found =
            with("--oidc-required-claim=ref", "--oidc-required-claim=environment=production");
        assert_eq!(
            differences(&found),
            [
                Difference::RequiredClaim {
                    claim: "ref".into(),
                    required: None,
                    needed: "refs/heads/main".into()
                },
                Difference::ExtraClaim {
                    claim: "environment".into(),
                    required: "production".into()
                },
            ]
        );
        assert!(matches!(found, Authenticator::Differs { .. }), "{found:#?}");
    }

    #[test]
    fn flags_that_require_fewer_claims_admit_more_jobs() {
        let spec = github("org/app");
        let flags: Vec<&str> =
            MATCHING.iter().copied().filter(|f| !f.starts_with("--oidc-required-claim")).collect();
        let found = verdict(&spec, &pods(vec![kubeadm(&flags)]), None);
        assert!(matches!(found, Authenticator::Wider { servers: 1, .. }), "{found:#?}");
        assert!(found.admits());
        let text = found.to_string();
        assert!(text.starts_with("admits this access's jobs, but more than them"), "{text}");
        assert!(text.contains("does not require repository=org/app"), "{text}");
        assert!(text.contains("does not require ref=refs/heads/main"), "{text}");
    }

    #[test]
    fn an_authentication_config_file_cannot_be_read() {
        let spec = github("org/app");
        let line = kubeadm(&["--authentication-config=/etc/kubernetes/auth/config.yaml"]);
        let found = verdict(&spec, &pods(vec![line.clone()]), Some("v1.31.2"));
        assert_eq!(
            found,
            Authenticator::File {
                path: "/etc/kubernetes/auth/config.yaml".into(),
                expected: Expected::of(&KeylessAccess::of(&spec).unwrap()),
                side: ClusterSide::V1beta1 { minor: 31 },
            }
        );
        let text = found.to_string();
        assert!(text.contains("configured by --authentication-config=/etc/kubernetes/auth/config.yaml: that file lives on the control-plane node and cannot be read through the API"), "{text}");
        assert!(
            text.contains("`kubectl cicd generate -o authentication-v1beta1` (Kubernetes 1.31)"),
            "{text}"
        );
        let found = verdict(&spec, &pods(vec![line]), Some("v1.34.0"));
        assert!(
            found.to_string().contains("as `kubectl cicd generate -o authentication` writes it"),
            "{found}"
        );
    }

    #[test]
    fn no_oidc_authenticator_says_which_output_the_administrator_needs() {
        let spec = github("org/app");
        let none = pods(vec![kubeadm(&[])]);
        for (version, wanted) in [
            (
                Some("v1.20.2"),
                "needs `kubectl cicd generate -o oidc-flags` (kube-apiserver's --oidc-* flags; Kubernetes 1.20 has no --authentication-config)",
            ),
            (
                Some("v1.32.1"),
                "needs `kubectl cicd generate -o authentication-v1beta1` (the file of kube-apiserver --authentication-config, Kubernetes 1.32), or `-o oidc-flags`",
            ),
            (
                Some("v1.34.1"),
                "needs `kubectl cicd generate -o authentication` (the file of kube-apiserver --authentication-config, Kubernetes 1.34)",
            ),
            (None, "`-o authentication-v1beta1` (1.30 to 1.33) or `-o oidc-flags` (older)"),
        ] {
            let found = verdict(&spec, &none, version);
            assert!(
                matches!(found, Authenticator::NotConfigured { webhook: false, .. }),
                "{found:#?}"
            );
            let text = found.to_string();
            assert!(text.starts_with("no OIDC authenticator configured: kube-apiserver has neither --oidc-issuer-url nor --authentication-config"), "{text}");
            assert!(text.contains(wanted), "{version:?}: {text}");
        }
        let webhook =
            pods(vec![kubeadm(&["--authentication-token-webhook-config-file=/etc/webhook.yaml"])]);
        let found = verdict(&spec, &webhook, None);
        assert!(found.to_string().contains("a token webhook"), "{found}");
        // An empty issuer is no issuer.
        let empty = pods(vec![kubeadm(&["--oidc-issuer-url="])]);
        assert!(matches!(verdict(&spec, &empty, None), Authenticator::NotConfigured { .. }));
    }

    #[test]
    fn api_server_pods_that_disagree_are_listed() {
        let spec = github("org/app");
        let found =
            verdict(&spec, &pods(vec![kubeadm(MATCHING), kubeadm(&[]), kubeadm(MATCHING)]), None);
        let Authenticator::Disagree { servers } = &found else { panic!("{found:#?}") };
        assert_eq!(servers.len(), 3);
        let text = found.to_string();
        assert!(text.starts_with("the 3 kube-apiserver pods are configured differently, and a request may reach any of them:"), "{text}");
        assert!(
            text.contains(
                "\n  - kube-apiserver-control-plane-0: --oidc-* flags configured for this access"
            ),
            "{text}"
        );
        assert!(
            text.contains("\n  - kube-apiserver-control-plane-1: no OIDC authenticator"),
            "{text}"
        );

        let mut other = MATCHING.to_vec();
        other[0] = "--oidc-issuer-url=https://gitlab.com";
        let found = verdict(&spec, &pods(vec![kubeadm(MATCHING), kubeadm(&other)]), None);
        assert!(
            found.to_string().contains("kube-apiserver-control-plane-1: --oidc-* flags that differ: the API server trusts issuer https://gitlab.com"),
            "{found}"
        );
        // Pods that agree are one verdict, counted.
        let found = verdict(&spec, &pods(vec![kubeadm(MATCHING), kubeadm(MATCHING)]), None);
        assert!(
            found
                .to_string()
                .contains("the 2 kube-apiserver pods' (all the same) --oidc-* flags match it"),
            "{found}"
        );
    }

    #[test]
    fn nothing_visible_cannot_tell_and_says_whom_to_ask() {
        let spec = github("org/app");
        let found = verdict(&spec, &ApiServerPods::Listed(Vec::new()), Some("v1.29.3-eks-adc7111"));
        assert!(
            matches!(
                found,
                Authenticator::CannotTell { why: Unseen::NoApiServerPod, eks: true, .. }
            ),
            "{found:#?}"
        );
        let text = found.to_string();
        assert!(text.starts_with("cannot tell: no kube-apiserver pod is visible in kube-system: the control plane is managed (EKS, GKE, AKS)"), "{text}");
        assert!(text.contains("ask the cluster administrator whether the API server trusts issuer https://token.actions.githubusercontent.com for the audience https://api.example.com:6443"), "{text}");
        assert!(text.contains("this is EKS: `aws eks describe-identity-provider-config --cluster-name CLUSTER --identity-provider-config type=oidc,name=cicd-access-github`"), "{text}");
        assert!(!found.admits());

        let found = verdict(&spec, &ApiServerPods::Forbidden, Some("v1.30.0-gke.1"));
        let text = found.to_string();
        assert!(text.starts_with("cannot tell: you may not list pods in kube-system"), "{text}");
        assert!(text.contains("on EKS: `aws eks describe-identity-provider-config"), "{text}");

        let found = verdict(&spec, &pods(vec![Vec::new()]), None);
        assert!(
            matches!(found, Authenticator::CannotTell { why: Unseen::NotShown, .. }),
            "{found:#?}"
        );
    }

    #[test]
    fn the_command_line_is_the_api_server_containers_command_and_args() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kube-apiserver-node-1", "namespace": "kube-system"},
            "spec": {"containers": [
                {"name": "sidecar", "command": ["sleep", "infinity"]},
                {"name": "kube-apiserver", "command": ["kube-apiserver"], "args": ["--oidc-issuer-url=https://gitlab.com"]},
            ]}
        }))
        .unwrap();
        let other: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "apiserver"},
            "spec": {"containers": [
                {"name": "proxy", "command": ["envoy"]},
                {"name": "server", "command": ["/usr/bin/kube-apiserver", "--secure-port=6443"]},
            ]}
        }))
        .unwrap();
        let unrelated: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "two"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]}
        }))
        .unwrap();
        assert_eq!(
            api_server_commands(&[pod, other, unrelated]),
            [
                ApiServerCommand {
                    pod: "kube-apiserver-node-1".into(),
                    command_line: vec![
                        "kube-apiserver".into(),
                        "--oidc-issuer-url=https://gitlab.com".into()
                    ],
                },
                ApiServerCommand {
                    pod: "apiserver".into(),
                    command_line: vec![
                        "/usr/bin/kube-apiserver".into(),
                        "--secure-port=6443".into()
                    ],
                },
            ]
        );
    }

    #[test]
    fn versions_are_read_from_git_version() {
        assert_eq!(
            ClusterVersion::parse("v1.20.2"),
            Some(ClusterVersion { minor: 20, eks: false })
        );
        assert_eq!(
            ClusterVersion::parse("v1.29.3-eks-adc7111"),
            Some(ClusterVersion { minor: 29, eks: true })
        );
        assert_eq!(ClusterVersion::parse("v1.30.1-gke.1329003").map(|v| v.minor), Some(30));
        assert_eq!(ClusterVersion::parse("v2.0.0"), None);
        assert_eq!(ClusterVersion::parse("unknown"), None);
    }

    #[test]
    fn the_verdict_serializes_with_its_state() {
        let found = verdict(&github("org/app"), &ApiServerPods::Forbidden, None);
        let json = serde_json::to_value(&found).unwrap();
        assert_eq!(json["state"], "cannotTell");
        assert_eq!(json["why"], "forbidden");
        assert_eq!(json["expected"]["usernamePrefix"], "github:");
        assert_eq!(json["expected"]["requiredClaims"][0][0], "repository");
    }
}
