//! `kubectl-cicd`: a least-privilege kubeconfig for one CI/CD pipeline, as a kubectl plugin.
//!
//! Every decision (manifests, script, coverage, kubeconfig, verification) is the core's;
//! this binary parses arguments, talks to the API server and writes files.

mod access;
mod args;
mod cluster;
mod discovery;
mod files;
mod output;
mod pipeline;
mod problem;
mod token;

use std::io;
use std::process::ExitCode;

use anyhow::Result;
use cicd_access_core::AccessSpec;
use cicd_access_core::derive::{Derivation, UnknownKind};
use cicd_access_core::keyless::{AuthenticationApi, KeylessAccess};
use cicd_access_core::outputs::Outputs;
use clap::Parser as _;
use futures::StreamExt as _;
use serde::Serialize;

use crate::args::{
    AccessArgs, Cli, Command, DryRun, Format, GenerateFormat, StatusFormat, WriteArgs,
};
use crate::cluster::Cluster;
use crate::output::{Progress, print};
use crate::pipeline::{ApplyOptions, Pipeline};
use crate::problem::{FAILED, Problem, report};

/// Pipelines of one spec file worked on at once. Most of each one's time is spent waiting
/// for the control plane's token controller, so many may wait together.
const CONCURRENCY: usize = 64;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { problem::USAGE } else { 0 });
        }
    };
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KUBECTL_CICD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(FAILED);
        }
    };
    // Ctrl-C drops the work in flight: every request is idempotent and the kubeconfig is
    // written synchronously, so nothing half-done is left and a re-run completes.
    let timeout = cli.timeout;
    let progress = Progress::new(cli.quiet);
    let work = async {
        let deadline = tokio::time::Instant::now() + timeout;
        tokio::select! {
            result = tokio::time::timeout_at(deadline, run(cli, &progress, deadline)) => {
                result.unwrap_or_else(|_| Err(timed_out(timeout, &progress.message())))
            }
            _ = tokio::signal::ctrl_c() => Err(Problem::failed("interrupted")
                .hint("re-run the same command: it completes what was started (revoke --all removes it)")
                .into()),
        }
    };
    let result = runtime.block_on(work);
    progress.finish();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let (text, code) = report(&error);
            eprint!("{text}");
            ExitCode::from(code)
        }
    }
}

