//! The `s3://bucket/prefix` store over aws-sdk-s3.
//!
//! Reads stream the body ([`ObjectReader`] over `ByteStream::into_async_read`); small writes are
//! one `PutObject` (with `If-None-Match: *` or `If-Match: ETAG` for conditional writes, which S3
//! answers with 412 when refused); streaming uploads buffer one part and switch to a multipart
//! upload once more than a part arrives, with a few parts in flight. An upload whose final key is
//! known only at the end completes under its staging key and is copied (server-side, multipart
//! beyond 5 GiB) to the final one. Listing uses the SDK paginator. SDK errors are classified by
//! variant and HTTP status, never by message text.

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use bytes::{Bytes, BytesMut};
use tokio::task::JoinHandle;

use crate::{Condition, Meta, Object, ObjectReader, StoreError, Version};

/// Part size of multipart uploads unless set otherwise (S3's minimum is 5 MiB).
pub const DEFAULT_PART_SIZE: usize = 8 << 20;
/// The largest object S3 copies in one `CopyObject` (5 GiB).
pub const MAX_SINGLE_COPY: u64 = 5 << 30;
/// Parts uploaded at once in a multipart upload.
const PARTS_IN_FLIGHT: usize = 4;

/// Builds an S3 client from the standard AWS configuration chain, with a rustls (ring) HTTPS
/// client. `endpoint` overrides `AWS_ENDPOINT_URL`; with any endpoint set, path-style addressing
/// is used (what emulators such as moto expect).
pub async fn client(endpoint: Option<&str>) -> Client {
    let sdk = sdk_config(endpoint).await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    Client::from_conf(conf)
}

/// The standard AWS configuration chain (profiles, SSO, `credential_process`, environment,
/// `AWS_ENDPOINT_URL`) with a rustls (ring) HTTPS client; `endpoint` overrides the endpoint. Shared
/// by every AWS client of feedpipe's programs.
pub async fn sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// A store in an S3 bucket under a key prefix.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
    part_size: usize,
    max_single_copy: u64,
}

/// Whether an SDK error is worth retrying, and its HTTP status if the service answered.
fn classify<E, R: HttpStatus>(err: &SdkError<E, R>) -> (Option<u16>, bool) {
    match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status_code();
            (
                Some(status),
                status >= 500 || status == 429 || status == 409 || status == 408,
            )
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            (None, true)
        }
        _ => (None, false),
    }
}

