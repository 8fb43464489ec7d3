//! Certificates and keys of a test control plane, made with the `openssl` command line.
//!
//! Shelling out keeps the harness free of a TLS stack of its own; ECDSA P-256 keys are
//! generated in milliseconds, an RSA 2048 key in about a tenth of a second, so a fresh PKI
//! per control plane costs nothing noticeable.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Files of the PKI, all PEM.
#[derive(Debug, Clone)]
pub(crate) struct Pki {
    pub ca_cert: PathBuf,
    pub serving_cert: PathBuf,
    pub serving_key: PathBuf,
    /// Private key that signs `ServiceAccount` tokens (API server and token controller).
    pub service_account_key: PathBuf,
    /// Its public half, which the API server verifies tokens with.
    pub service_account_public_key: PathBuf,
}

/// The key that signs ServiceAccount tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKey {
    /// RSA 2048, kubeadm's default. Its PKCS#1 v1.5 signatures are deterministic: the same
    /// claims give the same token, which is what makes re-issued legacy tokens equal.
    Rsa,
    /// ECDSA P-256: randomised signatures, so even equal claims give new tokens.
    Ec,
}

const EC_KEY: [&str; 2] = ["-newkey", "ec"];
const P256: [&str; 2] = ["-pkeyopt", "ec_paramgen_curve:prime256v1"];

impl Pki {
    /// Writes a CA, a serving certificate for 127.0.0.1/localhost signed by it, and a
    /// `ServiceAccount` key pair into `dir`.
    pub fn create(dir: &Path, signing: SigningKey) -> Result<Pki> {
        fs::create_dir_all(dir)?;
        let path = |name: &str| dir.join(name);
        let ca_key = path("ca.key");
        let ca_cert = path("ca.crt");
        openssl(&[
            &["req", "-x509", "-nodes", "-days", "3650"][..],
            &EC_KEY,
            &P256,
            &["-subj", "/CN=cicd-access-test-ca"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            &["-keyout", s(&ca_key)?, "-out", s(&ca_cert)?],
        ])?;

        let serving_key = path("apiserver.key");
        let serving_csr = path("apiserver.csr");
        let serving_cert = path("apiserver.crt");
        let extensions = path("apiserver.ext");
        // The in-cluster names are there because a real API server certificate has them;
        // the tests themselves only ever dial 127.0.0.1.
        fs::write(
            &extensions,
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\n\
             subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,\
             DNS:kubernetes.default,DNS:kubernetes.default.svc,\
             DNS:kubernetes.default.svc.cluster.local\n",
        )?;
        openssl(&[
            &["req", "-new", "-nodes"][..],
            &EC_KEY,
            &P256,
            &["-subj", "/CN=kube-apiserver"],
            &["-keyout", s(&serving_key)?, "-out", s(&serving_csr)?],
        ])?;
        openssl(&[
            &["x509", "-req", "-days", "3650", "-set_serial", "2"][..],
            &["-in", s(&serving_csr)?, "-CA", s(&ca_cert)?, "-CAkey", s(&ca_key)?],
            &["-extfile", s(&extensions)?, "-out", s(&serving_cert)?],
        ])?;

        let service_account_key = path("sa.key");
        let service_account_public_key = path("sa.pub");
        match signing {
            SigningKey::Ec => openssl(&[
                &["genpkey", "-algorithm", "EC"][..],
                &P256,
                &["-out", s(&service_account_key)?],
            ])?,
            SigningKey::Rsa => openssl(&[
                &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
                &["-out", s(&service_account_key)?],
            ])?,
        }
        openssl(&[
            &["pkey", "-pubout", "-in", s(&service_account_key)?][..],
            &["-out", s(&service_account_public_key)?],
        ])?;

        Ok(Pki {
            ca_cert,
            serving_cert,
            serving_key,
            service_account_key,
            service_account_public_key,
        })
    }
}

fn s(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("path is not UTF-8: {}", path.display()))
}

fn openssl(parts: &[&[&str]]) -> Result<()> {
    let args: Vec<&str> = parts.concat();
    let output = Command::new("openssl")
        .args(&args)
        .output()
        .context("could not run `openssl`; install it (Debian: apt-get install openssl)")?;
    if !output.status.success() {
        bail!(
            "`openssl {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
