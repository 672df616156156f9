//! Certificates that tools nobody here wrote accept (DESIGN.md
//! "Certificates": "Certificates must pass a real linter for RFC 5280"):
//! OpenSSL validates the chain root → intermediate → leaf, and stock
//! pkilint's RFC 5280 linters (`lint_pkix_cert`,
//! `lint_pkix_signer_signee_cert_chain`, run as pkilint installs them, no
//! workaround) find no error in any of the three nor in the issuer/subject
//! pairs (docs/certificates.md).
//!
//! Both tools come from outside Cargo: `bash .ci/run` installs `openssl`
//! (Debian) and pkilint (PyPI, in a venv) and exports `SIGIL_PKILINT`, the
//! venv's python. Without them these tests fail, unless
//! `SIGIL_SKIP_EXTERNAL_TOOLS=1` says to skip them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use p256::ecdsa::SigningKey;
use sha2::{Digest as _, Sha256};
use sigil_ca::{CaCertificate, issue_leaf, new_intermediate, new_root};
use sigil_core::pem::certificate_pem;
use sigil_core::statement::public_key_spki_der;

const DAY_MS: u64 = 86_400_000;
/// Whether the tools may be missing: `SIGIL_SKIP_EXTERNAL_TOOLS=1`.
fn skipping() -> bool {
    std::env::var_os("SIGIL_SKIP_EXTERNAL_TOOLS").is_some_and(|v| v == "1")
}

/// Fails (or, with `SIGIL_SKIP_EXTERNAL_TOOLS=1`, returns None) when
/// `tool` is missing.
fn missing<T>(tool: &str) -> Option<T> {
    let msg = format!(
        "{tool} not found: run `bash .ci/run`, which installs openssl and pkilint \
         and exports SIGIL_PKILINT, or set SIGIL_SKIP_EXTERNAL_TOOLS=1 to skip this test"
    );
    assert!(skipping(), "{msg}");
    eprintln!("SKIPPED (SIGIL_SKIP_EXTERNAL_TOOLS=1): {msg}");
    None
}

fn openssl() -> Option<&'static str> {
    match Command::new("openssl").arg("version").output() {
        Ok(out) if out.status.success() => Some("openssl"),
        _ => missing("openssl"),
    }
}

/// The python of a venv with pkilint: `$SIGIL_PKILINT`, else
/// `$HOME/.cache/sigil-pkilint/bin/python` (where `.ci/run` puts it).
fn pkilint_python() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("SIGIL_PKILINT") {
        let python = PathBuf::from(python);
        assert!(
            python.exists(),
            "SIGIL_PKILINT={} does not exist; run `bash .ci/run`",
            python.display()
        );
        return Some(python);
    }
    let default = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/sigil-pkilint/bin/python"));
    match default {
        Some(python) if python.exists() => Some(python),
        _ => missing("pkilint (SIGIL_PKILINT, or $HOME/.cache/sigil-pkilint/bin/python)"),
    }
}

fn now_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(since.as_millis()).unwrap()
}

/// A root and an intermediate valid from yesterday, as the CA makes them.
fn new_pki(name: &str, now: u64) -> (CaCertificate, CaCertificate) {
    let root = new_root(
        &format!("{name} Root"),
        now - DAY_MS,
        Duration::from_secs(3653 * 86_400),
    )
    .unwrap();
    let intermediate = new_intermediate(
        &root,
        &format!("{name} Intermediate"),
        now - DAY_MS,
        Duration::from_secs(1096 * 86_400),
    )
    .unwrap();
    (root, intermediate)
}

/// The leaves under test: each identity form and a small and a large scope.
/// Returns (file stem, certificate DER).
fn leaves(intermediate: &CaCertificate, now: u64) -> Vec<(&'static str, Vec<u8>)> {
    let key = SigningKey::from_slice(&Sha256::digest(b"external tools")).unwrap();
    let spki = public_key_spki_der(key.verifying_key()).unwrap();
    let many: Vec<String> = (0..50).map(|i| format!("crate-{i:02}")).collect();
    [
        (
            "leaf-email-1",
            "alice@example.com",
            vec!["hello".to_string()],
        ),
        ("leaf-uri-50", "https://github.com/alice", many.clone()),
        ("leaf-email-50", "bob@example.org", many),
    ]
    .into_iter()
    .map(|(stem, identity, crates)| {
        let der = issue_leaf(
            intermediate,
            &spki,
            identity,
            &crates,
            now - DAY_MS,
            now + 90 * DAY_MS,
            None,
        )
        .unwrap();
        (stem, der)
    })
    .collect()
}

