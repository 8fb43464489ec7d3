//! cicd-access core: every decision, no I/O. Builds natively and for `wasm32-unknown-unknown`.
//!
//! The page and `kubectl-cicd` are thin adapters over these functions, so the same input
//! gives byte-identical manifests, script and kubeconfig in both.

// Re-enabled here so the list in clippy.toml binds the core (no fs, env, process, clock).
#![warn(clippy::disallowed_methods)]

pub mod assessment;
pub mod authenticator;
pub mod canilist;
pub mod catalog;
pub mod coverage;
pub mod credential;
pub mod derive;
pub mod draft;
pub mod duration;
pub mod forbidden;
pub mod input;
pub mod keyless;
pub mod kubeconfig;
pub mod lint;
pub mod manifest;
pub mod outputs;
pub mod ownership;
pub mod preset;
pub mod remedy;
pub mod requirements;
pub mod rule_syntax;
pub mod rules_review;
pub mod script;
pub mod share;
pub mod snippet;
pub mod spec;
pub mod status;
pub mod summary;
pub mod time;
pub mod validate;
pub mod verify;
pub mod yaml;

pub use duration::TokenDuration;
pub use spec::{AccessSpec, KeylessIdentity, Provider, Rule, TokenKind};