/// The command's deadline passed: say what it was doing, and that nothing half-done is left.
fn timed_out(deadline: std::time::Duration, doing: &str) -> anyhow::Error {
    let doing = if doing.is_empty() { String::new() } else { format!(" while {doing}") };
    Problem::failed(format!("timed out after {}s{doing}", deadline.as_secs()))
        .hint(
            "the API server did not answer in time (is its etcd up?), or the step needs longer: \
               re-run with a longer --timeout; every step is idempotent, so a re-run completes it",
        )
        .into()
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

async fn run(cli: Cli, progress: &Progress, deadline: tokio::time::Instant) -> Result<u8> {
    let namespace = cli.cluster.namespace.clone();
    match &cli.command {
        Command::Generate { access, output } => generate(access, namespace.as_deref(), *output),
        Command::Check { access, adopt, output } => {
            let (cluster, pipelines) = connect(&cli, access).await?;
            progress.set("checking");
            let results = each(&pipelines, |p| pipeline::check(&cluster, p, *adopt)).await;
            progress.finish();
            emit(&pipelines, results, *output, pipeline::CheckReport::text, |r| !r.refused())
        }
        Command::Apply { access, write, dry_run, no_verify, adopt, output } => {
            let (cluster, pipelines) = connect(&cli, access).await?;
            let dry = *dry_run == DryRun::Server;
            let mut options = options(&cli, deadline, write, &pipelines, dry, !no_verify)?;
            for option in &mut options {
                option.adopt = *adopt;
            }
            let results = each_indexed(&pipelines, |i, p| {
                pipeline::apply(&cluster, p, &options[i], progress)
            })
            .await;
            progress.finish();
            emit(
                &pipelines,
                results,
                *output,
                pipeline::ApplyReport::text,
                pipeline::ApplyReport::passed,
            )
        }
        Command::Kubeconfig { access, write, output } => {
            let (cluster, pipelines) = connect(&cli, access).await?;
            let options = options(&cli, deadline, write, &pipelines, false, false)?;
            let results = each_indexed(&pipelines, |i, p| {
                pipeline::kubeconfig(&cluster, p, &options[i], progress)
            })
            .await;
            progress.finish();
            emit(
                &pipelines,
                results,
                *output,
                pipeline::ApplyReport::text,
                pipeline::ApplyReport::passed,
            )
        }
        Command::Verify { ci_kubeconfig, access, output } => {
            let text = files::read_text(
                ci_kubeconfig,
                cicd_access_core::input::MAX_PASTE_BYTES,
                "kubeconfig",
            )?;
            let specs = specs(access, namespace.as_deref())?;
            let [spec] = specs.as_slice() else {
                return Err(Problem::usage("verify checks one pipeline; the spec file has several")
                    .hint("verify each kubeconfig with a spec file of its pipeline, or with --preset/--rule")
                    .into());
            };
            let cluster =
                if access.has_rules() { None } else { Some(cluster::connect(&cli.cluster).await?) };
            progress.set("verifying");
            let result = pipeline::verify_file(
                &text,
                spec.namespace.as_deref(),
                spec,
                access.has_rules(),
                cluster.as_ref(),
            )
            .await;
            progress.finish();
            let verification = result?;
            match output {
                Format::Text => print(&verification.text())?,
                Format::Json => print(&json(&verification))?,
            }
            Ok(if verification.passed { 0 } else { FAILED })
        }
        Command::Revoke { access, all, output } => {
            let (cluster, pipelines) = connect(&cli, access).await?;
            let results =
                each(&pipelines, |p| pipeline::revoke(&cluster, p, *all, cli.timeout, progress))
                    .await;
            progress.finish();
            emit(&pipelines, results, *output, pipeline::RevokeReport::text, |r| {
                r.token_dead != Some(false)
            })
        }
        Command::Status { all_namespaces, access, max_age, output } => {
            let expected = if access.has_rules() {
                let specs = specs(access, namespace.as_deref())?;
                let [spec] = specs.as_slice() else {
                    return Err(Problem::usage(
                        "status compares with one access; the spec file has several",
                    )
                    .hint("run status once per pipeline, each with its own spec file")
                    .into());
                };
                Some(spec.rules.clone())
            } else {
                None
            };
            if *all_namespaces && expected.is_some() {
                return Err(Problem::usage("-A with a spec would compare every namespace's access with one spec")
                    .hint("drop -A and pass -n NAMESPACE, or drop the spec to compare each Role with the rules it was applied with")
                    .into());
            }
            let cluster = cluster::connect(&cli.cluster).await?;
            let scope = if *all_namespaces {
                None
            } else {
                Some(namespace.clone().unwrap_or_else(|| cluster.namespace.clone()))
            };
            progress.set("reading the accesses");
            let report =
                pipeline::status(&cluster, scope.as_deref(), expected, max_age.days()).await?;
            progress.finish();
            match output {
                StatusFormat::Text => print(&report.text())?,
                StatusFormat::Json => print(&json(&report))?,
                StatusFormat::Yaml => print(&serde_yaml::to_string(&report)?)?,
            }
            Ok(if report.failed() { FAILED } else { 0 })
        }
        Command::Token { provider, audience, variable } => {
            token::run(*provider, audience.as_deref(), variable.as_deref()).await
        }
        Command::Rotate { access, write, output } => {
            let (cluster, pipelines) = connect(&cli, access).await?;
            let options = options(&cli, deadline, write, &pipelines, false, true)?;
            let results = each_indexed(&pipelines, |i, p| {
                pipeline::rotate(&cluster, p, &options[i], progress)
            })
            .await;
            progress.finish();
            let results = results
                .into_iter()
                .map(|r| {
                    r.map(|(mut report, dead)| {
                        match dead {
                            Some(true) => report
                                .notes
                                .push("the old token no longer authenticates (401)".into()),
                            Some(false) => {
                                report.notes.push("THE OLD TOKEN STILL AUTHENTICATES".into());
                            }
                            None => {}
                        }
                        (report, dead)
                    })
                })
                .collect();
            emit(
                &pipelines,
                results,
                *output,
                |(r, _)| r.text(),
                |(r, dead)| r.passed() && *dead != Some(false),
            )
        }
    }
}

/// The pipelines `access` describes; a derivation's reasons go to stderr, so that stdout
/// stays the result.
fn specs(access: &AccessArgs, namespace: Option<&str>) -> Result<Vec<AccessSpec>, Problem> {
    let described = access::describe(access, namespace)?;
    explain_derivation(&described);
    Ok(described.specs)
}

fn explain_derivation(described: &access::Described) {
    if let Some(derivation) = &described.derivation {
        eprint!("{}", derivation.explain());
    }
}

/// The offline outputs, byte for byte what the page produces for the same spec.
fn generate(access: &AccessArgs, namespace: Option<&str>, format: GenerateFormat) -> Result<u8> {
    if !access.has_rules() {
        return Err(no_access().into());
    }
    let specs = specs(access, namespace)?;
    let invalid = |e: cicd_access_core::validate::SpecErrors| -> anyhow::Error {
        Problem::usage(e.to_string()).into()
    };
    let mut parts = Vec::new();
    let mut hints = Vec::new();
    for spec in &specs {
        let outputs = Outputs::build(spec).map_err(invalid)?;
        parts.push(match format {
            GenerateFormat::Yaml => outputs.manifests().to_owned(),
            GenerateFormat::Json => outputs.json(),
            GenerateFormat::Script => outputs.script().to_owned(),
            GenerateFormat::Spec => spec.to_yaml(),
            GenerateFormat::GithubActions | GenerateFormat::GitlabCi => {
                let snippet = if format == GenerateFormat::GithubActions {
                    outputs.github()
                } else {
                    outputs.gitlab()
                };
                hints.push(format!(
                    "# {}: store the kubeconfig as a protected secret (not run for you):\n#   {}\n",
                    snippet.path, snippet.store_hint
                ));
                snippet.text.clone()
            }
            GenerateFormat::Authentication
            | GenerateFormat::AuthenticationV1beta1
            | GenerateFormat::OidcFlags
            | GenerateFormat::EksIdentityProvider => {
                let keyless = KeylessAccess::of(spec).map_err(|e| {
                    Problem::usage(e.to_string()).hint(
                        "these outputs are for a keyless access: `token: {kind: keyless, provider: github, repository: ORG/REPO, ref: refs/heads/main}` in the spec (-f)",
                    )
                })?;
                hints.push(keyless.guide());
                match format {
                    GenerateFormat::Authentication => {
                        keyless.authentication_configuration(AuthenticationApi::V1)
                    }
                    GenerateFormat::AuthenticationV1beta1 => {
                        keyless.authentication_configuration(AuthenticationApi::V1beta1)
                    }
                    GenerateFormat::OidcFlags => keyless.oidc_flags().join("\n") + "\n",
                    _ => keyless.eks_identity_provider_config(),
                }
            }
        });
    }
    let separator = match format {
        GenerateFormat::Yaml
        | GenerateFormat::Spec
        | GenerateFormat::GithubActions
        | GenerateFormat::GitlabCi
        | GenerateFormat::Authentication
        | GenerateFormat::AuthenticationV1beta1 => "---\n",
        GenerateFormat::Json
        | GenerateFormat::Script
        | GenerateFormat::OidcFlags
        | GenerateFormat::EksIdentityProvider => "\n",
    };
    print(&parts.join(separator))?;
    for hint in hints {
        eprint!("{hint}");
    }
    Ok(0)
}

async fn connect(cli: &Cli, access: &AccessArgs) -> Result<(Cluster, Vec<Pipeline>)> {
    let namespace = cli.cluster.namespace.as_deref();
    let mut described = access::describe(access, namespace)?;
    let specs = &described.specs;
    if !access.has_rules() && specs.iter().any(|s| s.rules.is_empty()) && needs_rules(&cli.command)
    {
        return Err(Problem::usage("no access given")
            .hint(format!(
                "describe the Role with --preset ({}), --rule GROUP:RESOURCES:VERBS or -f FILE",
                cicd_access_core::preset::names().join(", ")
            ))
            .into());
    }
    let overlaps = cicd_access_core::validate::overlapping_pipelines(specs);
    if !overlaps.is_empty() {
        return Err(Problem::usage(format!(
            "the pipelines overlap; nothing was changed:\n  {}",
            overlaps.join("\n  ")
        ))
        .hint("give each pipeline its own namespace or names (serviceAccount, role, roleBinding, secret)")
        .into());
    }
    let unknown: Vec<UnknownKind> =
        described.derivation.as_ref().map(|d| d.unknown.clone()).unwrap_or_default();
    if unknown.is_empty() {
        explain_derivation(&described);
    }
    let cluster = cluster::connect(&cli.cluster).await?;
    if !unknown.is_empty() {
        // The table does not know these kinds; the cluster the access is for does, or
        // the pipeline's deploy of them would fail there.
        let discovered = discovery::discover(&cluster, &unknown).await?;
        described = described.with_discovered(access, namespace, discovered)?;
        explain_derivation(&described);
        if let Some(unresolved) = described.derivation.as_ref().and_then(Derivation::unresolved)
            && needs_rules(&cli.command)
            && !access.derive.allow_unknown
        {
            return Err(Problem::failed(format!("nothing was changed: {}", unresolved.message))
                .hint(unresolved.hint)
                .into());
        }
    }
    let mut pipelines = Vec::new();
    for spec in described.specs {
        pipelines.push(Pipeline::new(spec, &cluster.namespace, access.lint_options())?);
    }
    Ok((cluster, pipelines))
}

fn no_access() -> Problem {
    Problem::usage("no access given: what may the pipeline do?").hint(format!(
        "describe the Role with --preset ({}), --rule GROUP:RESOURCES:VERBS or -f FILE",
        cicd_access_core::preset::names().join(", ")
    ))
}

fn needs_rules(command: &Command) -> bool {
    matches!(command, Command::Check { .. } | Command::Apply { .. })
}

fn options(
    cli: &Cli,
    deadline: tokio::time::Instant,
    write: &WriteArgs,
    pipelines: &[Pipeline],
    dry_run: bool,
    verify: bool,
) -> Result<Vec<ApplyOptions>> {
    let mut options = Vec::new();
    for pipeline in pipelines {
        let path = output::kubeconfig_path(
            &write.output_kubeconfig,
            pipelines.len(),
            &pipeline.namespace,
            &pipeline.spec.service_account,
        );
        if matches!(cli.command, Command::Rotate { .. }) {
            output::check_replaceable(&path, &pipeline.namespace, write.force, cli.show_token)?;
        } else if !dry_run {
            output::check_writable(&path, write.force, cli.show_token)?;
        }
        if path.as_os_str() == "-" && pipelines.len() > 1 {
            return Err(Problem::usage("several kubeconfigs cannot all go to stdout")
                .hint("write them to files (--output-kubeconfig FILE)")
                .into());
        }
        options.push(ApplyOptions {
            dry_run,
            timeout: cli.timeout,
            deadline,
            kubeconfig_path: path,
            force: write.force,
            verify,
            show_token: cli.show_token,
            adopt: false,
        });
    }
    Ok(options)
}

async fn each<'a, T, F, Fut>(pipelines: &'a [Pipeline], work: F) -> Vec<Result<T>>
where
    F: Fn(&'a Pipeline) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    each_indexed(pipelines, |_, pipeline| work(pipeline)).await
}

