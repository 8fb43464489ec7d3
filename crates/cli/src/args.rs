//! Command line: kubectl's connection flags, the access (preset, rules or spec file) and one
//! subcommand per step of the procedure.

use std::path::PathBuf;
use std::time::Duration;

use cicd_access_core::derive::{self, ByName, Deployer, HelmWait, KindOverride};
use cicd_access_core::duration::MaxAge;
use cicd_access_core::lint::LintOptions;
use cicd_access_core::rule_syntax::parse_rule;
use cicd_access_core::{Rule, TokenDuration, preset};
use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  kubectl cicd generate --preset welkin-user-demo -n demo -o script
  kubectl cicd check --preset welkin-user-demo -n demo
  kubectl cicd apply --preset welkin-user-demo -n demo
  kubectl cicd apply --rule apps:deployments:deploy --rule core:services,configmaps:deploy -n demo
  kubectl cicd apply --preset read-only -n demo --token-duration 24h
  kubectl cicd apply -f pipelines.yaml --output-kubeconfig out/kubeconfig.yaml
  kubectl cicd verify --ci-kubeconfig kubeconfig_ci_cd.yaml --preset welkin-user-demo -n demo
  kubectl cicd rotate -n demo
  kubectl cicd revoke -n demo --all";

/// A least-privilege kubeconfig for one CI/CD pipeline: a Role, a ServiceAccount, a
/// RoleBinding and a token, checked before anything is created and verified after.
#[derive(Debug, Parser)]
#[command(name = "kubectl-cicd", bin_name = "kubectl cicd", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// No progress on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Allow the token on stdout (`--output-kubeconfig -`, `-o json`); never needed otherwise.
    #[arg(long, global = true)]
    pub show_token: bool,
    /// How long the whole command may take, e.g. 30s or 2m: waiting for the token and an
    /// API server that does not answer (etcd down) included.
    #[arg(long, global = true, value_name = "DURATION", default_value = "2m", value_parser = parse_timeout)]
    pub timeout: Duration,
    #[command(subcommand)]
    pub command: Command,
}

