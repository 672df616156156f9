//! Issue 12, end to end with real cargo: `sigil proxy` between cargo and a
//! sparse registry the test builds (a static server of index files and
//! `.crate`s packaged from test crates, some signed through the real CA
//! and log, some not). Cargo goes through the proxy by source replacement
//! with its own `CARGO_HOME`, and no network beyond 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod world;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest as _, Sha256};
use sigil_e2e::static_server::StaticServer;
use sigil_e2e::{Server, command};
use world::{World, p};

/// A sparse registry on disk, served by a [`StaticServer`].
struct Registry {
    root: PathBuf,
    server: StaticServer,
}

impl Registry {
    fn start(dir: &Path) -> Registry {
        let root = dir.join("registry");
        std::fs::create_dir_all(root.join("index")).unwrap();
        let server = StaticServer::start(&root).unwrap();
        std::fs::write(
            root.join("index/config.json"),
            format!("{{\"dl\":\"{}/crates\"}}", server.url),
        )
        .unwrap();
        Registry { root, server }
    }

    fn index_url(&self) -> String {
        format!("{}/index/", self.server.url)
    }

    fn index_file(&self, name: &str) -> PathBuf {
        self.root
            .join("index")
            .join(sigil_client::sparse_index::index_path(name))
    }

    /// Publishes `bytes` as `name` `version`: the `.crate` where `dl`
    /// says, and its line (with `cksum`) in the crate's index file.
    fn publish(&self, name: &str, version: &str, bytes: &[u8]) {
        let file = self.crate_path(name, version);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, bytes).unwrap();
        let cksum = hex::encode(Sha256::digest(bytes));
        let line = format!(
            "{{\"name\":\"{name}\",\"vers\":\"{version}\",\"deps\":[],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":false}}\n"
        );
        let index = self.index_file(name);
        std::fs::create_dir_all(index.parent().unwrap()).unwrap();
        let mut text = std::fs::read_to_string(&index).unwrap_or_default();
        text.push_str(&line);
        std::fs::write(&index, text).unwrap();
    }

    fn crate_path(&self, name: &str, version: &str) -> PathBuf {
        self.root
            .join("crates")
            .join(name)
            .join(version)
            .join("download")
    }
}

/// The CA, the log, a maintainer for `signed` and `later`, and the
/// registry: `signed` 1.0.0 (signed), `plain` 1.0.0 (never signed),
/// `later` 1.0.0 (signed) and 1.1.0 (not signed).
struct Setup {
    w: World,
    registry: Registry,
}

fn setup() -> Setup {
    let w = World::start("90d");
    let registry = Registry::start(w.dir.path());
    let (key, cert) = w.maintainer("alice", &["signed", "later"]);
    for (name, version, sign) in [
        ("signed", "1.0.0", true),
        ("plain", "1.0.0", false),
        ("later", "1.0.0", true),
        ("later", "1.1.0", false),
    ] {
        let body = format!("pub fn {name}() -> &'static str {{ \"{version}\" }}\n");
        let file = w.package(name, version, &body);
        if sign {
            let out = w.sign(&key, &cert, &file, &w.log.url);
            assert!(out.status.success(), "{}", world::stderr(&out));
        }
        registry.publish(name, version, &std::fs::read(&file).unwrap());
    }
    Setup { w, registry }
}

impl Setup {
    fn proxy(&self, extra: &[&str]) -> Server {
        let mut c = command("sigil").unwrap();
        c.args(["proxy", "--listen", "127.0.0.1:0"])
            .args(["--upstream", &self.registry.index_url()])
            .args(["--trust-root", p(&self.w.path("trust.json"))])
            .args(["--sigil-home", p(&self.w.path("proxy-home"))])
            .args(extra)
            .env("SIGIL_LOG", "info");
        Server::start(c).unwrap()
    }

    /// A project depending on `deps` (`name = "=version"`), with cargo
    /// sent through `proxy`.
    fn project(&self, name: &str, deps: &[(&str, &str)], proxy: &Server) -> PathBuf {
        let dir = self.bare_project(name, deps);
        std::fs::create_dir_all(dir.join(".cargo")).unwrap();
        std::fs::write(
            dir.join(".cargo/config.toml"),
            sigil_cli::proxy::cargo_config(&proxy.url),
        )
        .unwrap();
        dir
    }