fn write_pem(dir: &Path, stem: &str, der: &[u8]) -> PathBuf {
    let path = dir.join(format!("{stem}.pem"));
    std::fs::write(&path, certificate_pem(der)).unwrap();
    path
}

fn run(cmd: &mut Command) -> (bool, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.success(), text)
}

/// `openssl verify -x509_strict` of `leaf` with `root` as the only trust
/// anchor and `intermediate` as an untrusted chain certificate.
fn openssl_verify(openssl: &str, root: &Path, intermediate: &Path, leaf: &Path) -> (bool, String) {
    run(Command::new(openssl)
        .arg("verify")
        .arg("-x509_strict")
        .arg("-CAfile")
        .arg(root)
        .arg("-untrusted")
        .arg(intermediate)
        .arg(leaf))
}

#[test]
fn openssl_validates_the_chain_and_refuses_another_root() {
    let Some(openssl) = openssl() else { return };
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    let (root, intermediate) = new_pki("Sigil OpenSSL", now);
    let (other_root, _) = new_pki("Sigil Other", now);
    let root_pem = write_pem(dir.path(), "root", root.certificate_der());
    let other_root_pem = write_pem(dir.path(), "other-root", other_root.certificate_der());
    let intermediate_pem = write_pem(dir.path(), "intermediate", intermediate.certificate_der());

    for (stem, der) in leaves(&intermediate, now) {
        let leaf = write_pem(dir.path(), stem, &der);
        let (ok, out) = openssl_verify(openssl, &root_pem, &intermediate_pem, &leaf);
        assert!(ok, "openssl refuses {stem}:\n{out}");
        assert_eq!(out.trim(), format!("{}: OK", leaf.display()), "{stem}");

        let (ok, out) = openssl_verify(openssl, &other_root_pem, &intermediate_pem, &leaf);
        assert!(!ok, "openssl accepts {stem} under another root:\n{out}");
        assert!(!out.contains(": OK"), "{stem}:\n{out}");
        assert!(
            out.contains("unable to get local issuer certificate"),
            "{stem}:\n{out}"
        );
    }
}

/// What stock pkilint found in one run.
struct Lint {
    /// Every finding, one `SEVERITY code @ path` line each.
    findings: Vec<String>,
    /// How many are ERROR or FATAL.
    errors: usize,
}

/// Runs pkilint's own command `linter` (`lint_pkix_cert`, or
/// `lint_pkix_signer_signee_cert_chain` with the issuer then the subject)
/// from the venv of `python`, unchanged, asking for every finding as JSON.
/// Panics if pkilint cannot load a certificate (it prints no JSON then).
fn pkilint(python: &Path, linter: &str, certs: &[&Path]) -> Lint {
    let bin = python.parent().unwrap().join(linter);
    let (_, out) = run(Command::new(&bin)
        .args(["lint", "--severity", "ALL", "--format", "JSON"])
        .args(certs));
    let json: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("{linter} {certs:?} printed no report ({e}):\n{out}"));
    let mut lint = Lint {
        findings: Vec::new(),
        errors: 0,
    };
    for result in json["results"].as_array().unwrap() {
        for finding in result["finding_descriptions"].as_array().unwrap() {
            let severity = finding["severity"].as_str().unwrap();
            lint.errors += usize::from(matches!(severity, "ERROR" | "FATAL"));
            lint.findings.push(format!(
                "{severity} {} @ {}",
                finding["code"].as_str().unwrap(),
                result["node_path"].as_str().unwrap()
            ));
        }
    }
    eprintln!(
        "{linter} {certs:?}: {} findings, {} ERROR or FATAL\n{}",
        lint.findings.len(),
        lint.errors,
        lint.findings.join("\n")
    );
    lint
}

