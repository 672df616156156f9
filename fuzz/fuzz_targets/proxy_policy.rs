//! `sigil proxy`'s policy file: TOML from the user, read strictly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_client::proxy_policy::Policy;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(policy) = Policy::parse(text)
    {
        // Every deny entry is name@version with both parts.
        for entry in &policy.deny {
            let (name, version) = entry.split_once('@').expect("checked");
            assert!(!name.is_empty() && !version.is_empty());
        }
    }
});