/// The HTTP status of a raw response (lets [`classify`] stay generic over the SDK's type).
trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Percent-encodes a copy source (`bucket/key`), keeping `/`.
fn encode_copy_source(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl S3Store {
    /// A store over `client`.
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl Into<String>) -> S3Store {
        S3Store {
            client,
            bucket: bucket.into(),
            prefix: prefix.into().trim_matches('/').to_string(),
            part_size: DEFAULT_PART_SIZE,
            max_single_copy: MAX_SINGLE_COPY,
        }
    }

    /// A store whose client comes from the standard AWS configuration chain.
    pub async fn from_env(bucket: String, prefix: String) -> S3Store {
        S3Store::new(client(None).await, bucket, prefix)
    }

    /// Sets the multipart part size (at least 5 MiB) and the size above which copies are done
    /// in parts of that size (at most 5 GiB). Tests use small values.
    pub fn with_part_sizes(mut self, part_size: usize, max_single_copy: u64) -> S3Store {
        self.part_size = part_size.max(5 << 20);
        self.max_single_copy = max_single_copy.min(MAX_SINGLE_COPY);
        self
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `s3://bucket/prefix`.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn location(&self, full_key: &str) -> String {
        format!("s3://{}/{full_key}", self.bucket)
    }

    fn error<E, R>(&self, full_key: &str, op: &'static str, err: SdkError<E, R>) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
        R: HttpStatus + std::fmt::Debug + Send + Sync + 'static,
    {
        let (status, transient) = classify(&err);
        if status == Some(412) {
            return StoreError::PreconditionFailed {
                location: self.location(full_key),
            };
        }
        StoreError::S3 {
            location: self.location(full_key),
            op,
            transient,
            source: Box::new(err),
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Object, StoreError> {
        let full = self.full_key(key);
        let resp = self.get_object(&full).await?;
        let version = Version(resp.e_tag().unwrap_or_default().to_string());
        let bytes = resp
            .body
            .collect()
            .await
            .map_err(|e| StoreError::S3 {
                location: self.location(&full),
                op: "GetObject (body)",
                transient: true,
                source: Box::new(e),
            })?
            .into_bytes();
        Ok(Object { bytes, version })
    }

    async fn get_object(
        &self,
        full: &str,
    ) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, StoreError> {
        self.client
            .get_object()
            .bucket(&self.bucket)
            .key(full)
            .send()
            .await
            .map_err(|e| match e {
                SdkError::ServiceError(ref ctx)
                    if matches!(ctx.err(), GetObjectError::NoSuchKey(_)) =>
                {
                    StoreError::NotFound {
                        location: self.location(full),
                    }
                }
                e => self.error(full, "GetObject", e),
            })
    }

    pub(crate) async fn read(&self, key: &str) -> Result<ObjectReader, StoreError> {
        let full = self.full_key(key);
        let resp = self.get_object(&full).await?;
        Ok(Box::pin(resp.body.into_async_read()))
    }

    pub(crate) async fn head(&self, key: &str) -> Result<Option<Meta>, StoreError> {
        let full = self.full_key(key);
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(resp) => Ok(Some(Meta {
                size: resp.content_length().unwrap_or(0).max(0) as u64,
                version: Version(resp.e_tag().unwrap_or_default().to_string()),
            })),
            Err(SdkError::ServiceError(ctx))
                if matches!(ctx.err(), HeadObjectError::NotFound(_)) =>
            {
                Ok(None)
            }
            Err(e) => Err(self.error(&full, "HeadObject", e)),
        }
    }

    pub(crate) async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        condition: Condition,
    ) -> Result<Version, StoreError> {
        let full = self.full_key(key);
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .body(ByteStream::from(bytes));
        let if_match = matches!(condition, Condition::IfMatch(_));
        req = match condition {
            Condition::Always => req,
            Condition::IfAbsent => req.if_none_match("*"),
            Condition::IfMatch(v) => req.if_match(v.0),
        };
        let resp = req.send().await.map_err(|e| {
            // If-Match on a key that is gone is answered 404: refused as well.
            if if_match && classify(&e).0 == Some(404) {
                return StoreError::PreconditionFailed {
                    location: self.location(&full),
                };
            }
            self.error(&full, "PutObject", e)
        })?;
        Ok(Version(resp.e_tag().unwrap_or_default().to_string()))
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.delete_full(&self.full_key(key)).await
    }

    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let full_prefix = self.full_key(prefix);
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full_prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error(&full_prefix, "ListObjectsV2", e))?;
            for object in page.contents() {
                if let Some(k) = object.key() {
                    keys.push(k[strip.min(k.len())..].to_string());
                }
            }
        }
        Ok(keys)
    }

    pub(crate) fn upload(&self, staging: &str) -> S3Upload {
        S3Upload {
            store: self.clone(),
            staging: self.full_key(staging),
            buffer: BytesMut::with_capacity(self.part_size),
            upload_id: None,
            in_flight: Vec::new(),
            parts: Vec::new(),
            len: 0,
        }
    }

    /// Server-side copy of `from` to `to` (full keys), in parts when above the single-copy limit.
    async fn copy(&self, from: &str, to: &str, size: u64) -> Result<(), StoreError> {
        let source = encode_copy_source(&format!("{}/{from}", self.bucket));
        if size <= self.max_single_copy {
            self.client
                .copy_object()
                .bucket(&self.bucket)
                .key(to)
                .copy_source(&source)
                .send()
                .await
                .map_err(|e| self.error(to, "CopyObject", e))?;
            return Ok(());
        }
        let upload_id = self.create_multipart(to).await?;
        let part_len = self.max_single_copy.max(5 << 20);
        let mut parts = Vec::new();
        let mut start = 0u64;
        while start < size {
            let end = (start + part_len).min(size) - 1;
            let number = parts.len() as i32 + 1;
            let resp = self
                .client
                .upload_part_copy()
                .bucket(&self.bucket)
                .key(to)
                .upload_id(&upload_id)
                .part_number(number)
                .copy_source(&source)
                .copy_source_range(format!("bytes={start}-{end}"))
                .send()
                .await;
            let resp = match resp {
                Ok(r) => r,
                Err(e) => {
                    let err = self.error(to, "UploadPartCopy", e);
                    self.abort_multipart(to, &upload_id).await;
                    return Err(err);
                }
            };
            let etag = resp
                .copy_part_result()
                .and_then(|r| r.e_tag())
                .unwrap_or_default();
            parts.push(
                CompletedPart::builder()
                    .e_tag(etag)
                    .part_number(number)
                    .build(),
            );
            start = end + 1;
        }
        self.complete_multipart(to, &upload_id, parts).await
    }

    async fn create_multipart(&self, full: &str) -> Result<String, StoreError> {
        let resp = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(full)
            .send()
            .await
            .map_err(|e| self.error(full, "CreateMultipartUpload", e))?;
        Ok(resp.upload_id().unwrap_or_default().to_string())
    }

    async fn complete_multipart(
        &self,
        full: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<(), StoreError> {
        let done = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(full)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        match done {
            Ok(_) => Ok(()),
            Err(e) => {
                let err = self.error(full, "CompleteMultipartUpload", e);
                self.abort_multipart(full, upload_id).await;
                Err(err)
            }
        }
    }

    /// Best effort: an upload that cannot be aborted is cleaned up by the bucket's lifecycle
    /// rule for incomplete multipart uploads.
    async fn abort_multipart(&self, full: &str, upload_id: &str) {
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(full)
            .upload_id(upload_id)
            .send()
            .await;
        if let Err(e) = aborted {
            tracing::warn!(key = full, error = %e, "could not abort a multipart upload");
        }
    }
}