/// No ERROR or FATAL finding, and nothing but what docs/certificates.md
/// says pkilint reports: the INFO that names the key identifier method.
fn assert_clean(python: &Path, linter: &str, certs: &[&Path]) {
    let lint = pkilint(python, linter, certs);
    assert_eq!(lint.errors, 0, "{linter} {certs:?}:\n{:#?}", lint.findings);
    for finding in &lint.findings {
        assert!(
            finding.starts_with("INFO pkix.subject_key_identifier_rfc7093_method_1_identified "),
            "{linter} {certs:?}: unexpected finding {finding}"
        );
    }
}

const CERT: &str = "lint_pkix_cert";
const PAIR: &str = "lint_pkix_signer_signee_cert_chain";

#[test]
fn pkilint_finds_no_error_in_root_intermediate_and_leaves() {
    let Some(python) = pkilint_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    let (root, intermediate) = new_pki("Sigil pkilint", now);
    let root_pem = write_pem(dir.path(), "root", root.certificate_der());
    let intermediate_pem = write_pem(dir.path(), "intermediate", intermediate.certificate_der());

    assert_clean(&python, CERT, &[&root_pem]);
    assert_clean(&python, CERT, &[&intermediate_pem]);
    assert_clean(&python, PAIR, &[&root_pem, &root_pem]);
    assert_clean(&python, PAIR, &[&root_pem, &intermediate_pem]);
    for (stem, der) in leaves(&intermediate, now) {
        let leaf = write_pem(dir.path(), stem, &der);
        assert_clean(&python, CERT, &[&leaf]);
        assert_clean(&python, PAIR, &[&intermediate_pem, &leaf]);
    }
}

/// The lint step can fail: a leaf like Sigil's but with one mistake (its
/// subject is empty and its subjectAltName is not critical, which RFC 5280
/// §4.2.1.6 forbids), and a leaf paired with an issuer that did not sign
/// it, are errors to stock pkilint.
#[test]
fn pkilint_reports_errors_in_bad_certificates() {
    let Some(python) = pkilint_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let now = now_ms();
    let (root, intermediate) = new_pki("Sigil pkilint", now);
    let root_pem = write_pem(dir.path(), "root", root.certificate_der());

    let intermediate_key = rcgen::KeyPair::try_from(intermediate.key_pkcs8_der()).unwrap();
    let issuer =
        rcgen::Issuer::from_ca_cert_der(&intermediate.certificate_der().into(), intermediate_key)
            .unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.is_ca = rcgen::IsCa::NoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    params.use_authority_key_identifier_extension = true;
    // subjectAltName (2.5.29.17) [1] rfc822Name "alice@example.com",
    // written by hand: rcgen makes it critical when the subject is empty.
    let mut san = vec![0x30, 0x13, 0x81, 0x11];
    san.extend_from_slice(b"alice@example.com");
    params.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
        &[2, 5, 29, 17],
        san,
    )];
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let bad = params.signed_by(&leaf_key, &issuer).unwrap();
    let bad = write_pem(dir.path(), "san-not-critical", bad.der());
    let lint = pkilint(&python, CERT, &[&bad]);
    assert!(
        lint.errors > 0,
        "pkilint accepts a non-critical SAN and an empty subject"
    );
    assert!(
        lint.findings
            .iter()
            .any(|f| f.starts_with("ERROR pkix.san_extension_not_critical_empty_subject ")),
        "{:#?}",
        lint.findings
    );

    // A leaf the root did not sign, linted as if it had.
    let (_, der) = leaves(&intermediate, now).swap_remove(0);
    let leaf = write_pem(dir.path(), "leaf", &der);
    let lint = pkilint(&python, PAIR, &[&root_pem, &leaf]);
    assert!(
        lint.errors > 0,
        "pkilint accepts a leaf under the wrong issuer"
    );
    assert!(
        lint.findings
            .iter()
            .any(|f| f.starts_with("ERROR pkix.signature_verification_failed ")),
        "{:#?}",
        lint.findings
    );
}
