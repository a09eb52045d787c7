//! Arbitrary text as a JSON and as a YAML manifest; whatever parses is
//! serialized back (it must read back equal) and compiled.

#![no_main]

use libfuzzer_sys::fuzz_target;
use remotemedia_core::Manifest;
use remotemedia_fuzz::{compile_and_check, instantiate};

fuzz_target!(|data: &[u8]| {
    // Manifest files are read as UTF-8 text; anything else never gets here.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [Manifest::from_json(text), Manifest::from_yaml(text)] {
        match parsed {
            Ok(manifest) => {
                let json = manifest.to_json();
                let again =
                    Manifest::from_json(&json).unwrap_or_else(|e| panic!("to_json output refused: {e}\n{json}"));
                assert_eq!(again, manifest, "JSON round trip changed the manifest");
                if let Ok(pipeline) = compile_and_check(manifest) {
                    instantiate(&pipeline);
                }
            }
            Err(e) => assert!(!e.to_string().is_empty(), "empty parse error: {e:?}"),
        }
    }
});
