//! The bucket as the log writes it: a blocking face over `object_store`'s
//! S3 client with the three writes the backend needs — create-only with
//! the compare-bytes rule, compare-and-swap on the ETag, and overwrite (the
//! public `checkpoint` only) — each with the cache header its object gets
//! (`docs/object-storage.md`).
//!
//! The store's methods are synchronous (the sequencer calls them from
//! `spawn_blocking`), so the bucket runs the S3 client on a runtime of its
//! own and waits for each answer on a channel: this works from any thread,
//! inside or outside the server's runtime.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload,
    UpdateVersion,
};

use super::ObjectError;

/// `Cache-Control` of tiles and entry bundles: immutable once written
/// (C2SP tlog-tiles: "full tiles ... MUST be served with a long cache
/// lifetime"; a partial tile `.p/W` is immutable too, a wider one is a new
/// object).
pub const IMMUTABLE: &str = "public, max-age=604800, immutable";

/// `Cache-Control` of the public `checkpoint`: it changes with every round.
pub const NO_CACHE: &str = "no-cache";

/// Where the bucket is and how to reach it.
#[derive(Clone, Debug)]
pub struct BucketConfig {
    /// `s3://BUCKET` or `s3://BUCKET/PREFIX`: the objects of this log are
    /// under PREFIX (none: the bucket's root).
    pub url: String,
    /// The S3 endpoint (`http://127.0.0.1:8333` for SeaweedFS on loopback);
    /// `None`: AWS, or `AWS_ENDPOINT` from the environment.
    pub endpoint: Option<String>,
    /// Longest one S3 request may take before it is an error.
    pub timeout: Duration,
}

/// The answer to a read of an object that may be absent.
#[derive(Clone, Debug)]
pub struct Object {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its ETag, for a compare-and-swap.
    pub e_tag: Option<String>,
}

/// What a compare-and-swap did.
#[derive(Debug)]
pub enum Swap {
    /// The object now holds the new bytes; its new ETag.
    Done(Option<String>),
    /// Another write got there first: the object is not what the caller
    /// read (or, for a create, exists).
    Lost,
}

/// A bucket, reachable synchronously.
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Runtime,
    /// For messages: `s3://bucket/prefix`.
    url: String,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket").field("url", &self.url).finish()
    }
}

