//! `sigil_core::ca_api`: every CA body round-trips through JSON, requests
//! refuse unknown members (a typo is an error), responses ignore them (a
//! server may add members), and optional members are left out when absent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::Serialize;
use serde::de::DeserializeOwned;
use sigil_core::ca_api::{
    CertificateStatus, EnrollRequest, Enrolled, InviteRequest, Invited, IssuedCertificate,
    RevocationRecord, RevokeRequest, Revoked,
};

/// Parses `json` as `T`, checks it serializes back to the same JSON value.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(json: &str) -> T {
    let value: T = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
    let back: serde_json::Value = serde_json::to_value(&value).unwrap();
    let original: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(back, original, "{json}");
    assert_eq!(
        serde_json::from_value::<T>(back).unwrap(),
        value,
        "{json}: parse(write(x)) == x"
    );
    value
}

fn issued() -> &'static str {
    r#"{"serial":"41","identity":"alice@example.org","crates":["serde"],"not_before":1,"not_after":2,"log_index":7,"der":"AA=="}"#
}

#[test]
fn every_body_round_trips() {
    let enroll: EnrollRequest =
        round_trip(r#"{"token":"sigil-enroll-abc","csr":"-----BEGIN CERTIFICATE REQUEST-----"}"#);
    assert_eq!(enroll.token, "sigil-enroll-abc");
    let enrolled: Enrolled = round_trip(
        r#"{"certificate":"LEAF","chain":"CHAIN","serial":"41","identity":"alice@example.org","crates":["serde","serde_json"],"not_before":1,"not_after":2,"log_index":3,"proof":"c2sp.org/tlog-proof@v1\n"}"#,
    );
    assert_eq!(enrolled.crates, ["serde", "serde_json"]);
    let invite: InviteRequest =
        round_trip(r#"{"identity":"alice@example.org","crates":["serde"],"ttl_seconds":3600}"#);
    assert_eq!(invite.ttl_seconds, Some(3600));
    let invited: Invited = round_trip(
        r#"{"token":"sigil-enroll-abc","identity":"alice@example.org","crates":["serde"],"expires_at":9}"#,
    );
    assert_eq!(invited.expires_at, 9);
    let revoke: RevokeRequest =
        round_trip(r#"{"serial":"41","reason":"keyCompromise","from_index":0}"#);
    assert_eq!(revoke.from_index, Some(0));
    let revoked: Revoked = round_trip(
        r#"{"serial":"41","reason":"keyCompromise","from_index":5,"revoked_at":6,"log_index":7,"proof":"p"}"#,
    );
    assert_eq!(revoked.log_index, 7);
    let cert: IssuedCertificate = round_trip(issued());
    assert_eq!(cert.der, "AA==");
    let record: RevocationRecord =
        round_trip(r#"{"serial":"41","reason":1,"from_index":5,"revoked_at":6,"log_index":7}"#);
    assert_eq!(record.reason, 1);
    let status: CertificateStatus = round_trip(&format!(
        r#"{{"certificate":{},"revocation":{{"serial":"41","reason":1,"from_index":5,"revoked_at":6,"log_index":7}}}}"#,
        issued()
    ));
    assert_eq!(status.revocation, Some(record));
    let unrevoked: CertificateStatus = round_trip(&format!(
        r#"{{"certificate":{},"revocation":null}}"#,
        issued()
    ));
    assert_eq!(unrevoked.revocation, None);
}

#[test]
fn absent_optional_members_are_left_out() {
    let invite = InviteRequest {
        identity: "a@example.org".into(),
        crates: vec!["x".into()],
        ttl_seconds: None,
    };
    assert_eq!(
        serde_json::to_string(&invite).unwrap(),
        r#"{"identity":"a@example.org","crates":["x"]}"#
    );
    let revoke = RevokeRequest {
        serial: "41".into(),
        reason: "superseded".into(),
        from_index: None,
    };
    assert_eq!(
        serde_json::to_string(&revoke).unwrap(),
        r#"{"serial":"41","reason":"superseded"}"#
    );
    let parsed: RevokeRequest =
        serde_json::from_str(r#"{"serial":"41","reason":"superseded"}"#).unwrap();
    assert_eq!(parsed, revoke);
}

/// (what, body, parses)
const REQUESTS: &[(&str, &str, bool)] = &[
    ("enroll", r#"{"token":"t","csr":"c"}"#, true),
    ("enroll", r#"{"token":"t"}"#, false),
    (
        "enroll",
        r#"{"token":"t","csr":"c","identity":"evil@example.org"}"#,
        false,
    ),
    ("enroll", r#"{"token":1,"csr":"c"}"#, false),
    ("invite", r#"{"identity":"a","crates":[]}"#, true),
    (
        "invite",
        r#"{"identity":"a","crates":["x"],"ttl":5}"#,
        false,
    ),
    ("invite", r#"{"identity":"a"}"#, false),
    (
        "invite",
        r#"{"identity":"a","crates":["x"],"ttl_seconds":-1}"#,
        false,
    ),
    ("revoke", r#"{"serial":"41","reason":"r"}"#, true),
    ("revoke", r#"{"serial":"41","reason":"r","from":3}"#, false),
    ("revoke", r#"{"serial":"41"}"#, false),
];

#[test]
fn requests_refuse_unknown_and_missing_members() {
    for (what, body, parses) in REQUESTS {
        let ok = match *what {
            "enroll" => serde_json::from_str::<EnrollRequest>(body).is_ok(),
            "invite" => serde_json::from_str::<InviteRequest>(body).is_ok(),
            "revoke" => serde_json::from_str::<RevokeRequest>(body).is_ok(),
            _ => unreachable!(),
        };
        assert_eq!(ok, *parses, "{what}: {body}");
    }
}

#[test]
fn responses_ignore_members_a_later_server_adds() {
    let invited: Invited = serde_json::from_str(
        r#"{"token":"t","identity":"a","crates":[],"expires_at":1,"issued_by":"ca-2"}"#,
    )
    .unwrap();
    assert_eq!(invited.token, "t");
    let revoked: Revoked = serde_json::from_str(
        r#"{"serial":"41","reason":"r","from_index":1,"revoked_at":2,"log_index":3,"proof":"p","note":"x"}"#,
    )
    .unwrap();
    assert_eq!(revoked.from_index, 1);
    let enrolled = serde_json::from_str::<Enrolled>(
        r#"{"certificate":"L","chain":"C","serial":"41","identity":"a","crates":[],"not_before":1,"not_after":2,"log_index":3,"proof":"p","extra":[1]}"#,
    );
    assert!(enrolled.is_ok());
}
