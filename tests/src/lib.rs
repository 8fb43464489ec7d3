//! The real Kubernetes control plane the end-to-end tests and benchmarks run against:
//! etcd, kube-apiserver and kube-controller-manager 1.20 on loopback, with real RBAC,
//! real privilege-escalation prevention and the real token controller.
//!
//! ```no_run
//! use cicd_access_core::Rule;
//! use cicd_access_tests::{Component, ControlPlane};
//!
//! // One control plane per test binary, started on first use (about 5 s).
//! let cluster = ControlPlane::shared();
//!
//! // A fresh namespace per test, so tests run in parallel.
//! let namespace = cluster.namespace();
//! namespace.admin().ok(&["create", "serviceaccount", "ci-cd"]);
//! assert!(!namespace.as_identity(cluster.nobody()).can_i("get", "pods"));
//!
//! // A tenant: `namespace-admin` holds the built-in `admin` role here and nowhere else.
//! let tenant = cluster.tenant_namespace();
//! let stderr = tenant.as_identity(cluster.namespace_admin()).apply("...a Role...").stderr;
//!
//! // An identity holding exactly these rules in one namespace.
//! let reader = cluster.user_with_rules(namespace.name(), &[Rule::new(&[""], &["pods"], &["get"])]);
//! let _ = namespace.as_identity(&reader).run(&["get", "pods"]);
//!
//! // Any program with an identity's KUBECONFIG (the CLI, a generated script).
//! let status = namespace.admin().env_command("kubectl-cicd").arg("--help").status();
//!
//! // Tests that stop components take a private control plane.
//! let private = ControlPlane::start();
//! private.stop(Component::ControllerManager);
//! private.restart(Component::ControllerManager);
//! ```
//!
//! The Kubernetes binaries come from `cargo xtask install` (also run by `cargo xtask test`),
//! which builds and caches them in `~/.cache/cicd-access/kubernetes-VERSION/`, VERSION being
//! `KUBERNETES` in `crates/xtask/versions.env` (`CICD_ACCESS_K8S_BIN` overrides the directory,
//! `CICD_ACCESS_ETCD` the etcd binary). `kubectl` and `openssl` are taken from `PATH`. When
//! one is missing, the test binary stops with one line saying how to install it
//! ([`prerequisites`]).

mod addons;
mod control_plane;
mod identity;
mod kubectl;
mod oidc;
mod pki;
pub mod prerequisites;
mod process;

pub use control_plane::{Component, ControlPlane, TestNamespace, USER_POOL_SIZE, poll};
pub use identity::Identity;
pub use kubectl::{Kubectl, Output, run};
pub use oidc::{GithubJob, GitlabJob, OidcIssuer};
pub use pki::SigningKey;