impl Bucket {
    /// Connects (lazily: no request is made) to the bucket of `config`.
    /// Credentials come from the environment as AWS tools read them
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, ...);
    /// without an access key, requests are sent unsigned (a bucket open to
    /// anonymous writes, as SeaweedFS is without identities).
    ///
    /// # Errors
    ///
    /// [`ObjectError::Config`] for a URL that is not `s3://BUCKET[/PREFIX]`
    /// or settings the client refuses; [`ObjectError::Runtime`].
    pub fn open(config: &BucketConfig) -> Result<Bucket, ObjectError> {
        let bad = |reason: String| ObjectError::Config {
            url: config.url.clone(),
            reason,
        };
        let rest = config
            .url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("must start with s3://".into()))?;
        let (name, prefix) = match rest.split_once('/') {
            Some((name, prefix)) => (name, prefix.trim_matches('/')),
            None => (rest, ""),
        };
        if name.is_empty() {
            return Err(bad("no bucket name".into()));
        }
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(name)
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_timeout(config.timeout)
                    .with_connect_timeout(config.timeout.min(Duration::from_secs(5))),
            )
            .with_retry(object_store::RetryConfig {
                max_retries: 3,
                retry_timeout: config.timeout.saturating_mul(2),
                ..Default::default()
            });
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            builder = builder.with_skip_signature(true);
        }
        let s3 = builder.build().map_err(|e| bad(e.to_string()))?;
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sigil-log-s3")
            .enable_all()
            .build()
            .map_err(ObjectError::Runtime)?;
        Ok(Bucket {
            store,
            runtime,
            url: config.url.clone(),
        })
    }

    /// The bucket's URL, for messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `work` on the bucket's runtime and waits for it.
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, ObjectError>> + Send + 'static,
    ) -> Result<T, ObjectError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv().map_err(|_| ObjectError::Stopped)?
    }

    /// The object at `key`, `None` if absent.
    ///
    /// # Errors
    ///
    /// [`ObjectError::S3`].
    pub fn get(&self, key: &str) -> Result<Option<Object>, ObjectError> {
        let store = self.store.clone();
        let path = ObjectPath::from(key);
        let key = key.to_owned();
        self.run(async move {
            match store.get(&path).await {
                Ok(got) => {
                    let e_tag = got.meta.e_tag.clone();
                    let bytes = got.bytes().await.map_err(|e| s3(&key, "read", e))?;
                    Ok(Some(Object {
                        bytes: bytes.to_vec(),
                        e_tag,
                    }))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(s3(&key, "read", e)),
            }
        })
    }

    /// Reads many objects at once (tiles), `None` where absent.
    ///
    /// # Errors
    ///
    /// [`ObjectError::S3`], the first one met.
    pub fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, ObjectError> {
        let reads: Vec<_> = keys
            .iter()
            .map(|key| {
                let store = self.store.clone();
                let key = key.clone();
                self.runtime.spawn(async move {
                    let path = ObjectPath::from(key.as_str());
                    match store.get(&path).await {
                        Ok(got) => got
                            .bytes()
                            .await
                            .map(|b| Some(b.to_vec()))
                            .map_err(|e| s3(&key, "read", e)),
                        Err(object_store::Error::NotFound { .. }) => Ok(None),
                        Err(e) => Err(s3(&key, "read", e)),
                    }
                })
            })
            .collect();
        self.run(async move {
            let mut out = Vec::with_capacity(reads.len());
            for read in reads {
                out.push(read.await.map_err(|_| ObjectError::Stopped)??);
            }
            Ok(out)
        })
    }

    /// Writes immutable objects, create-only, all at once. An object that
    /// exists with the same bytes is a success (a retry, or a recovery
    /// writing again what a crash interrupted); with other bytes it is
    /// [`ObjectError::Different`], and the log must stop: two different
    /// trees were written under one name.
    ///
    /// # Errors
    ///
    /// [`ObjectError::Different`], [`ObjectError::S3`].
    pub fn create_all(
        &self,
        objects: Vec<(String, Vec<u8>)>,
        cache_control: &'static str,
    ) -> Result<(), ObjectError> {
        let writes: Vec<_> = objects
            .into_iter()
            .map(|(key, bytes)| {
                let store = self.store.clone();
                self.runtime
                    .spawn(async move { create(&*store, &key, bytes, cache_control).await })
            })
            .collect();
        self.run(async move {
            let mut first = Ok(());
            for write in writes {
                let done = write.await.map_err(|_| ObjectError::Stopped)?;
                // A different object outranks a transient error: it is the
                // one that must stop the log.
                match (&first, done) {
                    (_, Ok(())) => {}
                    (Err(ObjectError::Different { .. }), Err(_)) => {}
                    (_, Err(e)) => first = Err(e),
                }
            }
            first
        })
    }

    /// Compare-and-swap: writes `bytes` at `key` only if the object still
    /// has the ETag `expected` (`None`: only if it does not exist).
    ///
    /// # Errors
    ///
    /// [`ObjectError::S3`]: the outcome is unknown (the write may have
    /// landed): read the object again.
    pub fn swap(
        &self,
        key: &str,
        expected: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<Swap, ObjectError> {
        let store = self.store.clone();
        let path = ObjectPath::from(key);
        let key = key.to_owned();
        self.run(async move {
            let mode = match expected {
                None => PutMode::Create,
                Some(e_tag) => PutMode::Update(UpdateVersion {
                    e_tag: Some(e_tag),
                    version: None,
                }),
            };
            let options = PutOptions {
                mode,
                attributes: attributes(NO_CACHE, "application/json"),
                ..Default::default()
            };
            match store
                .put_opts(&path, PutPayload::from(bytes), options)
                .await
            {
                Ok(done) => Ok(Swap::Done(done.e_tag)),
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. },
                ) => Ok(Swap::Lost),
                Err(e) => Err(s3(&key, "compare-and-swap", e)),
            }
        })
    }

    /// Overwrites `key` (the public `checkpoint`), served uncached.
    ///
    /// # Errors
    ///
    /// [`ObjectError::S3`].
    pub fn overwrite(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        let store = self.store.clone();
        let path = ObjectPath::from(key);
        let key = key.to_owned();
        self.run(async move {
            let options = PutOptions {
                mode: PutMode::Overwrite,
                attributes: attributes(NO_CACHE, "text/plain; charset=utf-8"),
                ..Default::default()
            };
            store
                .put_opts(&path, PutPayload::from(bytes), options)
                .await
                .map(|_| ())
                .map_err(|e| s3(&key, "write", e))
        })
    }

    /// Keys under `prefix`, for `sigil-log reindex` and tests.
    ///
    /// # Errors
    ///
    /// [`ObjectError::S3`].
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        use futures_util::TryStreamExt as _;
        let store = self.store.clone();
        let path = ObjectPath::from(prefix);
        let prefix = prefix.to_owned();
        self.run(async move {
            let metas: Vec<_> = store
                .list(Some(&path))
                .try_collect()
                .await
                .map_err(|e| s3(&prefix, "list", e))?;
            Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
        })
    }
}

/// Create-only write of one immutable object with the compare-bytes rule.
async fn create(
    store: &dyn ObjectStore,
    key: &str,
    bytes: Vec<u8>,
    cache_control: &'static str,
) -> Result<(), ObjectError> {
    let path = ObjectPath::from(key);
    let options = PutOptions {
        mode: PutMode::Create,
        attributes: attributes(cache_control, "application/octet-stream"),
        ..Default::default()
    };
    match store
        .put_opts(&path, PutPayload::from(bytes.clone()), options)
        .await
    {
        Ok(_) => Ok(()),
        Err(
            object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. },
        ) => {
            let got = store.get(&path).await.map_err(|e| s3(key, "read", e))?;
            let existing = got.bytes().await.map_err(|e| s3(key, "read", e))?;
            if existing.as_ref() == bytes.as_slice() {
                Ok(())
            } else {
                Err(ObjectError::Different {
                    key: key.to_owned(),
                })
            }
        }
        Err(e) => Err(s3(key, "create", e)),
    }
}

fn attributes(cache_control: &'static str, content_type: &'static str) -> Attributes {
    Attributes::from_iter([
        (Attribute::CacheControl, cache_control),
        (Attribute::ContentType, content_type),
    ])
}

fn s3(key: &str, op: &'static str, source: object_store::Error) -> ObjectError {
    ObjectError::S3 {
        key: key.to_owned(),
        op,
        source: Box::new(source),
    }
}
