//! The real Kubernetes control plane the end-to-end tests and benchmarks run against:
//! etcd, kube-apiserver and kube-controller-manager 1.20 on loopback, with real RBAC,
//! real privilege-escalation prevention and the real token controller.
//!
//! ```no_run
//! use cicd_access_tests::ControlPlane;
//!
//! let cluster = ControlPlane::shared();
//! let namespace = cluster.namespace();
//! let admin = namespace.admin();
//! admin.ok(&["create", "serviceaccount", "ci-cd"]);
//! assert!(!namespace.as_identity(cluster.nobody()).can_i("get", "pods"));
//! ```
//!
//! The binaries come from `cargo xtask test`, which builds and caches them.

mod addons;
mod control_plane;
mod identity;
mod kubectl;
mod pki;
mod process;

pub use control_plane::{
    Component, ControlPlane, KUBERNETES_VERSION, TestNamespace, USER_POOL_SIZE, poll,
};
pub use identity::Identity;
pub use kubectl::{Kubectl, Output, run};
