//! The release artifacts of `cargo xtask dist` in target/dist/, as a user meets them: each
//! Linux archive unpacked into an empty directory and run as a kubectl plugin with nothing
//! else on `PATH`, the binaries static, every checksum true, a plugin installed by following
//! the krew manifest, and the binstall metadata, the Action and the manifest naming the same
//! downloads. `cargo xtask test` packages the x86_64 Linux archive before the tests run;
//! `cargo xtask dist` every target Debian builds, which these tests then check as well.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use cicd_access_tests::prerequisites::{require_kubectl, require_program, stop};
use cicd_access_tests::{Output, run};
use serde_yaml::Value;
use tempfile::TempDir;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// crates/xtask/scripts/dist.sh's `repository` and `krew_name`.
const RELEASES: &str = "https://github.com/cicd-access/cicd-access/releases/download";
const KREW_NAME: &str = "cicd-access";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// target/dist/, or a stop naming the command that writes it.
fn dist() -> PathBuf {
    let dir = workspace().join("target/dist");
    if !dir.join("sha256sums.txt").is_file() {
        stop(&format!(
            "no release artifacts in {}: these tests check what `cargo xtask dist` writes; \
             write them with `cargo xtask dist` (all targets) or \
             `crates/xtask/scripts/dist.sh build x86_64-unknown-linux-musl && crates/xtask/scripts/dist.sh package` \
             (`cargo xtask test` does)",
            dir.display()
        ));
    }
    dir
}

/// An archive of kubectl-cicd in target/dist/ and the Rust target it was built for.
struct Archive {
    path: PathBuf,
    target: String,
}

impl Archive {
    fn name(&self) -> &str {
        self.path.file_name().and_then(|name| name.to_str()).expect("a UTF-8 file name")
    }

    fn binary(&self) -> &'static str {
        if self.target.contains("-windows-") { "kubectl-cicd.exe" } else { "kubectl-cicd" }
    }

    fn is_linux(&self) -> bool {
        self.target.contains("-linux-")
    }
}

fn archives() -> Vec<Archive> {
    let prefix = format!("kubectl-cicd-{VERSION}-");
    let mut archives: Vec<Archive> = fs::read_dir(dist())
        .expect("target/dist is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?;
            let target = name.strip_prefix(&prefix)?;
            let target = target.strip_suffix(".tar.gz").or_else(|| target.strip_suffix(".zip"))?;
            Some(Archive { target: target.to_owned(), path })
        })
        .collect();
    archives.sort_by(|a, b| a.target.cmp(&b.target));
    assert!(
        archives.iter().any(|archive| archive.target == "x86_64-unknown-linux-musl"),
        "target/dist has no x86_64-unknown-linux-musl archive: the one every run must check"
    );
    archives
}

fn sha256(path: &Path) -> String {
    let mut command = Command::new(require_program("sha256sum", "the checksums are compared"));
    command.arg(path);
    let out = run(command, None).expect_success("sha256sum");
    out.split_whitespace().next().expect("sha256sum prints the digest").to_owned()
}