/// A streaming upload into S3: one `PutObject` if it stays within one part, a multipart upload
/// under the staging key otherwise.
pub struct S3Upload {
    store: S3Store,
    staging: String,
    buffer: BytesMut,
    upload_id: Option<String>,
    in_flight: Vec<JoinHandle<Result<CompletedPart, StoreError>>>,
    parts: Vec<CompletedPart>,
    len: u64,
}

impl S3Upload {
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        self.len += chunk.len() as u64;
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            let room = self.store.part_size - self.buffer.len();
            let take = room.min(rest.len());
            self.buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.buffer.len() == self.store.part_size {
                // Keep a full buffer until more bytes arrive: the last part may be any size,
                // and a single part is better sent as one PutObject.
                if !rest.is_empty() {
                    self.send_part().await?;
                }
            }
        }
        Ok(())
    }

    async fn send_part(&mut self) -> Result<(), StoreError> {
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let id = self.store.create_multipart(&self.staging).await?;
                self.upload_id = Some(id.clone());
                id
            }
        };
        if self.in_flight.len() >= PARTS_IN_FLIGHT {
            let first = self.in_flight.remove(0);
            self.parts.push(join_part(first).await?);
        }
        let body = std::mem::replace(
            &mut self.buffer,
            BytesMut::with_capacity(self.store.part_size),
        )
        .freeze();
        let number = (self.parts.len() + self.in_flight.len()) as i32 + 1;
        let store = self.store.clone();
        let key = self.staging.clone();
        self.in_flight.push(tokio::spawn(async move {
            let resp = store
                .client
                .upload_part()
                .bucket(&store.bucket)
                .key(&key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| store.error(&key, "UploadPart", e))?;
            Ok(CompletedPart::builder()
                .e_tag(resp.e_tag().unwrap_or_default())
                .part_number(number)
                .build())
        }));
        Ok(())
    }

    pub(crate) async fn finish(mut self, key: &str) -> Result<(), StoreError> {
        let full = self.store.full_key(key);
        let Some(upload_id) = self.upload_id.clone() else {
            let body = std::mem::take(&mut self.buffer).freeze();
            self.store.put(key, body, Condition::Always).await?;
            return Ok(());
        };
        let finished = async {
            if !self.buffer.is_empty() {
                self.send_part().await?;
            }
            for handle in std::mem::take(&mut self.in_flight) {
                let part = join_part(handle).await?;
                self.parts.push(part);
            }
            Ok::<_, StoreError>(())
        }
        .await;
        if let Err(e) = finished {
            self.store.abort_multipart(&self.staging, &upload_id).await;
            return Err(e);
        }
        let parts = std::mem::take(&mut self.parts);
        self.store
            .complete_multipart(&self.staging, &upload_id, parts)
            .await?;
        if full != self.staging {
            self.store.copy(&self.staging, &full, self.len).await?;
            self.store.delete_full(&self.staging).await?;
        }
        Ok(())
    }

    pub(crate) async fn abort(mut self) -> Result<(), StoreError> {
        for handle in std::mem::take(&mut self.in_flight) {
            handle.abort();
        }
        if let Some(upload_id) = &self.upload_id {
            self.store.abort_multipart(&self.staging, upload_id).await;
        }
        Ok(())
    }
}

impl S3Store {
    async fn delete_full(&self, full: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(full)
            .send()
            .await
            .map_err(|e| self.error(full, "DeleteObject", e))?;
        Ok(())
    }
}

async fn join_part(
    handle: JoinHandle<Result<CompletedPart, StoreError>>,
) -> Result<CompletedPart, StoreError> {
    match handle.await {
        Ok(r) => r,
        Err(e) => Err(StoreError::Io {
            location: "(S3 upload task)".into(),
            op: "join",
            source: std::io::Error::other(e.to_string()),
        }),
    }
}
