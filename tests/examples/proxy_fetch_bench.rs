//! Benchmark of `sigil proxy` (issue 12, BENCHMARKS.md): `cargo fetch` of
//! a project depending on N crates (default 300), all signed through the
//! real `sigil-ca` and `sigil-log`, from a local sparse registry (a static
//! server on 127.0.0.1), timed two ways in the same run:
//!
//! * **direct**: cargo's source replacement points at the registry;
//! * **proxy**: it points at `sigil proxy`, which verifies every `.crate`
//!   (index `cksum`, the `.tlog-proof` from its cache, the log's
//!   revocations) before cargo gets it; the proof cache is warm (one fetch
//!   first), cargo's own cache is empty each run.
//!
//! ```text
//! cargo build --workspace --bins --examples
//! $CARGO_TARGET_DIR/debug/examples/proxy_fetch_bench [CRATES] [RUNS]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::Digest as _;
use sigil_cli::client::{Client, TrustRootRequest};
use sigil_cli::maintainer::{self, SignRequest, Signed};
use sigil_cli::quickstart;
use sigil_cli::server_process::ServerProcess;
use sigil_client::ClientOptions;
use sigil_e2e::static_server::StaticServer;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let runs: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (servers, vkey) = quickstart::local_pki(dir, &mut |_| {}).unwrap();
    let trust = sigil_cli::client::trust_root(&TrustRootRequest {
        ca_roots: &[dir.join("ca/root.pem")],
        log_key: &vkey,
        origin: None,
        witnesses: &[],
        quorum: 0,
        log_url: Some(&servers.log_url),
    })
    .unwrap();
    let trust_path = dir.join("trust.json");
    std::fs::write(&trust_path, trust).unwrap();
    let submit = maintainer::Submit {
        log: &servers.log_url,
        checker: Client::load(
            &trust_path,
            Some(&dir.join("maintainer-home")),
            Some(&servers.log_url),
            &ClientOptions::default(),
        )
        .unwrap(),
    };

    // The registry: N signed crates, two maintainers (a scope holds at
    // most 256 crates).
    let registry = dir.join("registry");
    std::fs::create_dir_all(registry.join("index")).unwrap();
    let upstream = StaticServer::start(&registry).unwrap();
    std::fs::write(
        registry.join("index/config.json"),
        format!("{{\"dl\":\"{}/crates\"}}", upstream.url),
    )
    .unwrap();
    let names: Vec<String> = (0..n).map(|i| format!("bench-crate-{i:03}")).collect();
    let signing = Instant::now();
    for (m, half) in names.chunks(n.div_ceil(2)).enumerate() {
        let crates: Vec<&str> = half.iter().map(String::as_str).collect();
        let token = quickstart::invite(dir, &servers.ca_url, &format!("m{m}@example.org"), &crates)
            .unwrap();
        let key = maintainer::keygen(&dir.join(format!("m{m}.key")), None).unwrap();
        let cert = dir.join(format!("m{m}.pem"));
        maintainer::enroll(
            &servers.ca_url,
            &token,
            &key,
            &cert,
            &ClientOptions::default(),
            None,
        )
        .unwrap();
        let chain = maintainer::read_chain(&cert).unwrap();
        for name in half {
            let src = dir.join("src").join(name);
            std::fs::create_dir_all(src.join("src")).unwrap();
            std::fs::write(
                src.join("Cargo.toml"),
                format!("[package]\nname = \"{name}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n"),
            )
            .unwrap();
            // About 8 KB of source, like a small crate.
            let body: String = (0..200)
                .map(|i| format!("pub fn f{i}() -> u32 {{ {i} }}\n"))
                .collect();
            std::fs::write(src.join("src/lib.rs"), body).unwrap();
            let bytes = sigil_cli::package::package_dir(&src).unwrap();
            let file = dir.join(format!("{name}-1.0.0.crate"));
            std::fs::write(&file, &bytes).unwrap();
            let signed = maintainer::sign(&SignRequest {
                key: &key,
                chain: chain.clone(),
                crate_path: &file,
                add_to: None,
                submit: Some(&submit),
                pending_out: None,
            })
            .unwrap();
            assert!(matches!(signed, Signed::Logged { .. }));
            let download = registry.join(format!("crates/{name}/1.0.0/download"));
            std::fs::create_dir_all(download.parent().unwrap()).unwrap();
            std::fs::write(&download, &bytes).unwrap();
            let index = registry
                .join("index")
                .join(sigil_client::sparse_index::index_path(name));
            std::fs::create_dir_all(index.parent().unwrap()).unwrap();
            std::fs::write(
                &index,
                format!(
                    "{{\"name\":\"{name}\",\"vers\":\"1.0.0\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false}}\n",
                    hex::encode(sha2::Sha256::digest(&bytes))
                ),
            )
            .unwrap();
        }
    }
    eprintln!(
        "signed, logged and published {n} crates in {:?}",
        signing.elapsed()
    );

    // The project, and its Cargo.lock (made once, through the registry).
    let project = dir.join("app");
    std::fs::create_dir_all(project.join("src")).unwrap();
    let mut manifest = String::from(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n",
    );
    for name in &names {
        manifest.push_str(&format!("{name} = \"=1.0.0\"\n"));
    }
    std::fs::write(project.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(project.join("src/lib.rs"), "").unwrap();

    let sigil = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("sigil");
    let mut proxy_cmd = Command::new(&sigil);
    proxy_cmd
        .args(["proxy", "--listen", "127.0.0.1:0"])
        .args(["--upstream", &format!("{}/index/", upstream.url)])
        .arg("--trust-root")
        .arg(&trust_path)
        .arg("--sigil-home")
        .arg(dir.join("proxy-home"))
        .env("SIGIL_LOG", "error");
    let proxy = ServerProcess::start("sigil proxy", proxy_cmd, None).unwrap();

    let fetch = |registry_url: &str, home: &PathBuf| {
        let _ = std::fs::remove_dir_all(home);
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let start = Instant::now();
        let out = Command::new(cargo)
            .args(["fetch", "--locked"])
            .args(["--config", "source.crates-io.replace-with=\"bench\""])
            .arg("--config")
            .arg(format!("source.bench.registry=\"sparse+{registry_url}\""))
            .current_dir(&project)
            .env("CARGO_HOME", home)
            .output()
            .unwrap();
        let took = start.elapsed();
        assert!(
            out.status.success(),
            "cargo fetch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        took
    };
    let direct_url = format!("{}/index/", upstream.url);
    let proxy_url = format!("{}/index/", proxy.url);
    // The lockfile, then one warm-up each (the proxy's proof cache).
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let st = Command::new(cargo)
        .args(["generate-lockfile"])
        .args(["--config", "source.crates-io.replace-with=\"bench\""])
        .arg("--config")
        .arg(format!("source.bench.registry=\"sparse+{direct_url}\""))
        .current_dir(&project)
        .env("CARGO_HOME", dir.join("lock-home"))
        .status()
        .unwrap();
    assert!(st.success());
    let home = dir.join("cargo-home");
    let warm = fetch(&proxy_url, &home);
    eprintln!("proxy, cold proof cache: {warm:?}");
    fetch(&direct_url, &home);
    let (mut direct, mut through) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        direct.push(fetch(&direct_url, &home));
        through.push(fetch(&proxy_url, &home));
    }
    let (d, p) = (median(direct), median(through));
    println!(
        "cargo fetch of {n} crates, median of {runs}: direct {d:?}, through sigil proxy {p:?}: \
         {:.2}x; {:.2} ms per crate beyond the direct fetch",
        p.as_secs_f64() / d.as_secs_f64(),
        (p.as_secs_f64() - d.as_secs_f64()) * 1000.0 / n as f64
    );
    drop(proxy);
    drop(servers);
}