fn krew_manifest() -> Value {
    let path = dist().join(format!("{KREW_NAME}.yaml"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {value:?}"))
}

/// Krew's os/arch (Go's names) for a Rust target.
fn krew_platform(target: &str) -> (&'static str, &'static str) {
    let os = match target {
        t if t.contains("-linux-") => "linux",
        t if t.contains("-apple-") => "darwin",
        t if t.contains("-windows-") => "windows",
        other => panic!("no krew os for {other}"),
    };
    let arch = match target.split('-').next() {
        Some("x86_64") => "amd64",
        Some("aarch64") => "arm64",
        _ => panic!("no krew arch for {target}"),
    };
    (os, arch)
}

/// Unpacks `archive` into a fresh directory with `tar` or `unzip`, as a user does.
fn unpack(archive: &Path) -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let name = archive.to_string_lossy();
    let mut command = if name.ends_with(".zip") {
        let mut unzip = Command::new(require_program("unzip", "the Windows archive is a zip"));
        unzip.arg("-q").arg(archive).arg("-d").arg(dir.path());
        unzip
    } else {
        let mut tar = Command::new("tar");
        tar.arg("-xzf").arg(archive).arg("-C").arg(dir.path());
        tar
    };
    command.current_dir(dir.path());
    run(command, None).expect_success(&format!("unpacking {name}"));
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("readable")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `kubectl ARGS` with `PATH` holding only `path` (where kubectl is linked in, beside the
/// plugin), an empty home and no kubeconfig: kubectl finds the plugin as on a user's machine.
fn kubectl_with_path_only(path: &Path, args: &[&str]) -> Output {
    let kubectl = path.join("kubectl");
    if !kubectl.exists() {
        symlink(require_kubectl(), &kubectl).expect("kubectl linked in");
    }
    let home = tempfile::tempdir().expect("a temporary home");
    let mut command = Command::new(&kubectl);
    command
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("no-kubeconfig"))
        .current_dir(home.path());
    run(command, None)
}

/// What a Linux executable asks of the machine, read from its ELF headers.
#[derive(Debug, PartialEq, Eq)]
struct Elf {
    /// `e_machine`: 62 is x86-64, 183 AArch64.
    machine: u16,
    /// A `PT_INTERP` segment: the dynamic loader the kernel must start first.
    interpreter: bool,
    /// A `PT_DYNAMIC` segment: what `readelf -d` shows. A static-pie binary has one, for its
    /// own relocations, without needing a loader or a library.
    dynamic: bool,
    /// `DT_NEEDED` entries: the shared libraries it must find.
    needed: usize,
}

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NEEDED: u64 = 1;

fn read_elf(bytes: &[u8]) -> Elf {
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().expect("2 bytes"));
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| {
        let value = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        usize::try_from(value).expect("an offset that fits")
    };
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!((bytes[4], bytes[5]), (2, 1), "not a 64-bit little-endian ELF file");
    let (phoff, phentsize, phnum) = (u64_at(32), usize::from(u16_at(54)), usize::from(u16_at(56)));
    let mut elf = Elf { machine: u16_at(18), interpreter: false, dynamic: false, needed: 0 };
    for header in (0..phnum).map(|index| phoff + index * phentsize) {
        match u32_at(header) {
            PT_INTERP => elf.interpreter = true,
            PT_DYNAMIC => {
                elf.dynamic = true;
                let (start, size) = (u64_at(header + 8), u64_at(header + 32));
                elf.needed = bytes[start..start + size]
                    .chunks_exact(16)
                    .filter(|entry| {
                        u64::from_le_bytes(entry[..8].try_into().expect("8")) == DT_NEEDED
                    })
                    .count();
            }
            _ => {}
        }
    }
    elf
}

/// The COFF machine of a Windows executable (0x8664: x86-64).
fn pe_machine(bytes: &[u8]) -> u16 {
    assert_eq!(&bytes[..2], b"MZ", "not a Windows executable");
    let pe = usize::try_from(u32::from_le_bytes(bytes[0x3c..0x40].try_into().expect("4 bytes")))
        .expect("an offset that fits");
    assert_eq!(&bytes[pe..pe + 4], b"PE\0\0", "no PE header");
    u16::from_le_bytes(bytes[pe + 4..pe + 6].try_into().expect("2 bytes"))
}

/// Runs the unpacked binary, directly when this machine runs it, under qemu-user for aarch64.
fn run_binary(binary: &Path, target: &str, args: &[&str]) -> Output {
    let mut command = match target.split('-').next() {
        Some(arch) if arch == std::env::consts::ARCH => Command::new(binary),
        Some("aarch64") => {
            let qemu = require_program(
                "qemu-aarch64",
                "the aarch64 archive's binary is run under qemu-user",
            );
            let mut qemu = Command::new(qemu);
            qemu.arg(binary);
            qemu
        }
        _ => panic!("no way to run a {target} binary here"),
    };
    let home = tempfile::tempdir().expect("a temporary home");
    command
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("no-kubeconfig"));
    run(command, None)
}

