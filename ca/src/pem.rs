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
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;

    #[test]
    fn round_trips_through_a_pem_reader() {
        for len in [0usize, 1, 47, 48, 49, 700] {
            let der: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let pem = certificate_pem(&der);
            assert!(pem.lines().all(|l| l.len() <= 64));
            let back = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
            assert_eq!(back.as_ref(), der.as_slice(), "len {len}");
        }
    }
}
