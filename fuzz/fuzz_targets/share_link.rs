//! Share-link fragments and imported files (the page's `#spec=…` and "Import spec"): no
//! panic, bounded work; a spec read from a link makes a link that reads back the same.
#![no_main]

use cicd_access_core::share::{decode_link, encode_link, import_spec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match decode_link(text) {
        Ok(Some(spec)) => {
            if let Ok(fragment) = encode_link(&spec) {
                assert_eq!(decode_link(&fragment), Ok(Some(spec)), "a link lost its spec");
            }
        }
        Ok(None) => {
            let fragment = text.strip_prefix('#').unwrap_or(text);
            assert!(!fragment.split('&').any(|part| part.starts_with("spec=")));
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    match import_spec(text) {
        Ok(imported) => {
            assert!(imported.pipelines >= 1);
            let _ = imported.note();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