const GENERATE: [&str; 5] = ["generate", "--preset", "welkin-user-demo", "-n", "demo"];

fn assert_generated(output: Output, what: &str) -> String {
    let manifests = output.expect_success(what);
    for expected in ["kind: Role", "kind: ServiceAccount", "kind: RoleBinding", "namespace: demo"] {
        assert!(manifests.contains(expected), "{what} printed no {expected:?}:\n{manifests}");
    }
    manifests
}

#[test]
fn every_checksum_in_sha256sums_matches_its_archive() {
    let sums = fs::read_to_string(dist().join("sha256sums.txt")).expect("sha256sums.txt");
    let listed: BTreeMap<&str, &str> = sums
        .lines()
        .map(|line| {
            let (digest, name) = line.split_once("  ").expect("`DIGEST  NAME` lines");
            (name, digest)
        })
        .collect();
    for (name, digest) in &listed {
        assert_eq!(sha256(&dist().join(name)), *digest, "sha256sums.txt is wrong for {name}");
    }
    let mut expected: Vec<String> =
        archives().iter().map(|archive| archive.name().to_owned()).collect();
    expected.push(format!("cicd-access-page-{VERSION}.tar.gz"));
    expected.sort();
    let listed: Vec<String> = listed.keys().map(|name| (*name).to_owned()).collect();
    assert_eq!(listed, expected, "sha256sums.txt lists every archive, and only those");
}

#[test]
fn each_linux_archive_runs_as_a_kubectl_plugin_from_an_empty_directory() {
    let archives = archives();
    let mut outputs = Vec::new();
    for archive in archives.iter().filter(|archive| archive.is_linux()) {
        let dir = unpack(&archive.path);
        assert_eq!(
            entries(dir.path()),
            ["LICENSE", "README.md", "kubectl-cicd"],
            "{} holds the binary, LICENSE and README",
            archive.name()
        );
        let binary = dir.path().join("kubectl-cicd");
        let elf = read_elf(&fs::read(&binary).expect("the binary"));
        let machine = if archive.target.starts_with("aarch64") { 183 } else { 62 };
        assert_eq!(
            elf,
            Elf { machine, interpreter: false, dynamic: false, needed: 0 },
            "{}: a static executable for its machine (no loader, no dynamic section, no shared library)",
            archive.name()
        );
        if archive.target.starts_with(std::env::consts::ARCH) {
            let version = kubectl_with_path_only(dir.path(), &["cicd", "--version"])
                .expect_success("kubectl cicd --version");
            assert!(version.contains(VERSION), "`kubectl cicd --version` said {version:?}");
            let mut args = vec!["cicd"];
            args.extend(GENERATE);
            outputs.push(assert_generated(
                kubectl_with_path_only(dir.path(), &args),
                &format!("kubectl cicd generate from {}", archive.name()),
            ));
        } else {
            // kubectl would need binfmt_misc to start it: run it through qemu-user directly.
            let version = run_binary(&binary, &archive.target, &["--version"])
                .expect_success(&format!("{} --version", archive.name()));
            assert!(version.contains(VERSION), "{} --version said {version:?}", archive.name());
            outputs.push(assert_generated(
                run_binary(&binary, &archive.target, &GENERATE),
                &format!("kubectl-cicd generate from {}", archive.name()),
            ));
        }
    }
    assert!(
        outputs.windows(2).all(|pair| pair[0] == pair[1]),
        "every Linux build generates the same bytes"
    );
}