async fn each_indexed<'a, T, F, Fut>(pipelines: &'a [Pipeline], work: F) -> Vec<Result<T>>
where
    F: Fn(usize, &'a Pipeline) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    // Unordered, so one slow pipeline does not hold back the start of the next ones.
    let mut results: Vec<(usize, Result<T>)> =
        futures::stream::iter(pipelines.iter().enumerate().map(|(i, p)| {
            let future = work(i, p);
            async move { (i, future.await) }
        }))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, result)| result).collect()
}

fn json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Prints the results: text (a heading per pipeline when there are several) or JSON.
/// One pipeline's failure is returned as the error; with several, each is reported and the
/// exit code is 1.
fn emit<T: Serialize>(
    pipelines: &[Pipeline],
    results: Vec<Result<T>>,
    format: Format,
    text: impl Fn(&T) -> String,
    ok: impl Fn(&T) -> bool,
) -> Result<u8> {
    let several = pipelines.len() > 1;
    let mut code = 0;
    let mut entries = Vec::new();
    for (pipeline, result) in pipelines.iter().zip(results) {
        let name = format!("{}/{}", pipeline.namespace, pipeline.spec.service_account);
        match result {
            Ok(value) => {
                if !ok(&value) {
                    code = FAILED;
                }
                match format {
                    Format::Text if several => print(&format!("== {name}\n{}", text(&value)))?,
                    Format::Text => print(&text(&value))?,
                    Format::Json => entries.push(serde_json::to_value(&value)?),
                }
            }
            Err(error) if !several => {
                return Err(error);
            }
            Err(error) => {
                let (message, error_code) = report(&error);
                code = code.max(error_code);
                eprint!("== {name}\n{message}");
                if format == Format::Json {
                    entries.push(serde_json::json!({
                        "namespace": pipeline.namespace,
                        "serviceAccount": pipeline.spec.service_account,
                        "error": error.to_string(),
                    }));
                }
            }
        }
    }
    if format == Format::Json {
        print(&json(&serde_json::json!({ "pipelines": entries })))?;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate_error(access: &AccessArgs, namespace: Option<&str>) -> (String, u8) {
        report(&generate(access, namespace, GenerateFormat::Yaml).unwrap_err())
    }

    #[test]
    fn error_texts() {
        let no_rules = AccessArgs::default();
        insta::assert_snapshot!("error_no_rules", generate_error(&no_rules, Some("demo")).0);
        let bad_names = AccessArgs {
            preset: Some("read-only".into()),
            service_account: Some("CI CD".into()),
            ..AccessArgs::default()
        };
        let (text, code) = generate_error(&bad_names, Some("Demo"));
        assert_eq!(code, problem::USAGE);
        insta::assert_snapshot!("error_bad_names", text);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spec.yaml");
        std::fs::write(&file, "apiVersion: v1\nkind: Secret\n").unwrap();
        let wrong_kind = AccessArgs { file: Some(file), ..AccessArgs::default() };
        let (text, code) = generate_error(&wrong_kind, None);
        assert_eq!(code, problem::USAGE);
        insta::assert_snapshot!(
            "error_wrong_kind",
            text.replace(&dir.path().display().to_string(), "DIR")
        );
    }

    #[test]
    fn broken_pipes_are_recognised() {
        let error = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&error));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
