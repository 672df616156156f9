//! The log's HTTP bodies (`sigil_core::log_api`): submissions round-trip
//! through `encode_submission`/`parse_submission`, malformed submissions
//! get the codes the log answers with (a table, the same refusals the log's
//! admission makes), and the response bodies keep their wire spelling and
//! tolerate members a later server adds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use p256::ecdsa::SigningKey;
use proptest::prelude::*;
use sigil_core::entry::{CertificateEntry, EntryBody, ReleaseEntry, Revocation};
use sigil_core::log_api::{
    ConsistencyProof, EntryInfo, Health, InclusionProof, ReleaseInfo, ReleaseList,
    RevocationStatus, Submitted, encode_submission, parse_submission,
};
use sigil_core::statement::{Envelope, Release};

fn release(name: &str, version: &str, signers: usize) -> EntryBody {
    let sha = [0x5a; 32];
    let release = Release::new(name, version, sha).unwrap();
    let mut env =
        Envelope::sign_release(&release, &SigningKey::from_slice(&[1; 32]).unwrap()).unwrap();
    for i in 1..signers {
        let key = SigningKey::from_slice(&[1 + i as u8; 32]).unwrap();
        let other = Envelope::sign_release(&release, &key).unwrap();
        env.signatures.extend(other.signatures);
    }
    let chains = (0..signers)
        .map(|i| vec![format!("leaf {i}").into_bytes(), b"intermediate".to_vec()])
        .collect();
    EntryBody::Release(ReleaseEntry::from_envelope(&env, chains).unwrap())
}

/// The JSON of a valid release submission, as text (for the table's
/// release rows).
fn release_json() -> String {
    String::from_utf8(encode_submission(&release("hello", "1.0.0", 1))).unwrap()
}

#[test]
fn releases_round_trip() {
    for (name, version, signers) in [("hello", "1.0.0", 1), ("a-b_c", "0.1.0-rc.1+x", 3)] {
        let body = release(name, version, signers);
        let json = encode_submission(&body);
        assert_eq!(parse_submission(&json).unwrap(), body, "{name}@{version}");
    }
}

fn chain() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..4)
}

proptest! {
    #[test]
    fn certificates_round_trip(chain in chain()) {
        let body = EntryBody::Certificate(CertificateEntry { chain });
        prop_assert_eq!(parse_submission(&encode_submission(&body)).unwrap(), body);
    }

    #[test]
    fn revocations_round_trip(
        serial in prop::collection::vec(any::<u8>(), 0..20),
        reason in any::<u8>(),
        from_index in any::<u64>(),
        revoked_at in any::<u64>(),
        signature in prop::collection::vec(any::<u8>(), 0..80),
        signer_chain in chain(),
    ) {
        let body = EntryBody::Revocation(Revocation {
            serial, reason, from_index, revoked_at, signature, signer_chain,
        });
        prop_assert_eq!(parse_submission(&encode_submission(&body)).unwrap(), body);
    }

    /// No input panics the parser; what it accepts re-encodes to a body it
    /// parses to the same value.
    #[test]
    fn arbitrary_bytes_parse_or_refuse(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(body) = parse_submission(&bytes) {
            prop_assert_eq!(parse_submission(&encode_submission(&body)).unwrap(), body);
        }
    }
}