#[test]
fn the_krew_manifest_names_every_archive_with_its_checksum() {
    let manifest = krew_manifest();
    assert_eq!(text(&manifest, "apiVersion"), "krew.googlecontainertools.github.com/v1alpha2");
    assert_eq!(text(&manifest, "kind"), "Plugin");
    assert_eq!(text(&manifest["metadata"], "name"), KREW_NAME);
    let spec = &manifest["spec"];
    assert_eq!(text(spec, "version"), format!("v{VERSION}"));
    assert!(text(spec, "caveats").contains("token"), "the caveat warns about the token");
    let platforms = spec["platforms"].as_sequence().expect("spec.platforms");
    let archives = archives();
    assert_eq!(platforms.len(), archives.len(), "one platform per archive");
    for archive in &archives {
        let (os, arch) = krew_platform(&archive.target);
        let platform = platforms
            .iter()
            .find(|platform| {
                let labels = &platform["selector"]["matchLabels"];
                labels["os"].as_str() == Some(os) && labels["arch"].as_str() == Some(arch)
            })
            .unwrap_or_else(|| panic!("no platform selects os {os}, arch {arch}"));
        assert_eq!(
            text(platform, "uri"),
            format!("{RELEASES}/v{VERSION}/{}", archive.name()),
            "the uri of {os}/{arch}"
        );
        assert_eq!(text(platform, "sha256"), sha256(&archive.path), "{os}/{arch}'s sha256");
        assert_eq!(text(platform, "bin"), archive.binary());
    }
}

/// Krew's install, by the manifest alone: pick the platform, check the sha256, unpack, copy
/// `files`, link `bin` as kubectl-<name with - as _> into krew's bin directory.
#[test]
fn installing_by_the_krew_manifest_gives_a_working_plugin() {
    let manifest = krew_manifest();
    let platform = manifest["spec"]["platforms"]
        .as_sequence()
        .expect("spec.platforms")
        .iter()
        .find(|platform| {
            let labels = &platform["selector"]["matchLabels"];
            labels["os"].as_str() == Some("linux") && labels["arch"].as_str() == Some("amd64")
        })
        .expect("a linux/amd64 platform");
    let uri = text(platform, "uri");
    let download = dist().join(uri.rsplit('/').next().expect("a file name in the uri"));
    assert_eq!(sha256(&download), text(platform, "sha256"), "the download is what krew expects");
    let unpacked = unpack(&download);
    let krew_root = tempfile::tempdir().expect("a krew root");
    let install = krew_root.path().join(format!("store/{KREW_NAME}/v{VERSION}"));
    fs::create_dir_all(&install).expect("the install directory");
    for file in platform["files"].as_sequence().expect("files") {
        let from = unpacked.path().join(text(file, "from"));
        let to = install.join(text(file, "to"));
        let to = if to.is_dir() { to.join(from.file_name().expect("a name")) } else { to };
        fs::copy(&from, &to).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    }
    let bin = krew_root.path().join("bin");
    fs::create_dir_all(&bin).expect("krew's bin");
    let link = bin.join(format!("kubectl-{}", KREW_NAME.replace('-', "_")));
    symlink(install.join(text(platform, "bin")), &link).expect("the plugin's link");
    let version = kubectl_with_path_only(&bin, &[KREW_NAME, "--version"])
        .expect_success(&format!("kubectl {KREW_NAME} --version"));
    assert!(version.contains(VERSION), "`kubectl {KREW_NAME} --version` said {version:?}");
    let mut args = vec![KREW_NAME];
    args.extend(GENERATE);
    assert_generated(kubectl_with_path_only(&bin, &args), &format!("kubectl {KREW_NAME} generate"));
}

#[test]
fn the_windows_archive_holds_an_x86_64_windows_binary() {
    for archive in archives().iter().filter(|archive| archive.target.contains("-windows-")) {
        let dir = unpack(&archive.path);
        assert_eq!(entries(dir.path()), ["LICENSE", "README.md", "kubectl-cicd.exe"]);
        let binary = fs::read(dir.path().join("kubectl-cicd.exe")).expect("the binary");
        assert_eq!(pe_machine(&binary), 0x8664, "{} is for x86-64", archive.name());
    }
}

