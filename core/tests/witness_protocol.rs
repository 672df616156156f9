//! C2SP tlog-witness `add-checkpoint` bodies: strict parsing (a table of
//! malformed requests and responses), and encode/parse round trips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use sigil_core::note::NoteSignature;
use sigil_core::witness_protocol::{
    AddCheckpoint, MAX_PROOF_LINES, WitnessProtocolError as E, encode_add_checkpoint,
    format_cosignature_response, format_size_response, parse_add_checkpoint,
    parse_cosignature_response, parse_size_response,
};

const HASH: &str = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=";
const NOTE: &str = "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/log AAAAAAE=\n";

/// Malformed request bodies (the `{NOTE}` marker is replaced by a note),
/// each with the error it must produce.
const MALFORMED_REQUESTS: &[(&str, E)] = &[
    ("", E::BadOldSize),
    ("old 5", E::BadOldSize),
    ("old5\n\n{NOTE}", E::BadOldSize),
    ("old  5\n\n{NOTE}", E::BadOldSize),
    ("old 05\n\n{NOTE}", E::BadOldSize),
    ("old +5\n\n{NOTE}", E::BadOldSize),
    ("old -1\n\n{NOTE}", E::BadOldSize),
    ("old \n\n{NOTE}", E::BadOldSize),
    ("old 5 \n\n{NOTE}", E::BadOldSize),
    ("old 5\r\n\n{NOTE}", E::BadOldSize),
    ("OLD 5\n\n{NOTE}", E::BadOldSize),
    ("old 18446744073709551616\n\n{NOTE}", E::BadOldSize),
    ("\nold 5\n\n{NOTE}", E::BadOldSize),
    ("old 5\n", E::MissingBlankLine),
    ("old 5\n{HASH}\n", E::MissingBlankLine),
    ("old 5\n{HASH}", E::MissingBlankLine),
    ("old 5\n\n", E::MissingCheckpoint),
    ("old 5\n{HASH}\n\n", E::MissingCheckpoint),
    ("old 5\nnot base64\n\n{NOTE}", E::BadProofLine { line: 2 }),
    (
        "old 5\n{HASH}\n{HASH} \n\n{NOTE}",
        E::BadProofLine { line: 3 },
    ),
    ("old 5\n{HASH}\r\n\n{NOTE}", E::BadProofLine { line: 2 }),
    // 31 bytes, 33 bytes, unpadded, non-canonical trailing bits.
    (
        "old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka==\n\n{NOTE}",
        E::BadProofLine { line: 2 },
    ),
    (
        "old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkawA\n\n{NOTE}",
        E::BadProofLine { line: 2 },
    ),
    (
        "old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw\n\n{NOTE}",
        E::BadProofLine { line: 2 },
    ),
    (
        "old 5\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkax=\n\n{NOTE}",
        E::BadProofLine { line: 2 },
    ),
    ("old 0\n{HASH}\n\n{NOTE}", E::ProofFromEmptyTree),
];

#[test]
fn malformed_requests_are_refused() {
    for (input, expected) in MALFORMED_REQUESTS {
        let body = input.replace("{NOTE}", NOTE).replace("{HASH}", HASH);
        assert_eq!(
            parse_add_checkpoint(body.as_bytes()).as_ref(),
            Err(expected),
            "input {input:?}"
        );
    }
}

#[test]
fn sixty_three_proof_lines_but_not_sixty_four() {
    let line = format!("{HASH}\n");
    let ok = format!("old 5\n{}\n{NOTE}", line.repeat(MAX_PROOF_LINES));
    assert_eq!(parse_add_checkpoint(ok.as_bytes()).unwrap().proof.len(), 63);
    let bad = format!("old 5\n{}\n{NOTE}", line.repeat(MAX_PROOF_LINES + 1));
    assert_eq!(
        parse_add_checkpoint(bad.as_bytes()),
        Err(E::TooManyProofLines)
    );
}

#[test]
fn the_note_is_kept_byte_for_byte_even_if_not_text() {
    let mut body = b"old 0\n\n".to_vec();
    body.extend_from_slice(b"\xff\x00anything");
    let parsed = parse_add_checkpoint(&body).unwrap();
    assert_eq!(parsed.note, b"\xff\x00anything");
    assert!(parsed.proof.is_empty());
}

