//! Reading what the user names on the command line: spec files, manifests, kubeconfigs,
//! stdin. Every read is bounded (`/dev/zero` is refused, not read to the end of memory) and
//! a folder of manifests is walked once, each file read once, symlink loops refused.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read as _};
#[cfg(unix)]
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use crate::problem::Problem;

/// The text of `path` (`-`: stdin), at most `limit` bytes; `what` names it in errors.
pub fn read_text(path: &Path, limit: usize, what: &str) -> Result<String, Problem> {
    let shown =
        if path.as_os_str() == "-" { "stdin".to_owned() } else { path.display().to_string() };
    let cannot = |e: io::Error| Problem::usage(format!("cannot read {what} {shown}: {e}"));
    let mut bytes = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    if path.as_os_str() == "-" {
        io::stdin().lock().take(cap).read_to_end(&mut bytes).map_err(cannot)?;
    } else {
        fs::File::open(path)
            .and_then(|file| file.take(cap).read_to_end(&mut bytes))
            .map_err(cannot)?;
    }
    if bytes.len() > limit {
        return Err(Problem::usage(format!(
            "{what} {shown} is more than {limit} bytes, the most this tool reads"
        ))
        .hint("give only what the pipeline needs, or split it"));
    }
    String::from_utf8(bytes)
        .map_err(|_| Problem::usage(format!("{what} {shown} is not UTF-8 text")))
}

/// The manifest files of `path` in name order: the file itself, or a directory's `*.yaml`,
/// `*.yml` and `*.json`, recursively. A file reached twice (through a symlink) is listed
/// once; a directory that contains itself (a symlink loop) is refused.
pub fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, Problem> {
    let mut walk = Walk { files: Vec::new(), seen: HashSet::new(), open: Vec::new() };
    walk.visit(path)?;
    Ok(walk.files)
}

struct Walk {
    files: Vec<PathBuf>,
    /// Files already listed.
    seen: HashSet<FileId>,
    /// The directories being walked, outermost first: entering one of them again is a loop.
    open: Vec<FileId>,
}

/// What a file is, whichever link reached it: device and inode on Unix.
#[cfg(unix)]
type FileId = (u64, u64);
/// Windows: std's file index is unstable, so the canonical path (every link resolved) stands in.
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(unix)]
#[expect(clippy::unnecessary_wraps, reason = "the signature of Windows' file_id")]
fn file_id(_path: &Path, meta: &fs::Metadata) -> io::Result<FileId> {
    Ok((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path, _meta: &fs::Metadata) -> io::Result<FileId> {
    fs::canonicalize(path)
}

impl Walk {
    fn visit(&mut self, path: &Path) -> Result<(), Problem> {
        let cannot =
            |e: io::Error| Problem::usage(format!("cannot read manifests {}: {e}", path.display()));
        let meta = fs::metadata(path).map_err(cannot)?;
        let id = file_id(path, &meta).map_err(cannot)?;
        if !meta.is_dir() {
            if self.seen.insert(id) {
                self.files.push(path.to_owned());
            }
            return Ok(());
        }
        if self.open.contains(&id) {
            return Err(Problem::usage(format!(
                "{} leads back into a folder it is in (a symbolic link loop)",
                path.display()
            ))
            .hint("remove the link, or pass the folder of manifests itself"));
        }
        self.open.push(id);
        let mut entries: Vec<PathBuf> = fs::read_dir(path)
            .and_then(|dir| dir.map(|e| e.map(|e| e.path())).collect())
            .map_err(cannot)?;
        entries.sort();
        for entry in entries {
            let manifest = entry
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
            if entry.is_dir() || manifest {
                self.visit(&entry)?;
            }
        }
        self.open.pop();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    #[cfg(unix)]
    fn each_file_once_and_loops_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("a.yaml"), "a").unwrap();
        fs::write(root.join("sub/b.yml"), "b").unwrap();
        fs::write(root.join("notes.txt"), "skipped").unwrap();
        symlink(root.join("a.yaml"), root.join("sub/again.yaml")).unwrap();
        let files = manifest_files(root).unwrap();
        assert_eq!(files, [root.join("a.yaml"), root.join("sub/b.yml")]);

        symlink(root, root.join("sub/self")).unwrap();
        let error = manifest_files(root).unwrap_err();
        assert!(error.message.contains("symbolic link loop"), "{}", error.message);
    }

    #[test]
    fn reads_are_bounded() {
        #[cfg(unix)]
        {
            let error = read_text(Path::new("/dev/zero"), 1024, "spec file").unwrap_err();
            assert!(error.message.contains("is more than 1024 bytes"), "{}", error.message);
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.yaml");
        fs::write(&file, "kind: x\n").unwrap();
        assert_eq!(read_text(&file, 1024, "spec file").unwrap(), "kind: x\n");
    }
}
