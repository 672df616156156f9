//! PEM text for certificates (RFC 7468 §5: `CERTIFICATE` blocks, base64 in
//! lines of 64 characters), the form `--ca-root` files and trust roots use.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// One DER certificate as a PEM `CERTIFICATE` block, ending in a newline.
pub fn certificate_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 60);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    // Base64 is ASCII, so splitting at any byte offset is a char boundary.
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lines_of_64_between_the_labels() {
        for len in [0usize, 1, 47, 48, 49, 700] {
            let der: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let pem = certificate_pem(&der);
            let lines: Vec<&str> = pem.lines().collect();
            assert_eq!(lines.first(), Some(&"-----BEGIN CERTIFICATE-----"));
            assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
            let body = &lines[1..lines.len() - 1];
            assert!(body.iter().all(|l| l.len() <= 64));
            assert!(body.iter().rev().skip(1).all(|l| l.len() == 64));
            assert_eq!(STANDARD.decode(body.concat()).unwrap(), der, "len {len}");
            assert!(pem.ends_with('\n'));
        }
    }
}
