//! Terminal and file output: results on stdout, progress on stderr, kubeconfigs on disk.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
#[cfg(unix)]
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

    /// What is being done now (also when hidden), for a timeout's message.
    pub fn message(&self) -> String {
        self.0.message()
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

/// Refuses, before anything is changed in the cluster, to write where the kubeconfig cannot
/// go: an existing file without `--force`, a directory, a dangling symlink, a directory that
/// cannot be created or written. The directory is created (0700) and a probe file written
/// and removed, so a failure shows now and not after the objects were created.
pub fn check_writable(path: &Path, force: bool, show_token: bool) -> Result<(), Problem> {
    if path.as_os_str() == "-" {
        if !show_token {
            return Err(Problem::usage("writing the kubeconfig to stdout shows the token")
                .hint("add --show-token if that is what you want, or write it to a file"));
        }
        return Ok(());
    }
    let elsewhere = "choose another --output-kubeconfig";
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(Problem::usage(format!("{} is a directory", path.display()))
                .hint(format!("name a file in it, or {elsewhere}")));
        }
        Ok(meta) if meta.file_type().is_symlink() && !path.exists() => {
            return Err(Problem::usage(format!(
                "{} is a symbolic link to a file that does not exist",
                path.display()
            ))
            .hint(format!("remove the link, or {elsewhere}")));
        }
        Ok(_) if !force => {
            return Err(Problem::usage(format!("{} exists", path.display()))
                .hint(format!("pass --force to overwrite it, or {elsewhere}")));
        }
        _ => {}
    }
    let dir = parent_dir(path);
    let cannot = |e: io::Error| {
        Problem::usage(format!("cannot write the kubeconfig to {}: {e}", path.display()))
            .hint(elsewhere)
    };
    if !dir.exists() {
        create_private_dir(&dir).map_err(cannot)?;
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("kubeconfig");
    let probe = dir.join(format!(".{file_name}.{}.probe", std::process::id()));
    create_private(&probe).map_err(cannot)?;
    fs::remove_file(&probe).map_err(cannot)
}

/// `rotate`'s check: like [`check_writable`], but an existing file that is the kubeconfig
/// this tool issued for `namespace` is replaced without `--force`; any other file needs it.
pub fn check_replaceable(
    path: &Path,
    namespace: &str,
    force: bool,
    show_token: bool,
) -> Result<(), Problem> {
    let is_file = fs::symlink_metadata(path).is_ok_and(|meta| meta.is_file());
    if force || !is_file {
        return check_writable(path, force, show_token);
    }
    let limit = cicd_access_core::input::MAX_PASTE_BYTES;
    let issued = crate::files::read_text(path, limit, "kubeconfig")
        .is_ok_and(|text| cicd_access_core::kubeconfig::is_issued_for(&text, namespace));
    if !issued {
        return Err(Problem::usage(format!(
            "{} exists and is not the kubeconfig of the access in namespace {namespace}",
            path.display()
        ))
        .hint("pass --force to overwrite it, or choose another --output-kubeconfig"));
    }
    check_writable(path, true, show_token)
}

/// Removes `.NAME.PID.tmp` files that a killed run left beside `NAME`: each is a whole
/// kubeconfig, token included. Only those of processes that no longer run are touched.
fn remove_stale_temporaries(dir: &Path, file_name: &str) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let prefix = format!(".{file_name}.");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !process_runs(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(target_os = "linux")]
fn process_runs(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Without /proc (macOS, Windows) std cannot tell whether a process runs: every temporary file
/// is taken for a live run's and kept, since removing one would break that run's write, while a
/// kept one holds no more than the kubeconfig beside it, and is as private.
#[cfg(not(target_os = "linux"))]
fn process_runs(_pid: u32) -> bool {
    true
}

/// Creates `dir` and its missing parents. On Unix they are 0700. Windows has no mode bits:
/// they get the ACL inherited from the directory they are made in.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)
}

/// Creates `path`, which must not exist yet, for writing: it will hold a token. On Unix it is
/// 0600 from the moment it exists. Windows has no mode bits and std sets no ACL: the file is
/// created new (never an existing file that someone else may already hold open or may have been
/// granted) and inherits its directory's ACL, which under the user's profile (where kubeconfigs
/// live) grants only the user, SYSTEM and the Administrators.
fn create_private(path: &Path) -> io::Result<fs::File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes the kubeconfig atomically, private (0600 on Unix; see [`create_private`]): a temporary file in the same
/// directory, synced, then renamed over the target (or linked, when not forced, so an
/// existing file is never replaced).
pub fn write_kubeconfig(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        print(text)?;
        return Ok(());
    }
    let dir = parent_dir(path);
    if !dir.exists() {
        create_private_dir(&dir).map_err(|e| {
            Problem::failed(format!("cannot create directory {}: {e}", dir.display()))
        })?;
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("kubeconfig");
    remove_stale_temporaries(&dir, file_name);
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut file = create_private(&temp)?;
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
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn writes_private_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.yaml");
        write_kubeconfig(&path, "a", false).unwrap();
        #[cfg(unix)]
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(write_kubeconfig(&path, "b", false).is_err());
        assert!(check_writable(&path, false, false).is_err());
        write_kubeconfig(&path, "c", true).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "c");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_killed_runs_temporary_file_is_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.yaml");
        // No process has this pid on Linux (pid_max is at most 2^22).
        let stale = dir.path().join(".k.yaml.4294967294.tmp");
        let other = dir.path().join(".other.yaml.4294967294.tmp");
        fs::write(&stale, "token: secret").unwrap();
        fs::write(&other, "x").unwrap();
        write_kubeconfig(&path, "a", false).unwrap();
        assert!(!stale.exists());
        assert!(other.exists(), "only this file's leftovers are removed");
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

    #[test]
    #[cfg(unix)]
    fn unwritable_places_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        fs::write(&file, "x").unwrap();
        let cases = [
            (file.join("k.yaml"), "under a file"),
            (PathBuf::from("/proc/k.yaml"), "under /proc"),
            (dir.path().to_path_buf(), "a directory"),
        ];
        for (path, what) in cases {
            assert!(check_writable(&path, true, false).is_err(), "{what}");
        }
        let link = dir.path().join("dangling.yaml");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        let error = check_writable(&link, false, false).unwrap_err();
        assert!(error.message.contains("symbolic link"), "{}", error.message);
        // A missing directory is made, private, and nothing else is left in it.
        let nested = dir.path().join("out/ci/k.yaml");
        check_writable(&nested, false, false).unwrap();
        let out = dir.path().join("out/ci");
        assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0);
    }

    #[test]
    fn rotate_replaces_only_its_own_kubeconfig_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let precious = dir.path().join("precious.txt");
        fs::write(&precious, "my notes\n").unwrap();
        let error = check_replaceable(&precious, "demo", false, false).unwrap_err();
        assert!(error.message.contains("is not the kubeconfig"), "{}", error.message);
        assert!(check_replaceable(&precious, "demo", true, false).is_ok());
        let issued = dir.path().join("kubeconfig.yaml");
        fs::write(
            &issued,
            "apiVersion: v1\nkind: Config\ncontexts:\n- name: default-context\n  context:\n    cluster: c\n    namespace: demo\n    user: default-user\n",
        )
        .unwrap();
        assert!(check_replaceable(&issued, "demo", false, false).is_ok());
        assert!(check_replaceable(&issued, "other", false, false).is_err());
        assert!(check_replaceable(&dir.path().join("new.yaml"), "demo", false, false).is_ok());
    }
}