/// The page's bundle: site/ refers to its files by relative URLs only, so it works from any
/// path of any static host, and every file it refers to is in it.
#[test]
fn the_page_bundle_is_the_page_with_relative_urls_and_the_embed_snippet() {
    let name = format!("cicd-access-page-{VERSION}");
    let dir = unpack(&dist().join(format!("{name}.tar.gz")));
    let bundle = dir.path().join(&name);
    assert_eq!(entries(&bundle), ["embed-snippet.html", "site"]);
    let snippet = fs::read_to_string(bundle.join("embed-snippet.html")).expect("the snippet");
    let site = bundle.join("site");
    // The snippet loads the bundle's embed.js, which turns the element into the ?embed iframe;
    // the element's link is what readers without JavaScript get.
    assert!(snippet.contains("/embed.js\" defer></script>"), "{snippet}");
    assert!(snippet.contains("<cicd-access spec=\"\"><a href="), "{snippet}");
    let embed = fs::read_to_string(site.join("embed.js")).expect("site/embed.js");
    assert!(embed.contains("?embed"), "site/embed.js builds the ?embed iframe:\n{embed}");
    let index = fs::read_to_string(site.join("index.html")).expect("site/index.html");
    let mut references = 0;
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in index.match_indices(attribute) {
            let url = &index[at + attribute.len()..];
            let url = &url[..url.find('"').expect("a closing quote")];
            assert!(
                !url.starts_with('/') && !url.contains("://"),
                "index.html refers to {url:?}: not relative, so the page breaks under a sub-path"
            );
            assert!(site.join(url).is_file(), "index.html refers to {url:?}, not in the bundle");
            references += 1;
        }
    }
    assert!(references >= 2, "index.html refers to its script and style:\n{index}");
}

/// `[package.metadata.binstall]` of crates/cli/Cargo.toml: (table, key) → value, for the
/// plain `key = "value"` lines it holds.
fn binstall_metadata() -> BTreeMap<(String, String), String> {
    let manifest =
        fs::read_to_string(workspace().join("crates/cli/Cargo.toml")).expect("Cargo.toml");
    let mut table = String::new();
    let mut metadata = BTreeMap::new();
    for line in manifest.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|line| line.strip_suffix(']')) {
            name.clone_into(&mut table);
        } else if table.starts_with("package.metadata.binstall")
            && let Some((key, value)) = line.split_once(" = ")
            && value.starts_with('"')
        {
            metadata.insert((table.clone(), key.to_owned()), value.trim_matches('"').to_owned());
        }
    }
    metadata
}

/// The URL cargo-binstall downloads for `target`.
fn binstall_url(metadata: &BTreeMap<(String, String), String>, target: &str) -> String {
    let key = |table: &str| (table.to_owned(), "pkg-url".to_owned());
    let template = metadata
        .get(&key(&format!("package.metadata.binstall.overrides.{target}")))
        .or_else(|| metadata.get(&key("package.metadata.binstall")))
        .expect("a pkg-url in [package.metadata.binstall]");
    template.replace("{ version }", VERSION).replace("{ target }", target)
}

#[test]
fn binstall_and_the_action_download_what_the_krew_manifest_names() {
    let metadata = binstall_metadata();
    let manifest = krew_manifest();
    let platforms = manifest["spec"]["platforms"].as_sequence().expect("spec.platforms");
    let uris: Vec<&str> = platforms.iter().map(|platform| text(platform, "uri")).collect();
    for archive in archives() {
        let url = binstall_url(&metadata, &archive.target);
        assert!(uris.contains(&url.as_str()), "binstall's URL for {} is {url}", archive.target);
    }
    // The hosts binstall asks for but no archive is named after get the static or mingw build.
    for (host, built) in [
        ("x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"),
        ("aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"),
        ("x86_64-pc-windows-msvc", "x86_64-pc-windows-gnu"),
    ] {
        assert_eq!(binstall_url(&metadata, host), binstall_url(&metadata, built), "for {host}");
    }
    // The Action's defaults: this release, from the manifest's repository.
    let action: Value = serde_yaml::from_str(
        &fs::read_to_string(workspace().join("action.yml")).expect("action.yml"),
    )
    .expect("action.yml is YAML");
    let default = |input: &str| text(&action["inputs"][input], "default").to_owned();
    assert_eq!(default("version"), VERSION, "action.yml installs this release by default");
    assert!(
        RELEASES.contains(&format!("github.com/{}/releases", default("repository"))),
        "action.yml downloads from the krew manifest's repository"
    );
}
