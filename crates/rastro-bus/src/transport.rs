//! The NATS JetStream connection: the stream, its partition consumers, and publishing with
//! bounded retries.

use crate::partition::{partition_filter, PARTITIONS};
use crate::BusError;
use async_nats::jetstream::{self, consumer, stream};
use std::time::Duration;

/// The ingest stream.
pub const STREAM: &str = "RASTRO_INGEST";

/// Header with the publish time (Unix ms), from which workers measure latency.
pub const PUBLISHED_MS_HEADER: &str = "Rastro-Published-Ms";

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How the stream and its consumers are set up.
#[derive(Debug, Clone)]
pub struct BusConfig {
    /// Most bytes the stream holds before publishers are refused (and retry): the bus's
    /// backpressure, instead of dropping old batches.
    pub max_bytes: i64,
    /// How long a delivered batch may go unacknowledged before it is delivered again (to
    /// whichever worker of its partition asks next).
    pub ack_wait_s: u64,
    /// Most unacknowledged batches per partition consumer: a worker's bound on memory.
    pub max_ack_pending: i64,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            max_bytes: 4 << 30,
            ack_wait_s: 30,
            max_ack_pending: 64,
        }
    }
}

/// A connection to the bus.
pub struct Bus {
    pub(crate) js: jetstream::Context,
    pub(crate) client: async_nats::Client,
    pub(crate) cfg: BusConfig,
}

fn js_err(what: &str, e: impl std::fmt::Display) -> BusError {
    BusError::JetStream {
        what: what.to_string(),
        err: e.to_string(),
    }
}

impl Bus {
    /// Connects (retrying the first connection for a while, so a worker may start before the
    /// server) and makes sure the stream exists.
    pub async fn connect(url: &str, cfg: BusConfig) -> Result<Bus, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("rastro")
            .retry_on_initial_connect()
            .max_reconnects(Some(120))
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| BusError::Connect {
                url: url.to_string(),
                err: e.to_string(),
            })?;
        let js = jetstream::new(client.clone());
        let bus = Bus { js, client, cfg };
        // The first connection is lazy with retry_on_initial_connect: wait for it so that a
        // wrong address fails here, with its name, and not at the first publish.
        let mut waited_ms = 0u64;
        while bus.client.connection_state() != async_nats::connection::State::Connected {
            if waited_ms >= 30_000 {
                return Err(BusError::Connect {
                    url: url.to_string(),
                    err: "no connection after 30 s".into(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited_ms += 50;
        }
        bus.ensure_stream().await?;
        Ok(bus)
    }

    async fn ensure_stream(&self) -> Result<stream::Stream, BusError> {
        self.js
            .get_or_create_stream(stream::Config {
                name: STREAM.to_string(),
                subjects: vec!["rastro.ingest.>".to_string()],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                discard: stream::DiscardPolicy::New,
                max_bytes: self.cfg.max_bytes,
                max_message_size: (4 * crate::MAX_ENVELOPE_BYTES) as i32,
                duplicate_window: Duration::from_secs(600),
                ..Default::default()
            })
            .await
            .map_err(|e| js_err("creating the ingest stream", e))
    }

    /// The durable consumer of one partition (created on first use).
    pub async fn partition_consumer(
        &self,
        partition: u32,
    ) -> Result<consumer::PullConsumer, BusError> {
        assert!(partition < PARTITIONS);
        let stream = self.ensure_stream().await?;
        let name = format!("ingest-p{partition:02}");
        stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    filter_subject: partition_filter(partition),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(self.cfg.ack_wait_s),
                    max_ack_pending: self.cfg.max_ack_pending,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| js_err(&format!("consumer {name}"), e))
    }

    /// Publishes one encoded batch and waits for the stream to store it, retrying with
    /// backoff (the connection reconnects on its own; the id makes a retry harmless).
    pub async fn publish(&self, subject: &str, payload: Vec<u8>) -> Result<(), BusError> {
        const ATTEMPTS: u32 = 40;
        let id = crate::Envelope::msg_id(&payload);
        let payload = bytes::Bytes::from(payload);
        let mut delay_ms = 50u64;
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            // The publish time travels as a header, outside the payload, so the payload (and
            // with it the de-duplication id) stays a function of the data alone.
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(PUBLISHED_MS_HEADER, now_ms().to_string().as_str());
            let msg = jetstream::message::PublishMessage::build()
                .payload(payload.clone())
                .headers(headers)
                .message_id(&id);
            match self.js.send_publish(subject.to_string(), msg).await {
                Ok(ack) => match ack.await {
                    Ok(_) => return Ok(()),
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
            tracing::warn!(%subject, err = %last, delay_ms, "publish not acknowledged; retrying");
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            delay_ms = (delay_ms * 2).min(2_000);
        }
        Err(BusError::Publish {
            subject: subject.to_string(),
            attempts: ATTEMPTS,
            err: last,
        })
    }
}