    /// A project depending on `deps`, with no cargo configuration.
    fn bare_project(&self, name: &str, deps: &[(&str, &str)]) -> PathBuf {
        let dir = self.w.path(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let mut manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n"
        );
        for (dep, version) in deps {
            manifest.push_str(&format!("{dep} = \"={version}\"\n"));
        }
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "").unwrap();
        dir
    }

    /// `cargo <args>` in `project` with the test's own cargo home and
    /// target directory.
    fn cargo(&self, project: &Path, args: &[&str]) -> Output {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        Command::new(cargo)
            .args(args)
            .current_dir(project)
            .env("CARGO_HOME", self.w.path("cargo-home"))
            .env("CARGO_TARGET_DIR", project.join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn cargo_builds_through_the_proxy_and_the_lockfile_keeps_the_registry_checksums() {
    let s = setup();
    let proxy = s.proxy(&["--log", &s.w.log.url]);
    let app = s.project("app", &[("signed", "1.0.0"), ("later", "1.0.0")], &proxy);
    let out = s.cargo(&app, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    for (name, version) in [("signed", "1.0.0"), ("later", "1.0.0")] {
        let bytes = std::fs::read(s.registry.crate_path(name, version)).unwrap();
        let cksum = hex::encode(Sha256::digest(&bytes));
        assert!(
            lock.contains(&format!("checksum = \"{cksum}\"")),
            "{name}: {lock}"
        );
    }
    // Never signed: allowed, with a warning in the proxy's log.
    let app2 = s.project("app2", &[("plain", "1.0.0")], &proxy);
    let out = s.cargo(&app2, &["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    let log = proxy.stderr();
    assert!(log.contains("plain 1.0.0 is not signed"), "{log}");
    drop(proxy);
}

#[test]
fn cargo_itself_refuses_what_the_proxy_refuses() {
    let s = setup();
    let proxy = s.proxy(&["--log", &s.w.log.url]);

    // An unsigned version of a crate that was signed before.
    let app = s.project("downgrade", &[("later", "1.1.0")], &proxy);
    let out = s.cargo(&app, &["fetch"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("sigil: refused later 1.1.0"), "{said}");
    assert!(said.contains("once signed, always signed"), "{said}");

    // The .crate changed upstream (index untouched): its SHA-256 differs.
    let path = s.registry.crate_path("signed", "1.0.0");
    let original = std::fs::read(&path).unwrap();
    let mut tampered = original.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    std::fs::write(&path, &tampered).unwrap();
    let app = s.project("tampered", &[("signed", "1.0.0")], &proxy);
    let out = s.cargo(&app, &["fetch"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("sigil: refused signed 1.0.0"), "{said}");
    assert!(said.contains("changed upstream"), "{said}");

    // The upstream changes the .crate and its index line together: cargo
    // alone would take it; the log's record does not match.
    let other = s.w.package("signed", "1.0.0", "pub fn evil() {}\n");
    std::fs::remove_file(s.registry.index_file("signed")).unwrap();
    s.registry
        .publish("signed", "1.0.0", &std::fs::read(&other).unwrap());
    let app = s.project("swapped", &[("signed", "1.0.0")], &proxy);
    let out = s.cargo(&app, &["fetch"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("sigil: refused signed 1.0.0"), "{said}");
    assert!(said.contains("digest_mismatch"), "{said}");
    std::fs::write(&path, &original).unwrap();
    drop(proxy);

    // Under require-signed, a never-signed crate is refused too.
    let strict = s.proxy(&["--log", &s.w.log.url, "--require-signed"]);
    let app = s.project("strict", &[("plain", "1.0.0")], &strict);
    let out = s.cargo(&app, &["fetch"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("require-signed"), "{}", text(&out));
}

#[test]
fn the_log_unreachable_fails_closed_and_offline_serves_the_verified_cache() {
    let s = setup();
    let cache = s.w.path("proxy-cache");
    // Fill the verified cache through an online proxy.
    let proxy = s.proxy(&["--log", &s.w.log.url, "--cache", p(&cache)]);
    let app = s.project("online", &[("signed", "1.0.0")], &proxy);
    let out = s.cargo(&app, &["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    drop(proxy);

    // A log nobody answers at: a crate that needs a proof is refused.
    let dead = s.proxy(&["--log", "http://127.0.0.1:9", "--cache", p(&s.w.path("c2"))]);
    let app = s.project("dead", &[("later", "1.0.0")], &dead);
    let out = s.cargo(&app, &["fetch"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("sigil: refused later 1.0.0"),
        "{}",
        text(&out)
    );
    drop(dead);

    // Offline, with the upstream gone too: what was verified is served,
    // nothing else.
    let offline = s.proxy(&["--offline", "--cache", p(&cache)]);
    std::fs::remove_dir_all(&s.registry.root).unwrap();
    let app = s.project("offline", &[("signed", "1.0.0")], &offline);
    std::fs::remove_dir_all(s.w.path("cargo-home")).unwrap();
    let out = s.cargo(&app, &["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    let app = s.project("offline-miss", &[("later", "1.0.0")], &offline);
    let out = s.cargo(&app, &["fetch"]);
    assert!(!out.status.success());
}

#[test]
fn print_cargo_config_prints_the_source_replacement() {
    let mut c = command("sigil").unwrap();
    c.args(["proxy", "--print-cargo-config"]);
    let out = c.output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("[source.crates-io]\nreplace-with = \"sigil\""),
        "{text}"
    );
    assert!(
        text.contains("registry = \"sparse+http://127.0.0.1:6964/index/\""),
        "{text}"
    );
}

#[test]
fn cargo_sigil_build_goes_through_an_ephemeral_proxy_with_nothing_to_configure() {
    let s = setup();
    let cargo_sigil = |project: &Path, sub: &str| {
        let mut c = command("cargo-sigil").unwrap();
        c.args(["sigil", sub, "--log", &s.w.log.url])
            .args(["--upstream", &s.registry.index_url()])
            .args(["--trust-root", p(&s.w.path("trust.json"))])
            .args(["--sigil-home", p(&s.w.path("ephemeral-home"))])
            .current_dir(project)
            .env("CARGO_HOME", s.w.path("cargo-home"))
            .env("CARGO_TARGET_DIR", project.join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("RUSTFLAGS");
        c.output().unwrap()
    };
    // No .cargo/config.toml in these projects.
    let unconfigured = |name: &str, deps: &[(&str, &str)]| s.bare_project(name, deps);
    let ok = unconfigured("plain-app", &[("signed", "1.0.0")]);
    let out = cargo_sigil(&ok, "build");
    assert!(out.status.success(), "{}", text(&out));
    let refused = unconfigured("plain-app2", &[("later", "1.1.0")]);
    let out = cargo_sigil(&refused, "fetch");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("sigil: refused later 1.1.0"),
        "{}",
        text(&out)
    );
    // Unsigned and allowed: the proxy's warning reaches the user.
    let warned = unconfigured("plain-app3", &[("plain", "1.0.0")]);
    let out = cargo_sigil(&warned, "fetch");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("plain 1.0.0 is not signed"),
        "{}",
        text(&out)
    );
}

/// Issue 12 item 5: `verify-lock` on a project whose Cargo.lock lists a
/// crate only another platform uses (here `winonly`, a dependency under
/// `cfg(windows)`): after `cargo build` on this host, the crate cargo never
/// downloaded is "not needed here", not a failure; the crates the host
/// needs are verified; one deleted from cargo's cache fails.
#[test]
fn verify_lock_checks_what_this_platform_needs() {
    let s = setup();
    // winonly: never signed, never downloaded here.
    let body = "pub fn w() {}\n";
    let file = s.w.package("winonly", "1.0.0", body);
    s.registry
        .publish("winonly", "1.0.0", &std::fs::read(&file).unwrap());
    let proxy = s.proxy(&["--log", &s.w.log.url]);
    let app = s.project("platform", &[("signed", "1.0.0")], &proxy);
    let mut manifest = std::fs::read_to_string(app.join("Cargo.toml")).unwrap();
    manifest.push_str("\n[target.'cfg(windows)'.dependencies]\nwinonly = \"=1.0.0\"\n");
    std::fs::write(app.join("Cargo.toml"), manifest).unwrap();
    let out = s.cargo(&app, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    assert!(lock.contains("name = \"winonly\""), "{lock}");

    let verify_lock = |extra: &[&str]| {
        let mut c = command("sigil").unwrap();
        c.args([
            "verify-lock",
            "--json",
            "--trust-root",
            p(&s.w.path("trust.json")),
        ])
        .args(["--log", &s.w.log.url])
        .args(["--cargo-home", p(&s.w.path("cargo-home"))])
        .args(extra)
        .arg(app.join("Cargo.lock"))
        .env("SIGIL_HOME", s.w.path("lock-home"))
        .env("CARGO_HOME", s.w.path("cargo-home"));
        let out = c.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("not JSON: {}", text(&out)));
        (out.status.success(), v)
    };
    let status_of = |v: &serde_json::Value, name: &str| {
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["status"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let (ok, v) = verify_lock(&[]);
    assert!(ok, "{v}");
    assert_eq!(status_of(&v, "signed"), "verified", "{v}");
    assert_eq!(status_of(&v, "winonly"), "not_needed", "{v}");
    assert_eq!(v["not_needed"], 1, "{v}");
    // Every platform: winonly was never downloaded here, so it is missing.
    let (ok, v) = verify_lock(&["--all-targets"]);
    assert!(!ok, "{v}");
    assert_eq!(status_of(&v, "winonly"), "missing", "{v}");
    // A needed crate gone from cargo's cache: cargo cannot say what the
    // build needs offline, and verify-lock fails with what to do.
    let cache = s.w.path("cargo-home/registry/cache");
    for entry in walk(&cache) {
        if entry
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("signed-")
        {
            std::fs::remove_file(&entry).unwrap();
        }
    }
    let mut c = command("sigil").unwrap();
    c.args(["verify-lock", "--trust-root", p(&s.w.path("trust.json"))])
        .args(["--log", &s.w.log.url])
        .args(["--cargo-home", p(&s.w.path("cargo-home"))])
        .arg(app.join("Cargo.lock"))
        .env("SIGIL_HOME", s.w.path("lock-home"))
        .env("CARGO_HOME", s.w.path("cargo-home"));
    let out = c.output().unwrap();
    assert!(!out.status.success());
    drop(proxy);
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Issue 12 item 6: a trust root pinned once (`sigil trust-root install`)
/// carries the log's URL, so `sigil verify`, `cargo sigil build` and the
/// proxy need no `--trust-root` and no `--log`.
#[test]
fn a_pinned_trust_root_with_the_log_url_needs_no_flags() {
    let s = setup();
    let config = s.w.path("config");
    let pinned_root = s.w.path("trust-with-url.json");
    let mut c = command("sigil").unwrap();
    c.args(["trust-root", "--ca-root", p(&s.w.path("ca/root.pem"))])
        .args(["--log-key", p(&s.w.path("logkey/log.pub"))])
        .args(["--log-url", &s.w.log.url])
        .args(["--out", p(&pinned_root)]);
    assert!(c.output().unwrap().status.success());
    let sigil = |args: &[&str]| {
        let mut c = command("sigil").unwrap();
        c.args(args)
            .env("SIGIL_CONFIG_DIR", &config)
            .env("SIGIL_HOME", s.w.path("pinned-home"))
            .env_remove("SIGIL_TRUST_ROOT");
        c.output().unwrap()
    };
    let file = s.w.path("signed-1.0.0.crate");
    // Nothing pinned yet: the error says how to pin one.
    let out = sigil(&["verify", p(&file)]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("sigil trust-root install"),
        "{}",
        text(&out)
    );
    let out = sigil(&["trust-root", "install", p(&pinned_root)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(config.join("trust-root.json").is_file());
    // No flags: online (the trust root's log.url), so the log's
    // revocations and consistency are asked.
    let out = sigil(&["verify", "--json", p(&file)]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    // With the log gone, the default is online and fails closed; --offline
    // still verifies.
    let mut c = command("sigil").unwrap();
    c.args(["trust-root", "--ca-root", p(&s.w.path("ca/root.pem"))])
        .args(["--log-key", p(&s.w.path("logkey/log.pub"))])
        .args(["--log-url", "http://127.0.0.1:9"])
        .args(["--out", p(&s.w.path("dead-url.json"))]);
    assert!(c.output().unwrap().status.success());
    let out = sigil(&["trust-root", "install", p(&s.w.path("dead-url.json"))]);
    assert!(out.status.success());
    let out = sigil(&["verify", p(&file)]);
    assert!(!out.status.success(), "{}", text(&out));
    let out = sigil(&["verify", "--offline", p(&file)]);
    assert!(out.status.success(), "{}", text(&out));
    // A file that is not a trust root is not pinned.
    let out = sigil(&["trust-root", "install", p(&file)]);
    assert!(!out.status.success());

    // cargo sigil build with no Sigil flag but the test registry's URL.
    let out = sigil(&["trust-root", "install", p(&pinned_root)]);
    assert!(out.status.success());
    let dir = s.bare_project("noflags", &[("signed", "1.0.0")]);
    let mut c = command("cargo-sigil").unwrap();
    c.args(["sigil", "build", "--upstream", &s.registry.index_url()])
        .current_dir(&dir)
        .env("SIGIL_CONFIG_DIR", &config)
        .env("SIGIL_HOME", s.w.path("pinned-home"))
        .env_remove("SIGIL_TRUST_ROOT")
        .env("CARGO_HOME", s.w.path("cargo-home"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS");
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// The index passes through byte for byte with its `ETag`, a conditional
/// request gets the upstream's `304`, `config.json` has only `dl`
/// rewritten, paths outside the index layout are not asked upstream; the
/// policy file's deny and allow lists; `/healthz` and `/metrics`.
#[test]
fn index_passthrough_policy_lists_and_health() {
    let s = setup();
    let policy = s.w.path("policy.toml");
    std::fs::write(
        &policy,
        "require-signed = true\nallow-unsigned = [\"plain\"]\ndeny = [\"signed@1.0.0\"]\n",
    )
    .unwrap();
    let proxy = s.proxy(&["--log", &s.w.log.url, "--policy", p(&policy)]);
    let http = sigil_e2e::http_json::client();
    let index = std::fs::read(s.registry.index_file("later")).unwrap();
    let first = http
        .get(format!("{}/index/la/te/later", proxy.url))
        .send()
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.bytes().unwrap().as_ref(), index.as_slice());
    let again = http
        .get(format!("{}/index/la/te/later", proxy.url))
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status().as_u16(), 304);
    let config: serde_json::Value = http
        .get(format!("{}/index/config.json", proxy.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(config["dl"], format!("{}/dl", proxy.url));
    for bad in [
        "/index/../etc/passwd",
        "/index/xx/yy/later",
        "/index/la/te/Later",
    ] {
        let status = http
            .get(format!("{}{bad}", proxy.url))
            .send()
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 404, "{bad}");
    }
    // deny: a signed crate refused; allow-unsigned: an unsigned one passes
    // despite require-signed.
    let app = s.project("denied", &[("signed", "1.0.0")], &proxy);
    let out = s.cargo(&app, &["fetch"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("deny list"), "{}", text(&out));
    let app = s.project("allowed", &[("plain", "1.0.0")], &proxy);
    let out = s.cargo(&app, &["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        http.get(format!("{}/healthz", proxy.url))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let metrics = http
        .get(format!("{}/metrics", proxy.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("sigil_proxy_crates_refused_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sigil_proxy_crates_unsigned_total 1"),
        "{metrics}"
    );
}

/// `--proofs DIR`: proofs are taken from a directory (as `sigil sign`
/// writes them) before the log is asked, and checked like any other.
#[test]
fn proofs_come_from_a_directory_first_and_are_checked() {
    let s = setup();
    let dir = s.w.path("proofs");
    std::fs::create_dir_all(&dir).unwrap();
    // later 1.0.0's real proof, and a proof for `signed` that is another
    // release's.
    let real = std::fs::read(s.w.path("later-1.0.0.crate.tlog-proof")).unwrap();
    std::fs::write(dir.join("later-1.0.0.crate.tlog-proof"), &real).unwrap();
    std::fs::write(dir.join("signed-1.0.0.crate.tlog-proof"), &real).unwrap();
    let proxy = s.proxy(&["--log", &s.w.log.url, "--proofs", p(&dir)]);
    let app = s.project("from-dir", &[("later", "1.0.0")], &proxy);
    let out = s.cargo(&app, &["fetch"]);
    assert!(out.status.success(), "{}", text(&out));
    let app = s.project("wrong-proof", &[("signed", "1.0.0")], &proxy);
    let out = s.cargo(&app, &["fetch"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("sigil: refused signed 1.0.0"),
        "{}",
        text(&out)
    );
}
