//! Terminal and file output: results on stdout, progress on stderr, kubeconfigs on disk.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::problem::Problem;

/// Writes `text` to stdout. A closed pipe (`| head`) is not an error: the reader has what it
/// wanted, so the caller ends with success.
pub fn print(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// A spinner on stderr, hidden with `-q` or when stderr is not a terminal.
#[derive(Debug, Clone)]
pub struct Progress(ProgressBar);

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        };
        Progress(bar)
    }

    pub fn set(&self, message: impl Into<String>) {
        self.0.set_message(message.into());
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// The kubeconfig path of pipeline `index` of `count`: the given path for one pipeline;
/// with several, `NAMESPACE.SERVICEACCOUNT` goes before the extension.
pub fn kubeconfig_path(
    base: &Path,
    count: usize,
    namespace: &str,
    service_account: &str,
) -> PathBuf {
    if count <= 1 || base.as_os_str() == "-" {
        return base.to_path_buf();
    }
    let stem = base.file_stem().and_then(|s| s.to_str()).unwrap_or("kubeconfig");
    let name = match base.extension().and_then(|e| e.to_str()) {
        Some(ext) => format!("{stem}.{namespace}.{service_account}.{ext}"),
        None => format!("{stem}.{namespace}.{service_account}"),
    };
    base.with_file_name(name)
}

/// Refuses, before anything is changed in the cluster, to overwrite without `--force`.
pub fn check_writable(path: &Path, force: bool, show_token: bool) -> Result<(), Problem> {
    if path.as_os_str() == "-" {
        if !show_token {
            return Err(Problem::usage("writing the kubeconfig to stdout shows the token")
                .hint("add --show-token if that is what you want, or write it to a file"));
        }
        return Ok(());
    }
    if !force && path.exists() {
        return Err(Problem::usage(format!("{} exists", path.display()))
            .hint("pass --force to overwrite it, or choose another --output-kubeconfig"));
    }
    Ok(())
}

/// Writes the kubeconfig atomically with mode 0600: a private temporary file in the same
/// directory, synced, then renamed over the target (or linked, when not forced, so an
/// existing file is never replaced).
pub fn write_kubeconfig(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        print(text)?;
        return Ok(());
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| {
            Problem::failed(format!("cannot create directory {}: {e}", dir.display()))
        })?;
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("kubeconfig");
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if force {
            fs::rename(&temp, path)
        } else {
            fs::hard_link(&temp, path)?;
            fs::remove_file(&temp)
        }
    })();
    if let Err(error) = result {
        let _ = fs::remove_file(&temp);
        let problem = if error.kind() == io::ErrorKind::AlreadyExists {
            Problem::usage(format!("{} exists", path.display()))
                .hint("pass --force to overwrite it, or choose another --output-kubeconfig")
        } else {
            Problem::failed(format!("cannot write {}: {error}", path.display()))
        };
        return Err(problem.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn writes_private_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.yaml");
        write_kubeconfig(&path, "a", false).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(write_kubeconfig(&path, "b", false).is_err());
        assert!(check_writable(&path, false, false).is_err());
        write_kubeconfig(&path, "c", true).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "c");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn several_pipelines_get_several_files() {
        let base = Path::new("out/kubeconfig_ci_cd.yaml");
        assert_eq!(kubeconfig_path(base, 1, "a", "b"), base);
        assert_eq!(kubeconfig_path(base, 2, "a", "b"), Path::new("out/kubeconfig_ci_cd.a.b.yaml"));
    }

    #[test]
    fn stdout_needs_show_token() {
        assert!(check_writable(Path::new("-"), false, false).is_err());
        assert!(check_writable(Path::new("-"), false, true).is_ok());
    }
}
