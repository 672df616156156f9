//! The cargo sparse index as `sigil proxy` reads it from an upstream it
//! does not trust: index paths, index files and `config.json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_client::sparse_index::{
    checksum, download_url, index_path, is_index_path, rewrite_config,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = is_index_path(text);
        // Any name, valid or not: the layout never panics.
        let _ = index_path(text);
        let _ = download_url("https://dl.example/{prefix}/{lowerprefix}", text, "1", &[0; 32]);
    }
    if let Ok(sum) = checksum(data, "fuzz", "1.0.0") {
        let _ = download_url("https://dl.example/{prefix}/{crate}", "fuzz", "1.0.0", &sum);
    }
    if let Ok((dl, rewritten)) = rewrite_config(data, "http://127.0.0.1:6964/dl") {
        // What the proxy wrote parses again, with its own dl.
        let (again, _) = rewrite_config(&rewritten, "x").expect("the rewrite is a config");
        assert_eq!(again, "http://127.0.0.1:6964/dl");
        let _ = dl;
    }
});
