//! The access the command line describes: the spec file read, or the flags and the
//! manifests read and handed to the core's spec builder. Nothing here prints.

use cicd_access_core::AccessSpec;
use std::path::Path;

use cicd_access_core::derive::{self, Deployer, Derivation, DeriveOptions, KindOverride, Source};
use cicd_access_core::draft::{Draft, complete_from_flags};
use cicd_access_core::input::{MAX_MANIFEST_BYTES, MAX_SPEC_BYTES};

use crate::args::{AccessArgs, DeriveArgs};
use crate::files;
use crate::problem::Problem;

/// The pipelines described, and the derivation their rules came from, if any.
#[derive(Debug)]
pub struct Described {
    /// One from the flags, or one per document of the spec file.
    pub specs: Vec<AccessSpec>,
    pub derivation: Option<Derivation>,
    /// The manifests read, kept to derive again with what a cluster says (stdin can be read
    /// only once).
    sources: Vec<Source>,
}

/// Reads what `access` names. `namespace` (`-n`) fills specs that name none; the rest of
/// the defaults are the core's.
pub fn describe(access: &AccessArgs, namespace: Option<&str>) -> Result<Described, Problem> {
    if let Some(path) = &access.file {
        let text = files::read_text(path, MAX_SPEC_BYTES, "spec file")?;
        let mut specs = AccessSpec::parse_documents(&text)
            .map_err(|e| Problem::usage(format!("spec file {}: {e}", path.display())))?;
        complete_from_flags(&mut specs, namespace, access.server.as_deref());
        return Ok(Described { specs, derivation: None, sources: Vec::new() });
    }
    let sources = match &access.derive.from_manifests {
        Some(path) => read_manifests(path)?,
        None => Vec::new(),
    };
    build(access, namespace, sources, Vec::new())
}

impl Described {
    /// The same access derived again, knowing what the cluster's discovery serves of the
    /// kinds the table did not know.
    pub fn with_discovered(
        self,
        access: &AccessArgs,
        namespace: Option<&str>,
        discovered: Vec<KindOverride>,
    ) -> Result<Described, Problem> {
        build(access, namespace, self.sources, discovered)
    }
}

fn build(
    access: &AccessArgs,
    namespace: Option<&str>,
    sources: Vec<Source>,
    discovered: Vec<KindOverride>,
) -> Result<Described, Problem> {
    let derivation = if access.derive.from_manifests.is_some() {
        Some(derive_rules(&access.derive, namespace, &sources, discovered)?)
    } else {
        None
    };
    let spec = Draft {
        namespace: namespace.map(str::to_owned),
        preset: access.preset.clone(),
        rules: access.rules.clone(),
        derived: derivation.as_ref().map(Derivation::rules).unwrap_or_default(),
        service_account: access.service_account.clone(),
        role: access.role.clone(),
        role_binding: access.role_binding.clone(),
        secret: access.secret.clone(),
        cluster_name: access.cluster_name.clone(),
        server: access.server.clone(),
        token_duration: access.token_duration,
        // `--deployer` shapes the snippets with or without manifests; the preset's otherwise.
        deployer: (access.derive.deployer != Deployer::Apply)
            .then_some(access.derive.deployer)
            .or(access.helm.then_some(Deployer::Helm)),
    }
    .build();
    Ok(Described { specs: vec![spec], derivation, sources })
}

/// The files of `--from-manifests` (a file, a folder, or `-`).
fn read_manifests(path: &Path) -> Result<Vec<Source>, Problem> {
    if path.as_os_str() == "-" {
        return Ok(vec![Source::new(
            "-",
            files::read_text(path, MAX_MANIFEST_BYTES, "manifests")?,
        )]);
    }
    let found = files::manifest_files(path)?;
    if found.is_empty() {
        return Err(Problem::usage(format!(
            "{} holds no *.yaml, *.yml or *.json files",
            path.display()
        ))
        .hint("render the chart first, e.g. `helm template . > rendered.yaml`"));
    }
    found
        .iter()
        .map(|file| {
            let text = files::read_text(file, MAX_MANIFEST_BYTES, "manifests")?;
            Ok(Source::new(file.display().to_string(), text))
        })
        .collect()
}

fn derive_rules(
    args: &DeriveArgs,
    namespace: Option<&str>,
    sources: &[Source],
    discovered: Vec<KindOverride>,
) -> Result<Derivation, Problem> {
    let options = DeriveOptions {
        namespace: namespace.map(str::to_owned),
        delete: args.with_delete,
        prune: args.with_prune,
        wait: args.helm_wait,
        rollback: args.with_rollback,
        by_name: args.by_name,
        overrides: args.kinds.clone(),
        discovered,
        ..DeriveOptions::new(args.deployer)
    };
    derive::derive(sources, &options).map_err(|e| Problem::usage(format!("--from-manifests: {e}")))
}

#[cfg(test)]
mod tests {
    use cicd_access_core::{Rule, preset};
    use clap::Parser as _;

    use super::*;
    use crate::args::{Cli, Command};

    fn access(args: &[&str]) -> AccessArgs {
        let cli = Cli::try_parse_from(std::iter::once("kubectl-cicd").chain(args.iter().copied()))
            .expect("valid arguments");
        match cli.command {
            Command::Generate { access, .. } => access,
            _ => panic!("not generate"),
        }
    }

    #[test]
    fn from_manifests_adds_the_derived_rules_to_the_preset() {
        let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/fixtures/derive");
        let access = access(&[
            "generate",
            "--preset",
            "read-only",
            "--from-manifests",
            demo,
            "--deployer",
            "server-side",
            "--kind",
            "Widget.example.com=widgets",
        ]);
        let described = describe(&access, Some("demo")).unwrap();
        let derived = described.derivation.expect("derived").rules();
        assert!(!derived.is_empty());
        let spec = &described.specs[0];
        let preset = preset::find("read-only").unwrap().rules();
        assert_eq!(spec.rules[..preset.len()], preset[..]);
        assert!(cicd_access_core::coverage::missing_rules(&spec.rules, &derived).is_empty());
    }

    #[test]
    fn from_manifests_names_a_missing_path() {
        let access = access(&["generate", "--from-manifests", "/nonexistent/app.yaml"]);
        let problem = describe(&access, None).unwrap_err();
        assert!(format!("{problem:?}").contains("/nonexistent/app.yaml"), "{problem:?}");
    }

    #[test]
    fn preset_and_rules_combine() {
        let access = access(&[
            "generate",
            "--preset",
            "deployment-service-ingress",
            "--rule",
            "batch:jobs:read",
            "--token-duration",
            "24h",
        ]);
        let spec = &describe(&access, Some("demo")).unwrap().specs[0];
        assert_eq!(spec.rules.len(), 4);
        assert_eq!(spec.rules[3], Rule::new(&["batch"], &["jobs"], &["get", "list", "watch"]));
        assert_eq!(spec.namespace.as_deref(), Some("demo"));
        assert!(matches!(spec.token, cicd_access_core::TokenKind::Bound { .. }));
    }
}