/// Which cluster and as whom, as kubectl reads it.
#[derive(Debug, Args, Clone, Default)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file [default: $KUBECONFIG, else ~/.kube/config].
    #[arg(help_heading = "Connection", long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use [default: its current context].
    #[arg(help_heading = "Connection", long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace the pipeline deploys to [default: the context's namespace].
    #[arg(help_heading = "Connection", short, long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the manifests, the kubectl script, the spec or a CI snippet; offline.
    Generate {
        #[command(flatten)]
        access: AccessArgs,
        /// What to print.
        #[arg(short, long, value_enum, default_value_t = GenerateFormat::Yaml)]
        output: GenerateFormat,
    },
    /// Pre-verify: cluster, namespace, your rights there, and whether you may create the
    /// Role; changes nothing.
    Check {
        #[command(flatten)]
        access: AccessArgs,
        /// Take over existing objects of the access's names that this tool did not create.
        #[arg(long)]
        adopt: bool,
        /// `text` for people, `json` for machines.
        #[arg(short, long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Check, then create or update the objects, wait for the token, write the kubeconfig
    /// and verify it. Safe to re-run.
    Apply {
        #[command(flatten)]
        access: AccessArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// `server`: let the API server validate everything and report what would change,
        /// without persisting anything or writing a kubeconfig.
        #[arg(long, value_enum, value_name = "MODE", default_value_t = DryRun::None, num_args = 0..=1, default_missing_value = "server", require_equals = true)]
        dry_run: DryRun,
        /// Skip connecting with the issued kubeconfig (when it names a server unreachable
        /// from here, see --server).
        #[arg(long)]
        no_verify: bool,
        /// Take over existing objects of the access's names that this tool did not create:
        /// they are rewritten and labelled, and `revoke --all` deletes them later.
        #[arg(long)]
        adopt: bool,
        /// `text` for people, `json` for machines.
        #[arg(short, long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Write the kubeconfig from the existing token Secret (with --token-duration: from a
    /// new bound token).
    Kubeconfig {
        #[command(flatten)]
        access: AccessArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// `text` for people, `json` for machines.
        #[arg(short, long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Connect with an issued kubeconfig: right identity, and exactly the Role's rights.
    Verify {
        /// The kubeconfig to verify.
        #[arg(long, value_name = "FILE")]
        ci_kubeconfig: PathBuf,
        #[command(flatten)]
        access: AccessArgs,
        /// `text` for people, `json` for machines.
        #[arg(short, long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Delete the token Secret (the token stops working); with --all also the RoleBinding,
    /// Role and ServiceAccount. Only objects this tool created are deleted.
    Revoke {
        #[command(flatten)]
        access: AccessArgs,
        /// Also delete the RoleBinding, the Role and the ServiceAccount.
        #[arg(long)]
        all: bool,
        /// `text` for people, `json` for machines.
        #[arg(short, long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
    /// Every access this tool manages in the namespace (or all, -A): identity, Role, drift,
    /// bindings wider than its Role, token age; exit 1 when anything is wider, drifted or
    /// invalidated. With --preset/--rule/-f, drift is against that spec.
    Status {
        /// Every namespace.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        #[command(flatten)]
        access: AccessArgs,
        /// A Secret token older than this is due for rotation.
        #[arg(long, value_name = "DURATION", default_value = "90d", value_parser = parse_max_age)]
        max_age: MaxAge,
        /// `text` for people, `json` or `yaml` for machines.
        #[arg(short, long, value_enum, default_value_t = StatusFormat::Text)]
        output: StatusFormat,
    },
    /// Inside a CI job: print the job's OIDC token as an ExecCredential on stdout. The
    /// exec credential plugin of a keyless kubeconfig; kubectl runs it. HTTPS trusts the
    /// system roots and the CA bundle in $SSL_CERT_FILE.
    Token {
        /// Where the token comes from: GitHub's token request, GitLab's `id_tokens:`
        /// variable, or a variable a custom issuer's job fills.
        #[arg(long, value_enum)]
        provider: TokenProvider,
        /// The audience the token is for (the API server's client id).
        #[arg(long, value_name = "AUD", required_if_eq_any = [("provider", "github"), ("provider", "gitlab")])]
        audience: Option<String>,
        /// The variable holding the token (gitlab, env) [default: CICD_ACCESS_ID_TOKEN].
        #[arg(long, value_name = "NAME")]
        variable: Option<String>,
    },
    /// Replace the token: new Secret, new token, new kubeconfig; the old token stops working.
    Rotate {
        #[command(flatten)]
        access: AccessArgs,
        #[command(flatten)]
        write: WriteArgs,
        /// `text` for people, `json` for machines.
        #[arg(short, long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
}

/// The access: a preset and/or rules, or a spec file.
#[derive(Debug, Args, Clone, Default)]
pub struct AccessArgs {
    /// Start from a ready-made Role.
    #[arg(help_heading = "Access", long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(preset::names()))]
    pub preset: Option<String>,
    /// A Role rule GROUP:RESOURCES:VERBS[:NAMES]; repeatable. Lists are comma-separated,
    /// the core group is empty or `core`, `read` = get,list,watch, `deploy` = the verbs of
    /// kubectl apply / helm. E.g. apps:deployments:deploy, core:pods,pods/log:read.
    #[arg(help_heading = "Access", long = "rule", value_name = "RULE", value_parser = parse_rule_arg)]
    pub rules: Vec<Rule>,
    /// A CiCdAccess spec file as the page exports it (`-` for stdin); several documents are
    /// several pipelines.
    #[arg(help_heading = "Access", short = 'f', long = "filename", value_name = "FILE", conflicts_with_all = ["preset", "rules", "service_account", "role", "role_binding", "secret", "cluster_name", "token_duration"])]
    pub file: Option<PathBuf>,
    /// Name of the ServiceAccount [default: ci-cd].
    #[arg(help_heading = "Access", long, value_name = "NAME")]
    pub service_account: Option<String>,
    /// Name of the Role [default: ci-cd].
    #[arg(help_heading = "Access", long, value_name = "NAME")]
    pub role: Option<String>,
    /// Name of the RoleBinding [default: ci-cd].
    #[arg(help_heading = "Access", long, value_name = "NAME")]
    pub role_binding: Option<String>,
    /// Name of the token Secret [default: ci-cd].
    #[arg(help_heading = "Access", long, value_name = "NAME")]
    pub secret: Option<String>,
    /// Name of the cluster entry in the issued kubeconfig.
    #[arg(help_heading = "Access", long, value_name = "NAME")]
    pub cluster_name: Option<String>,
    /// API server URL the pipeline uses, when it reaches the API by another address than
    /// your context's.
    #[arg(help_heading = "Access", long, value_name = "URL")]
    pub server: Option<String>,
    /// Issue a bound token of this lifetime (TokenRequest API, e.g. 24h) instead of a
    /// long-lived token Secret.
    #[arg(help_heading = "Access", long, value_name = "DURATION", value_parser = parse_token_duration)]
    pub token_duration: Option<TokenDuration>,
    /// The pipeline deploys with Helm 3, which keeps its releases in Secrets: `check` then
    /// does not flag Secret access as a risk.
    #[arg(help_heading = "Access", long)]
    pub helm: bool,
    #[command(flatten)]
    pub derive: DeriveArgs,
}

/// Derive the least Role from the manifests the pipeline deploys (added to any preset/rules).
#[derive(Debug, Args, Clone)]
pub struct DeriveArgs {
    /// Derive the Role from these manifests: a file, a directory (its *.yaml, *.yml, *.json,
    /// recursively, in name order) or `-` for stdin, e.g. the output of `helm template`.
    #[arg(help_heading = "Derive", long, value_name = "FILE|DIR|-", conflicts_with = "file")]
    pub from_manifests: Option<PathBuf>,
    /// How the pipeline deploys them: apply, server-side or helm.
    #[arg(help_heading = "Derive", long, value_name = "METHOD", default_value = "apply", value_parser = parse_derive_option::<Deployer>)]
    pub deployer: Deployer,
    /// helm --wait: none, legacy (Helm 3 --wait) or watcher (Helm 4 --wait).
    #[arg(help_heading = "Derive", long, value_name = "MODE", default_value = "none", value_parser = parse_derive_option::<HelmWait>)]
    pub helm_wait: HelmWait,
    /// The pipeline also removes what it deploys (kubectl delete -f, helm uninstall).
    #[arg(help_heading = "Derive", long)]
    pub with_delete: bool,
    /// The pipeline runs kubectl apply --prune.
    #[arg(help_heading = "Derive", long)]
    pub with_prune: bool,
    /// The pipeline runs helm rollback.
    #[arg(help_heading = "Derive", long)]
    pub with_rollback: bool,
    /// The plural of a custom kind the derivation does not know, e.g.
    /// Widget.example.com=widgets; repeatable.
    #[arg(help_heading = "Derive", long = "kind", value_name = "KIND.GROUP=PLURAL", value_parser = parse_derive_option::<KindOverride>)]
    pub kinds: Vec<KindOverride>,
    /// Limit get, patch, update and delete to the objects' names (resourceNames): for
    /// `secrets` (the default), `all` kinds (`--by-name` alone) or `none`.
    #[arg(help_heading = "Derive", long, value_name = "KINDS", default_value = "secrets", num_args = 0..=1, default_missing_value = "all", require_equals = true, value_parser = parse_derive_option::<ByName>)]
    pub by_name: ByName,
    /// `check` and `apply`: issue the access although kinds in the manifests stay unknown
    /// after asking the cluster (the pipeline's deploy of them will fail).
    #[arg(help_heading = "Derive", long)]
    pub allow_unknown: bool,
}

impl Default for DeriveArgs {
    fn default() -> Self {
        DeriveArgs {
            from_manifests: None,
            deployer: Deployer::Apply,
            helm_wait: HelmWait::None,
            with_delete: false,
            with_prune: false,
            with_rollback: false,
            kinds: Vec::new(),
            by_name: ByName::Secrets,
            allow_unknown: false,
        }
    }
}

/// Parses a derive option with the core's own parser and its message.
fn parse_derive_option<T: std::str::FromStr<Err = derive::DeriveError>>(
    value: &str,
) -> Result<T, String> {
    value.parse().map_err(|e: derive::DeriveError| e.to_string())
}

/// Where and how the kubeconfig is written.
#[derive(Debug, Args, Clone)]
pub struct WriteArgs {
    /// Where to write the kubeconfig (mode 0600); `-` for stdout (needs --show-token).
    /// With several pipelines, NAMESPACE.SERVICEACCOUNT is inserted before the extension.
    #[arg(help_heading = "Kubeconfig", long, value_name = "FILE", default_value = cicd_access_core::kubeconfig::DEFAULT_FILE)]
    pub output_kubeconfig: PathBuf,
    /// Overwrite an existing file (`rotate` replaces the kubeconfig it issued for the same
    /// namespace without it).
    #[arg(help_heading = "Kubeconfig", long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    /// The four objects, multi-document YAML for `kubectl apply -f`.
    Yaml,
    /// The four objects as a `v1` List.
    Json,
    /// The documented kubectl procedure as one bash script.
    Script,
    /// The CiCdAccess spec (for `-f`, and for the page).
    Spec,
    /// A GitHub Actions workflow using the kubeconfig.
    GithubActions,
    /// A GitLab CI job using the kubeconfig.
    GitlabCi,
    /// Keyless: the AuthenticationConfiguration (apiserver.config.k8s.io/v1, Kubernetes 1.34+).
    Authentication,
    /// Keyless: the same as v1beta1 (Kubernetes 1.30 to 1.33).
    AuthenticationV1beta1,
    /// Keyless: the kube-apiserver --oidc-* flags (clusters before 1.30), one per line.
    OidcFlags,
    /// Keyless: the JSON for `aws eks associate-identity-provider-config --cli-input-json`.
    EksIdentityProvider,
}

/// Where `kubectl cicd token` finds the job's OIDC token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenProvider {
    Github,
    Gitlab,
    Env,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    None,
    Server,
}

fn parse_rule_arg(value: &str) -> Result<Rule, String> {
    parse_rule(value).map_err(|e| e.to_string())
}

fn parse_max_age(value: &str) -> Result<MaxAge, String> {
    value.parse::<MaxAge>().map_err(|e| e.to_string())
}

fn parse_token_duration(value: &str) -> Result<TokenDuration, String> {
    value.parse::<TokenDuration>().map_err(|e| e.to_string())
}

/// `--timeout`, read by the core's checked parser.
pub fn parse_timeout(value: &str) -> Result<Duration, String> {
    let timeout: cicd_access_core::duration::Timeout = value.parse().map_err(|e| format!("{e}"))?;
    Ok(Duration::from_secs(timeout.seconds()))
}

impl AccessArgs {
    /// How the lint reads the Role: Helm (`--helm`, or manifests derived for Helm) keeps its
    /// releases in Secrets; a server-side apply's create is limited by names.
    pub fn lint_options(&self) -> LintOptions {
        let derived =
            |deployer| self.derive.from_manifests.is_some() && self.derive.deployer == deployer;
        LintOptions {
            helm: self.helm || derived(Deployer::Helm),
            server_side: derived(Deployer::ServerSide),
        }
    }

    /// Whether any rule source was given (preset, rules, manifests or file).
    pub fn has_rules(&self) -> bool {
        self.preset.is_some()
            || !self.rules.is_empty()
            || self.file.is_some()
            || self.derive.from_manifests.is_some()
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("kubectl-cicd").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn kubectl_flags_go_anywhere() {
        let cli = parse(&[
            "apply",
            "--preset",
            "read-only",
            "-n",
            "demo",
            "--context",
            "ctx",
            "--kubeconfig",
            "/k",
        ])
        .unwrap();
        assert_eq!(cli.cluster.namespace.as_deref(), Some("demo"));
        assert_eq!(cli.cluster.context.as_deref(), Some("ctx"));
        assert_eq!(cli.cluster.kubeconfig, Some(PathBuf::from("/k")));
        let cli = parse(&["--namespace=demo", "check", "--preset", "read-only"]).unwrap();
        assert_eq!(cli.cluster.namespace.as_deref(), Some("demo"));
    }

    #[test]
    fn bad_rules_and_presets_are_usage_errors() {
        let err = parse(&["generate", "--rule", "deployments:get"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
        let err = parse(&["generate", "--preset", "nope"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn a_file_excludes_flags_that_describe_the_access() {
        let err = parse(&["apply", "-f", "x.yaml", "--preset", "read-only"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(parse(&["apply", "-f", "x.yaml", "-n", "demo", "--server", "https://x"]).is_ok());
    }

    #[test]
    fn bound_tokens_and_timeouts() {
        let cli = parse(&[
            "apply",
            "--preset",
            "read-only",
            "--token-duration",
            "24h",
            "--timeout",
            "1m30s",
        ])
        .unwrap();
        assert_eq!(cli.timeout, Duration::from_secs(90));
        let Command::Apply { access, .. } = cli.command else { panic!() };
        assert_eq!(access.token_duration.map(TokenDuration::seconds), Some(24 * 3600));
        assert!(parse(&["apply", "--token-duration", "5m"]).is_err());
        assert!(parse(&["apply", "--timeout", "soon"]).is_err());
    }

    #[test]
    fn dry_run_takes_kubectls_spelling() {
        let cli = parse(&["apply", "--preset", "read-only", "--dry-run=server"]).unwrap();
        assert!(matches!(cli.command, Command::Apply { dry_run: DryRun::Server, .. }));
        let cli = parse(&["apply", "--preset", "read-only", "--dry-run"]).unwrap();
        assert!(matches!(cli.command, Command::Apply { dry_run: DryRun::Server, .. }));
    }

    #[test]
    fn help_texts() {
        let mut cli = Cli::command().term_width(100);
        cli.build();
        insta::assert_snapshot!("help", cli.render_help().to_string());
        for sub in
            ["generate", "check", "apply", "kubeconfig", "verify", "revoke", "status", "rotate"]
        {
            let command = cli.find_subcommand_mut(sub).unwrap();
            insta::assert_snapshot!(format!("help_{sub}"), command.render_help().to_string());
        }
    }

    #[test]
    fn usage_error_texts() {
        for (name, args) in [
            ("bad_rule", &["generate", "--rule", "deployments:get"][..]),
            ("bad_preset", &["generate", "--preset", "nope"][..]),
            ("bad_duration", &["apply", "--token-duration", "5m"][..]),
            ("file_and_preset", &["apply", "-f", "x.yaml", "--preset", "read-only"][..]),
        ] {
            let error = parse(args).unwrap_err();
            insta::assert_snapshot!(format!("usage_{name}"), error.render().to_string());
        }
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_timeout("2m").unwrap(), Duration::from_mins(2));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("10x").is_err());
        assert!(parse_timeout("9999999999999999h").is_err());
    }
}
