//! Manifests for derivation (`--from-manifests`, the page's derive panel): no panic, bounded
//! work, for every deployer and option; what is derived is a Role the core itself accepts.
#![no_main]

use cicd_access_core::derive::{Deployer, DeriveOptions, HelmWait, Source, derive};
use cicd_access_core::validate::validate_rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let deployer = match flags % 3 {
        0 => Deployer::Apply,
        1 => Deployer::ServerSide,
        _ => Deployer::Helm,
    };
    let mut options = DeriveOptions::new(deployer);
    options.delete = flags & 0x04 != 0;
    options.prune = flags & 0x08 != 0;
    options.rollback = flags & 0x10 != 0;
    options.wait = match (flags >> 5) % 3 {
        0 => HelmWait::None,
        1 => HelmWait::Legacy,
        _ => HelmWait::Watcher,
    };
    if flags & 0x80 != 0 {
        options.namespace = Some("dev".to_owned());
    }
    let derivation = match derive(&[Source::new("fuzz.yaml", text)], &options) {
        Ok(derivation) => derivation,
        Err(error) => {
            let _ = error.to_string();
            return;
        }
    };
    let rules = derivation.rules();
    // No rules (nothing deployable was found) is an empty Role, which validation rightly
    // refuses; every rule that is derived must pass it.
    if !rules.is_empty() {
        let problems = validate_rules(&rules);
        assert!(
            problems.is_empty(),
            "a derived Role the core refuses: {problems:?} from {rules:?}"
        );
    }
    let _ = derivation.explain();
    let _ = derivation.is_complete();
});
