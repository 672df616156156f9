//! `.crate` files read by `read_package_id`: hand-made archives accepted,
//! and malformed ones (not gzip, truncated, unsafe paths, wrong manifests,
//! decompression bombs) refused with a typed error, never a panic. What
//! `sigil_cli::package` and `cargo package` write is read back in
//! `cli/tests/package.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use sigil_client::crate_file::{CrateFileError, MAX_DECOMPRESSED, MAX_ENTRIES, read_package_id};
use tar::{EntryType, Header};

const MANIFEST: &str = "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

// ---- Hand-made archives ----

/// One tar entry: raw path bytes (written straight into the header, so
/// unsafe paths survive), type, contents and link target.
struct Item<'a> {
    path: &'a [u8],
    kind: EntryType,
    data: &'a [u8],
    link: Option<&'a [u8]>,
}

fn file<'a>(path: &'a str, data: &'a [u8]) -> Item<'a> {
    Item {
        path: path.as_bytes(),
        kind: EntryType::Regular,
        data,
        link: None,
    }
}

fn link<'a>(path: &'a str, kind: EntryType, target: &'a str) -> Item<'a> {
    Item {
        path: path.as_bytes(),
        kind,
        data: b"",
        link: Some(target.as_bytes()),
    }
}

fn header(item: &Item<'_>) -> Header {
    let mut h = Header::new_gnu();
    let name = &mut h.as_old_mut().name;
    name[..item.path.len()].copy_from_slice(item.path);
    if let Some(target) = item.link {
        h.as_old_mut().linkname[..target.len()].copy_from_slice(target);
    }
    h.set_entry_type(item.kind);
    h.set_size(item.data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

fn tar_bytes(items: &[Item<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for item in items {
        b.append(&header(item), item.data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn crate_of(items: &[Item<'_>]) -> Vec<u8> {
    gzip(&tar_bytes(items))
}

fn good_items() -> Vec<Item<'static>> {
    vec![
        file("hello-0.1.0/Cargo.toml", MANIFEST.as_bytes()),
        file("hello-0.1.0/src/lib.rs", b"//! hello\n"),
    ]
}

#[test]
fn hand_made_good_crate_is_accepted() {
    let mut items = good_items();
    items.push(Item {
        path: b"hello-0.1.0/src/",
        kind: EntryType::Directory,
        data: b"",
        link: None,
    });
    items.push(link("hello-0.1.0/lib.rs", EntryType::Symlink, "src/lib.rs"));
    items.push(link(
        "hello-0.1.0/src/again.rs",
        EntryType::Link,
        "hello-0.1.0/src/lib.rs",
    ));
    assert_eq!(
        read_package_id(&crate_of(&items)).unwrap().dir_name(),
        "hello-0.1.0"
    );
}

fn refused(bytes: &[u8]) -> CrateFileError {
    match read_package_id(bytes) {
        Ok(id) => panic!("accepted {id}"),
        Err(e) => {
            // Every message is one readable line or more, never empty.
            assert!(!e.to_string().is_empty());
            e
        }
    }
}

fn refused_items(items: &[Item<'_>]) -> CrateFileError {
    refused(&crate_of(items))
}

#[test]
fn not_gzip() {
    for input in [&b""[..], b"\x1f", b"PK\x03\x04zip", MANIFEST.as_bytes()] {
        let e = refused(input);
        assert!(matches!(e, CrateFileError::NotGzip), "{e}");
        assert_eq!(
            e.to_string(),
            "not a gzip file: is this a .crate made by `cargo package`?"
        );
    }
}

#[test]
fn gzip_of_garbage_and_corrupt_gzip() {
    let e = refused(&gzip(&[0x55; 4096]));
    assert!(matches!(e, CrateFileError::Tar { .. }), "{e}");
    let e = refused(&gzip(b""));
    assert!(matches!(e, CrateFileError::Empty), "{e}");
    // Damage the deflate data of a good crate.
    let mut bytes = crate_of(&good_items());
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    bytes[mid + 1] ^= 0xff;
    let e = refused(&bytes);
    assert!(
        matches!(e, CrateFileError::Gzip { .. } | CrateFileError::Tar { .. }),
        "{e}"
    );
}

#[test]
fn every_truncation_is_refused() {
    let bytes = crate_of(&good_items());
    for len in 0..bytes.len() {
        let e = refused(&bytes[..len]);
        assert!(
            matches!(
                e,
                CrateFileError::NotGzip
                    | CrateFileError::Gzip { .. }
                    | CrateFileError::Tar { .. }
                    | CrateFileError::Empty
                    | CrateFileError::NoManifest { .. }
            ),
            "length {len}: {e}"
        );
    }
}

#[test]
fn corrupted_crc_is_refused() {
    let mut bytes = crate_of(&good_items());
    let n = bytes.len();
    bytes[n - 8] ^= 1; // the CRC-32 in the gzip trailer
    assert!(matches!(refused(&bytes), CrateFileError::Gzip { .. }));
}

#[test]
fn two_top_directories() {
    let mut items = good_items();
    items.push(file("other-0.1.0/src/lib.rs", b""));
    let e = refused_items(&items);
    assert!(matches!(e, CrateFileError::TwoTopDirs { .. }), "{e}");
}

#[test]
fn unsafe_paths() {
    let cases: [(&[u8], &str); 9] = [
        (b"hello-0.1.0/../x", "`..`"),
        (b"../x", "`..`"),
        (b"/etc/passwd", "absolute"),
        (b"hello-0.1.0/./x", "`.`"),
        (b"hello-0.1.0//x", "empty component"),
        (b"hello-0.1.0\\..\\x", "backslash"),
        (b"hello-0.1.0/\xff", "UTF-8"),
        (b"README", "top directory"),
        (b"hello-0.1.0/src/lib.rs/", "empty component"),
    ];
    for (path, why) in cases {
        let mut items = good_items();
        items.push(Item {
            path,
            kind: EntryType::Regular,
            data: b"x",
            link: None,
        });
        let e = refused_items(&items);
        assert!(matches!(e, CrateFileError::BadPath { .. }), "{e}");
        assert!(e.to_string().contains(why), "{e} should say {why}");
    }
}

#[test]
fn links_escaping_the_top_directory() {
    for (kind, target) in [
        (EntryType::Symlink, "../../etc/passwd"),
        (EntryType::Symlink, "/etc/passwd"),
        (EntryType::Symlink, ".."),
        (EntryType::Symlink, "../../other-0.1.0/x"),
        (EntryType::Symlink, "../../hello-0.1.0/../x"),
        (EntryType::Link, "../x"),
        (EntryType::Link, "other/x"),
        (EntryType::Link, "hello-0.1.0"),
        (EntryType::Symlink, ""),
    ] {
        let mut items = good_items();
        items.push(link("hello-0.1.0/src/evil", kind, target));
        let e = refused_items(&items);
        assert!(
            matches!(e, CrateFileError::LinkEscapes { .. }),
            "{kind:?} {target}: {e}"
        );
    }
}

#[test]
fn special_files_and_duplicates() {
    let mut items = good_items();
    items.push(Item {
        path: b"hello-0.1.0/pipe",
        kind: EntryType::Fifo,
        data: b"",
        link: None,
    });
    assert!(matches!(
        refused_items(&items),
        CrateFileError::UnsupportedEntry { kind: "FIFO", .. }
    ));

    let mut items = good_items();
    items.push(file(
        "hello-0.1.0/Cargo.toml",
        b"[package]\nname = \"evil\"\n",
    ));
    assert!(matches!(
        refused_items(&items),
        CrateFileError::Duplicate { .. }
    ));
}

#[test]
fn manifest_problems() {
    let with_manifest = |m: &'static [u8]| {
        refused_items(&[
            file("hello-0.1.0/Cargo.toml", m),
            file("hello-0.1.0/src/lib.rs", b""),
        ])
    };
    let e = refused_items(&[file("hello-0.1.0/src/lib.rs", b"")]);
    assert!(matches!(e, CrateFileError::NoManifest { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "hello-0.1.0/Cargo.toml is missing: every .crate has one"
    );

    let e = with_manifest(b"[workspace]\nmembers = []\n");
    assert!(matches!(e, CrateFileError::NoPackageTable { .. }), "{e}");
    let e = with_manifest(b"[package\nname = 1");
    assert!(matches!(e, CrateFileError::ManifestToml { .. }), "{e}");
    assert!(e.to_string().contains("line 1"), "{e}");
    let e = with_manifest(b"\xff\xfe");
    assert!(matches!(e, CrateFileError::ManifestNotUtf8 { .. }), "{e}");
    let e = with_manifest(b"[package]\nname = \"hello\"\n");
    assert!(
        matches!(
            e,
            CrateFileError::MissingField {
                field: "version",
                ..
            }
        ),
        "{e}"
    );
    let e = with_manifest(b"[package]\nname = \"hello\"\nversion.workspace = true\n");
    assert!(
        matches!(
            e,
            CrateFileError::InheritedField {
                field: "version",
                ..
            }
        ),
        "{e}"
    );
    let e = with_manifest(b"[package]\nname = \"hello\"\nversion = 1\n");
    assert!(
        matches!(
            e,
            CrateFileError::FieldNotString {
                field: "version",
                ..
            }
        ),
        "{e}"
    );
    let e = with_manifest(b"[package]\nname = \"hello\"\nversion = \"0.1\"\n");
    assert!(matches!(e, CrateFileError::InvalidPackage { .. }), "{e}");
    let e = with_manifest(b"[package]\nname = \"../x\"\nversion = \"0.1.0\"\n");
    assert!(matches!(e, CrateFileError::InvalidPackage { .. }), "{e}");

    let e = with_manifest(b"[package]\nname = \"hello\"\nversion = \"0.2.0\"\n");
    assert!(matches!(e, CrateFileError::NameMismatch { .. }), "{e}");
    assert!(e.to_string().contains("\"hello-0.2.0\""), "{e}");

    let e = refused_items(&[
        Item {
            path: b"hello-0.1.0/Cargo.toml/",
            kind: EntryType::Directory,
            data: b"",
            link: None,
        },
        file("hello-0.1.0/src/lib.rs", b""),
    ]);
    assert!(matches!(e, CrateFileError::ManifestNotFile { .. }), "{e}");
}

/// Writes a gzip'd tar of `count` entries of `size` zero bytes each,
/// streaming, so the test itself never holds the decompressed data.
fn zero_bomb(count: usize, size: u64) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    {
        let mut m = tar::Builder::new(&mut gz);
        m.append(
            &header(&file("hello-0.1.0/Cargo.toml", MANIFEST.as_bytes())),
            MANIFEST.as_bytes(),
        )
        .unwrap();
        for i in 0..count {
            let name = format!("hello-0.1.0/zeros{i}");
            let mut h = header(&file(&name, b""));
            h.set_size(size);
            h.set_cksum();
            m.append(&h, std::io::Read::take(std::io::repeat(0), size))
                .unwrap();
        }
        m.finish().unwrap();
    }
    gz.finish().unwrap()
}

#[test]
fn decompression_bombs_are_refused() {
    // One file of zeros, over the limit: about 600 KiB compressed.
    let bomb = zero_bomb(1, MAX_DECOMPRESSED + 64 * 1024 * 1024);
    assert!(bomb.len() < 4 * 1024 * 1024, "{}", bomb.len());
    let e = refused(&bomb);
    assert!(
        matches!(e, CrateFileError::TooLarge { limit } if limit == MAX_DECOMPRESSED),
        "{e}"
    );

    // Many files, each small, together over the limit.
    let mib = 1024 * 1024;
    let e = refused(&zero_bomb(
        usize::try_from(MAX_DECOMPRESSED / mib).unwrap() + 1,
        mib,
    ));
    assert!(matches!(e, CrateFileError::TooLarge { .. }), "{e}");

    // Large but under the limit is fine: real crates unpack to 68 MB.
    assert!(read_package_id(&zero_bomb(1, 100 * mib)).is_ok());
}

#[test]
fn too_many_entries() {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    {
        let mut m = tar::Builder::new(&mut gz);
        m.append(
            &header(&file("hello-0.1.0/Cargo.toml", MANIFEST.as_bytes())),
            MANIFEST.as_bytes(),
        )
        .unwrap();
        for i in 0..MAX_ENTRIES {
            let name = format!("hello-0.1.0/f{i}");
            m.append(&header(&file(&name, b"")), &b""[..]).unwrap();
        }
        m.finish().unwrap();
    }
    let e = refused(&gz.finish().unwrap());
    assert!(matches!(e, CrateFileError::TooManyEntries { .. }), "{e}");
}

fn valid_crate() -> Vec<u8> {
    crate_of(&good_items())
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_package_id(&bytes);
    }

    #[test]
    fn random_gzip_payload_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = read_package_id(&gzip(&bytes));
    }

    #[test]
    fn mutated_crates_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = valid_crate();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let _ = read_package_id(&bytes);
    }

    #[test]
    fn mutated_tar_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut tar = tar_bytes(&good_items());
        for (at, byte) in edits {
            let i = at.index(tar.len());
            tar[i] = byte;
        }
        let _ = read_package_id(&gzip(&tar));
    }
}