/// Submissions, each with the kind it parses to or the code the log
/// answers with (`400`, `SubmissionError::code`). `{RELEASE}` is replaced by
/// a valid release's members after `"kind":"release"`.
const SUBMISSIONS: &[(&str, Result<&str, &str>)] = &[
    // Not a submission at all.
    ("", Err("malformed_json")),
    ("{", Err("malformed_json")),
    ("null", Err("malformed_json")),
    ("[1,2]", Err("malformed_json")),
    (r#"{"chain":[]}"#, Err("malformed_json")),
    (r#"{"kind":1}"#, Err("malformed_json")),
    (r#"{"kind":"banana"}"#, Err("unknown_kind")),
    (r#"{"kind":"Release"}"#, Err("unknown_kind")),
    // Certificates.
    (
        r#"{"kind":"certificate","chain":["AAAA"]}"#,
        Ok("certificate"),
    ),
    (r#"{"kind":"certificate"}"#, Err("malformed_json")),
    (
        r#"{"kind":"certificate","chain":["AA=="],"x":1}"#,
        Err("malformed_json"),
    ),
    (
        r#"{"kind":"certificate","chain":"AA=="}"#,
        Err("malformed_json"),
    ),
    (
        r#"{"kind":"certificate","chain":["!!!"]}"#,
        Err("malformed_base64"),
    ),
    (
        r#"{"kind":"certificate","chain":["AA"]}"#,
        Err("malformed_base64"),
    ),
    (
        r#"{"kind":"certificate","chain":[]}"#,
        Err("malformed_chain"),
    ),
    // Revocations.
    (
        r#"{"kind":"revocation","serial":"42","reason":1,"from_index":3,"revoked_at":9,"signature":"MEQ=","signer_chain":["AA=="]}"#,
        Ok("revocation"),
    ),
    (
        r#"{"kind":"revocation","serial":"zz","reason":1,"from_index":3,"revoked_at":9,"signature":"MEQ=","signer_chain":["AA=="]}"#,
        Err("malformed_revocation"),
    ),
    (
        r#"{"kind":"revocation","serial":"42","reason":1,"from_index":3,"revoked_at":9,"signature":"!","signer_chain":["AA=="]}"#,
        Err("malformed_base64"),
    ),
    (
        r#"{"kind":"revocation","serial":"42","reason":1,"from_index":3,"revoked_at":9,"signature":"MEQ=","signer_chain":[]}"#,
        Err("malformed_chain"),
    ),
    (
        r#"{"kind":"revocation","serial":"42","reason":256,"from_index":3,"revoked_at":9,"signature":"MEQ=","signer_chain":["AA=="]}"#,
        Err("malformed_json"),
    ),
    (
        r#"{"kind":"revocation","serial":"42","reason":1,"from_index":-3,"revoked_at":9,"signature":"MEQ=","signer_chain":["AA=="]}"#,
        Err("malformed_json"),
    ),
    (
        r#"{"kind":"revocation","serial":"42","reason":1,"revoked_at":9,"signature":"MEQ=","signer_chain":["AA=="]}"#,
        Err("malformed_json"),
    ),
    // Releases.
    (r#"{"kind":"release",{RELEASE}}"#, Ok("release")),
    (
        r#"{"kind":"release",{RELEASE},"x":1}"#,
        Err("malformed_json"),
    ),
    (
        r#"{"kind":"release","envelope":{"payloadType":"x"},"chains":[]}"#,
        Err("malformed_envelope"),
    ),
    (
        r#"{"kind":"release","envelope":[],"chains":[["AA=="]]}"#,
        Err("malformed_envelope"),
    ),
    (
        r#"{"kind":"release","chains":[["AA=="]]}"#,
        Err("malformed_json"),
    ),
];

#[test]
fn submissions_parse_or_get_the_logs_code() {
    // The members of a valid release submission after its "kind".
    let members = release_json();
    let members = members
        .strip_prefix(r#"{"kind":"release","#)
        .and_then(|m| m.strip_suffix('}'))
        .unwrap()
        .to_owned();
    for (input, want) in SUBMISSIONS {
        let input = input.replace("{RELEASE}", &members);
        let got = parse_submission(input.as_bytes());
        match (&got, want) {
            (Ok(body), Ok(kind)) => {
                let kind_of = match body {
                    EntryBody::Release(_) => "release",
                    EntryBody::Certificate(_) => "certificate",
                    EntryBody::Revocation(_) => "revocation",
                    _ => "other",
                };
                assert_eq!(kind_of, *kind, "{input}");
            }
            (Err(e), Err(code)) => {
                assert_eq!(e.code(), *code, "{input}: {e}");
                assert!(!e.to_string().is_empty(), "{input}");
            }
            _ => panic!("{input}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn a_release_whose_chains_do_not_match_its_signatures_is_malformed() {
    let json = release_json();
    for chains in [r#""chains":[]"#, r#""chains":[["AA=="],["AA=="]]"#] {
        let start = json.find(r#""chains":"#).unwrap();
        let broken = format!("{}{chains}}}", &json[..start]);
        let e = parse_submission(broken.as_bytes()).unwrap_err();
        assert_eq!(e.code(), "malformed_release", "{broken}: {e}");
    }
}

#[test]
fn responses_keep_their_wire_spelling() {
    let submitted = Submitted {
        index: 7,
        proof: "c2sp.org/tlog-proof@v1\n".into(),
    };
    assert_eq!(
        serde_json::to_string(&submitted).unwrap(),
        r#"{"index":7,"proof":"c2sp.org/tlog-proof@v1\n"}"#
    );

    let release_info = EntryInfo {
        index: 3,
        leaf_hash: [1; 32],
        entry: vec![0, 1, 2],
        kind: Some("release".into()),
        integrated_at: Some(1_767_225_600_000),
        crate_name: Some("hello".into()),
        version: Some("1.0.0".into()),
        sha256: Some([0xab; 32]),
    };
    let json = serde_json::to_string(&release_info).unwrap();
    assert!(json.contains(r#""crate":"hello""#), "{json}");
    assert!(
        json.contains(&format!(r#""sha256":"{}""#, "ab".repeat(32))),
        "{json}"
    );
    assert!(json.contains(r#""entry":"AAEC""#), "{json}");
    let undecoded = EntryInfo {
        kind: None,
        integrated_at: None,
        crate_name: None,
        version: None,
        sha256: None,
        ..release_info.clone()
    };
    let json = serde_json::to_string(&undecoded).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"index":3,"leaf_hash":"{}","entry":"AAEC"}}"#,
            "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
        )
    );

    let list = ReleaseList {
        crate_name: "hello".into(),
        releases: vec![ReleaseInfo {
            version: "1.0.0".into(),
            index: 3,
            sha256: [0xab; 32],
        }],
    };
    assert_eq!(
        serde_json::to_string(&list).unwrap(),
        format!(
            r#"{{"crate":"hello","releases":[{{"version":"1.0.0","index":3,"sha256":"{}"}}]}}"#,
            "ab".repeat(32)
        )
    );
    assert_eq!(
        serde_json::to_string(&Health {
            status: "ok".into(),
            size: 4
        })
        .unwrap(),
        r#"{"status":"ok","size":4}"#
    );

    // Round trips, and members a later server adds are ignored.
    fn round_trip<T>(value: &T)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let json = serde_json::to_value(value).unwrap();
        assert_eq!(&serde_json::from_value::<T>(json.clone()).unwrap(), value);
        let mut extended = json;
        extended
            .as_object_mut()
            .unwrap()
            .insert("added_later".into(), 1.into());
        assert_eq!(&serde_json::from_value::<T>(extended).unwrap(), value);
    }
    round_trip(&submitted);
    round_trip(&release_info);
    round_trip(&undecoded);
    round_trip(&list);
    round_trip(&InclusionProof {
        index: 1,
        size: 5,
        hashes: vec![[2; 32], [3; 32]],
    });
    round_trip(&ConsistencyProof {
        from: 2,
        to: 5,
        hashes: vec![[4; 32]],
    });
    round_trip(&RevocationStatus {
        certificate_id: [9; 32],
        from_index: 12,
        index: 14,
        proof: "c2sp.org/tlog-proof@v1\nextra AA==\nindex 14\n\ncheckpoint\n".into(),
    });
    round_trip(&Health {
        status: "ok".into(),
        size: 0,
    });
}

#[test]
fn responses_refuse_malformed_encodings() {
    // A proof hash that is not 32 bytes, hex that is not 64 digits.
    let bad_hash = r#"{"index":1,"size":5,"hashes":["AAAA"]}"#;
    assert!(serde_json::from_str::<InclusionProof>(bad_hash).is_err());
    let bad_hex = r#"{"certificate_id":"abc","from_index":1,"index":2,"proof":""}"#;
    assert!(serde_json::from_str::<RevocationStatus>(bad_hex).is_err());
    // A status without its proof is not one (the old shape).
    let unproven = format!(
        r#"{{"certificate_id":"{}","from_index":1}}"#,
        "ab".repeat(32)
    );
    assert!(serde_json::from_str::<RevocationStatus>(&unproven).is_err());
    let upper = format!(
        r#"{{"certificate_id":"{}","from_index":1,"index":2,"proof":""}}"#,
        "AB".repeat(32)
    );
    assert_eq!(
        serde_json::from_str::<RevocationStatus>(&upper)
            .unwrap()
            .certificate_id,
        [0xab; 32],
        "hex is read in either case"
    );
}
