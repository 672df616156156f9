//! HTTPS for the three servers: `--tls-cert` and `--tls-key` ([`TlsArgs`])
//! make a server speak TLS (RFC 8446, and TLS 1.2 for older clients; the
//! rustls defaults) with the aws-lc-rs provider, HTTP/1.1 inside (ALPN
//! `http/1.1`, RFC 7301). Without them the server speaks plain HTTP, as it
//! should only on loopback or behind a TLS-terminating proxy.
//!
//! The handshake runs in the connection's own task under the connection
//! cap and the header timeout of [`crate::http`], so a client that stalls
//! it holds one slot for at most the header timeout.
//!
//! The files are the usual ones (what an ACME client writes, e.g.
//! `fullchain.pem` and `privkey.pem`): the certificate chain in PEM, leaf
//! first, and the private key in PEM (PKCS #8, SEC 1 or PKCS #1). Like
//! every Sigil key file, the key must not be readable by group or others.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;

use crate::http::Acceptor;

/// The TLS flags, the same in every server binary (flatten into its
/// `serve` command). Both or neither.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct TlsArgs {
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs
    /// --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS #8, SEC 1 or PKCS #1),
    /// readable by its owner only (chmod 600).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Why the TLS files were refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate file holds no PEM `CERTIFICATE`, or one that does
    /// not decode.
    #[error("{path}: {reason}; --tls-cert takes the certificate chain in PEM, leaf first")]
    Certificates {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key file holds no private key PEM block rustls reads.
    #[error(
        "{path}: no private key in it ({reason}); --tls-key takes a PEM PRIVATE KEY (PKCS #8), \
         EC PRIVATE KEY or RSA PRIVATE KEY"
    )]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key file can be read by group or others.
    #[error("{path}: mode {mode:o} lets others read the TLS private key; chmod 600 it")]
    KeyMode {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// One of `--tls-cert` and `--tls-key` without the other.
    #[error("--tls-cert and --tls-key go together: give both, or neither for plain HTTP")]
    Incomplete,
    /// rustls refused the pair (the key is not the certificate's, an
    /// unsupported key type, ...).
    #[error("--tls-cert and --tls-key: {0}")]
    Config(#[from] rustls::Error),
}

/// What the server speaks on its socket.
#[derive(Clone, Debug, Default)]
pub enum Transport {
    /// Plain HTTP over TCP.
    #[default]
    Plain,
    /// HTTPS with this configuration.
    Tls(Arc<ServerConfig>),
}

impl Transport {
    /// The URL scheme clients use: `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Transport::Plain => "http",
            Transport::Tls(_) => "https",
        }
    }
}

impl TlsArgs {
    /// The transport these flags ask for: [`Transport::Plain`] without
    /// them, else HTTPS with the files loaded and checked.
    ///
    /// # Errors
    ///
    /// [`TlsError`] naming the file and what to fix.
    pub fn transport(&self) -> Result<Transport, TlsError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Transport::Tls(load(cert, key)?)),
            (None, None) => Ok(Transport::Plain),
            // clap's `requires` catches this on the command line; a
            // half-given configuration never falls back to plain HTTP.
            _ => Err(TlsError::Incomplete),
        }
    }
}

/// Reads a certificate chain and its key (module documentation) into a
/// rustls server configuration.
///
/// # Errors
///
/// [`TlsError`] naming the file and what to fix.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let key_file = std::fs::File::open(key).map_err(|source| TlsError::Read {
        path: key.to_owned(),
        source,
    })?;
    let mode = key_file
        .metadata()
        .map_err(|source| TlsError::Read {
            path: key.to_owned(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(TlsError::KeyMode {
            path: key.to_owned(),
            mode: mode & 0o777,
        });
    }
    server_config(&read(cert)?, &read(key)?).map_err(|e| match e {
        TlsError::Certificates { reason, .. } => TlsError::Certificates {
            path: cert.to_owned(),
            reason,
        },
        TlsError::Key { reason, .. } => TlsError::Key {
            path: key.to_owned(),
            reason,
        },
        other => other,
    })
}

/// A rustls server configuration (aws-lc-rs provider, its safe default
/// protocol versions, no client authentication, ALPN `http/1.1`) for the
/// chain `cert_pem` (leaf first) and its key `key_pem`.
///
/// # Errors
///
/// [`TlsError::Certificates`], [`TlsError::Key`] (with an empty path) or
/// [`TlsError::Config`].
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificates {
            path: PathBuf::new(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Certificates {
            path: PathBuf::new(),
            reason: "no PEM CERTIFICATE in it".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Key {
        path: PathBuf::new(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts TLS connections with a server configuration.
#[derive(Clone)]
pub struct TlsAcceptor(tokio_rustls::TlsAcceptor);

impl TlsAcceptor {
    /// An acceptor for `config`.
    pub fn new(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor(tokio_rustls::TlsAcceptor::from(config))
    }
}

impl Acceptor for TlsAcceptor {
    type Stream = tokio_rustls::server::TlsStream<TcpStream>;

    async fn accept(
        &self,
        tcp: TcpStream,
        _peer: std::net::SocketAddr,
    ) -> std::io::Result<Self::Stream> {
        self.0.accept(tcp).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn malformed_files_are_refused_with_a_reason() {
        let cases: &[(&[u8], &[u8], &str)] = &[
            (b"", b"", "no PEM CERTIFICATE"),
            (b"not pem at all", b"", "no PEM CERTIFICATE"),
            (
                b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
                b"",
                "",
            ),
        ];
        for (cert, key, want) in cases {
            let e = server_config(cert, key).unwrap_err();
            assert!(
                matches!(e, TlsError::Certificates { .. }),
                "{e:?} for {cert:?}"
            );
            assert!(e.to_string().contains(want), "{e}");
        }
        // A certificate-shaped block and no key.
        let cert = b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        for key in [
            &b""[..],
            b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
        ] {
            let e = server_config(cert, key).unwrap_err();
            assert!(
                matches!(e, TlsError::Key { .. } | TlsError::Config(_)),
                "{e:?}"
            );
        }
    }

    #[test]
    fn half_a_configuration_is_an_error_not_plain_http() {
        let args = TlsArgs {
            tls_cert: Some(PathBuf::from("cert.pem")),
            tls_key: None,
        };
        assert!(matches!(args.transport(), Err(TlsError::Incomplete)));
        assert!(matches!(
            TlsArgs::default().transport(),
            Ok(Transport::Plain)
        ));
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = std::env::temp_dir().join(format!("sigil-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key.pem");
        std::fs::write(&key, b"").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load(&dir.join("cert.pem"), &key).unwrap_err();
        assert!(matches!(e, TlsError::KeyMode { mode: 0o644, .. }), "{e:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
