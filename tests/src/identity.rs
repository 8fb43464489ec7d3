//! The static-token identities of a test control plane and their kubeconfig files.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::control_plane::random_hex;
use crate::kubectl::Kubectl;

/// A user of the control plane's static token file, with a kubeconfig file of its own.
#[derive(Debug, Clone)]
pub struct Identity {
    name: String,
    groups: Vec<String>,
    token: String,
    kubeconfig: PathBuf,
    home: PathBuf,
}

impl Identity {
    pub(crate) fn new(name: &str, groups: &[&str]) -> Identity {
        Identity {
            name: name.to_owned(),
            groups: groups.iter().map(|group| (*group).to_owned()).collect(),
            token: random_hex(),
            kubeconfig: PathBuf::new(),
            home: PathBuf::new(),
        }
    }

    /// The line of the API server's `--token-auth-file`: `token,user,uid[,"groups"]`.
    pub(crate) fn token_file_line(&self) -> String {
        let mut line = format!("{},{},{}", self.token, self.name, self.name);
        if !self.groups.is_empty() {
            let _ = write!(line, ",\"{}\"", self.groups.join(","));
        }
        line.push('\n');
        line
    }

    /// Writes `<dir>/<name>.kubeconfig` (context `<name>`, namespace `default`).
    pub(crate) fn write_kubeconfig(
        mut self,
        dir: &Path,
        server: &str,
        ca_cert: &Path,
        home: &Path,
    ) -> Result<Identity> {
        // JSON strings are YAML strings, and quote whatever a path may hold.
        let quote = |text: &str| serde_json::Value::from(text).to_string();
        let name = quote(&self.name);
        let kubeconfig = format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: test\n  \
               cluster:\n    \
                 server: {server}\n    \
                 certificate-authority: {ca}\n\
             contexts:\n\
             - name: {name}\n  \
               context:\n    \
                 cluster: test\n    \
                 user: {name}\n    \
                 namespace: default\n\
             current-context: {name}\n\
             users:\n\
             - name: {name}\n  \
               user:\n    \
                 token: {token}\n",
            server = quote(server),
            ca = quote(&ca_cert.to_string_lossy()),
            token = quote(&self.token),
        );
        self.kubeconfig = dir.join(format!("{}.kubeconfig", self.name));
        fs::write(&self.kubeconfig, kubeconfig)?;
        self.home = home.to_path_buf();
        Ok(self)
    }

    /// The user name the API server sees.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The groups of the token file (besides `system:authenticated`, which every
    /// authenticated user has).
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// The bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// `kubectl` as this identity, in namespace `default` unless told otherwise.
    pub fn kubectl(&self) -> Kubectl {
        Kubectl::new(self.kubeconfig.clone(), self.home.clone())
    }
}