/// Malformed `200` bodies.
const MALFORMED_RESPONSES: &[(&str, E)] = &[
    ("", E::NoSignatures),
    ("\n", E::BadSignatureLine { line: 1 }),
    (
        "\u{2014} w.example AAAAAAE=",
        E::BadSignatureLine { line: 1 },
    ),
    ("- w.example AAAAAAE=\n", E::BadSignatureLine { line: 1 }),
    (
        "\u{2014}w.example AAAAAAE=\n",
        E::BadSignatureLine { line: 1 },
    ),
    ("\u{2014} w.example\n", E::BadSignatureLine { line: 1 }),
    ("\u{2014} w+x AAAAAAE=\n", E::BadSignatureLine { line: 1 }),
    (
        "\u{2014} w.example AAAAAA==\n",
        E::BadSignatureLine { line: 1 },
    ),
    (
        "\u{2014} w.example AAAAAAE\n",
        E::BadSignatureLine { line: 1 },
    ),
    (
        "\u{2014} w.example AAAAAAE= x\n",
        E::BadSignatureLine { line: 1 },
    ),
    (
        "\u{2014} w.example AAAAAAE=\r\n",
        E::BadSignatureLine { line: 1 },
    ),
    (
        "\u{2014} w.example AAAAAAE=\n\n",
        E::BadSignatureLine { line: 2 },
    ),
    (
        "\u{2014} w.example AAAAAAE=\nfoo\n",
        E::BadSignatureLine { line: 2 },
    ),
    (
        "\u{2014} w.example AAAAAAE=\n\u{2014} v AAAAAAE=",
        E::BadSignatureLine { line: 2 },
    ),
];

#[test]
fn malformed_responses_are_refused() {
    for (input, expected) in MALFORMED_RESPONSES {
        assert_eq!(
            parse_cosignature_response(input.as_bytes()).as_ref(),
            Err(expected),
            "input {input:?}"
        );
    }
    let many = "\u{2014} w.example AAAAAAE=\n".repeat(101);
    assert_eq!(
        parse_cosignature_response(many.as_bytes()),
        Err(E::TooManySignatures)
    );
    assert_eq!(
        parse_cosignature_response(b"\xe2\x80\x94 w AAAAAAE=\n\xff\n"),
        Err(E::BadSignatureLine { line: 2 })
    );
}

#[test]
fn the_spec_response_example_parses() {
    let body = "\u{2014} witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n\
                \u{2014} witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n\
                \u{2014} witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n";
    let sigs = parse_cosignature_response(body.as_bytes()).unwrap();
    assert_eq!(sigs.len(), 3);
    assert_eq!(sigs[0].name, "witness.example/w1");
    assert_eq!(sigs[0].key_id, 0x08ca7ee8);
    assert_eq!(sigs[2].name, "witness.example/w2");
    assert_eq!(sigs[2].signature.len(), 72);
    assert_eq!(format_cosignature_response(&sigs), body);
}

#[test]
fn size_bodies() {
    assert_eq!(format_size_response(20852014), "20852014\n");
    assert_eq!(parse_size_response(b"20852014\n"), Ok(20852014));
    assert_eq!(parse_size_response(b"0\n"), Ok(0));
    for bad in [
        &b""[..],
        b"\n",
        b"5",
        b"05\n",
        b"5\n\n",
        b" 5\n",
        b"5\r\n",
        b"-1\n",
    ] {
        assert_eq!(parse_size_response(bad), Err(E::BadSizeBody), "{bad:?}");
    }
}

proptest! {
    #[test]
    fn requests_round_trip(
        old_size in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..=MAX_PROOF_LINES),
        note in proptest::collection::vec(any::<u8>(), 1..300),
    ) {
        let proof = if old_size == 0 { Vec::new() } else { proof };
        let body = encode_add_checkpoint(old_size, &proof, &note);
        prop_assert_eq!(
            parse_add_checkpoint(&body),
            Ok(AddCheckpoint { old_size, proof, note })
        );
    }

    #[test]
    fn parsing_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_add_checkpoint(&body);
        let _ = parse_cosignature_response(&body);
        let _ = parse_size_response(&body);
    }

    #[test]
    fn responses_round_trip(
        sigs in proptest::collection::vec(
            ("[a-z./]{1,20}", any::<u32>(), proptest::collection::vec(any::<u8>(), 1..80)),
            1..5,
        ),
    ) {
        let sigs: Vec<NoteSignature> = sigs
            .into_iter()
            .map(|(name, key_id, signature)| NoteSignature { name, key_id, signature })
            .collect();
        let body = format_cosignature_response(&sigs);
        prop_assert_eq!(parse_cosignature_response(body.as_bytes()), Ok(sigs));
    }

    #[test]
    fn sizes_round_trip(size in any::<u64>()) {
        prop_assert_eq!(parse_size_response(format_size_response(size).as_bytes()), Ok(size));
    }
}
