//! Ingest on behalf of a user (the HTTP API): every record is checked before anything is
//! written (originator is the user's organisation; a partner posts at AMBER or above), the
//! same pipeline as files does the rest, and what one user can make the node keep of rejected
//! input is bounded per hour. Refused attempts are audited; an answer never describes another
//! submission (keys are namespaced by originator, and a conflict names no source).

use crate::guard::Guard;
use crate::views::{IngestReportV1, QuarantineV1};
use crate::AppError;
use rastro_core::{Kind, Quarantine};
use rastro_store::{AuditEvent, QuotaUse, Submitter};
use sha2::{Digest, Sha256};

/// Refusals listed in one refused ingest.
const MAX_REFUSALS: usize = 10;
/// Bytes of a rejected line kept in the quarantine (the readers keep at most this many).
const RAW_KEPT: u64 = 512;

/// What one user may spend per hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestLimits {
    pub attempts_per_hour: u64,
    pub rejected_lines_per_hour: u64,
    pub rejected_bytes_per_hour: u64,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            attempts_per_hour: 3600,
            rejected_lines_per_hour: 10_000,
            rejected_bytes_per_hour: 4 << 20,
        }
    }
}

fn quarantine_view(q: &Quarantine) -> QuarantineV1 {
    QuarantineV1 {
        seq: 0,
        source: q.source.clone(),
        line: q.line,
        kind: q.kind.map(|k| k.as_str().to_string()),
        field: q.field.clone(),
        reason: q.reason.clone(),
        raw: q.raw.clone(),
    }
}

impl Guard<'_> {
    fn refuse(&mut self, digest: &str, why: &str, n: usize) -> Result<(), AppError> {
        let mut ev = AuditEvent::new("ingest.refused");
        ev.detail = serde_json::json!({"body_sha256": digest, "why": why, "refusals": n});
        // A refusal is a write attempt: it is logged at once, whatever the read mode.
        let actor = self.actor().clone();
        self.store().audit(&actor, ev)?;
        Ok(())
    }

    /// Ingests a CSV or JSON Lines body as the viewer.
    pub fn ingest(
        &mut self,
        body: &[u8],
        kind: Option<Kind>,
        limits: &IngestLimits,
        now_ms: i64,
    ) -> Result<IngestReportV1, AppError> {
        let user = self
            .viewer()
            .map(|v| v.user.clone())
            .unwrap_or_else(|| self.actor().to_string());
        let digest = hex::encode(Sha256::digest(body));
        let hour = now_ms.div_euclid(3_600_000);
        let spent = self.store().quota_use(&user, hour)?;
        if spent.attempts >= limits.attempts_per_hour {
            self.refuse(&digest, "hourly attempts", 0)?;
            return Err(AppError::TooMany(format!(
                "{} ingest attempts this hour; try again next hour",
                limits.attempts_per_hour
            )));
        }
        // Check every record before anything is written: a refused body leaves nothing but
        // its audit entry.
        let mut refusals: Vec<(u64, String)> = Vec::new();
        let mut rejected = (0u64, 0u64);
        match rastro_ingest::open(std::io::Cursor::new(body), "api", kind) {
            Ok(mut reader) => loop {
                match reader.next_item() {
                    Ok(Some(rastro_ingest::Item::Record { line, record })) => {
                        if let Some(v) = self.viewer() {
                            if let Err(e) = self.policy().may_originate(
                                v,
                                record.originator(),
                                record.marking(),
                            ) {
                                if refusals.len() < MAX_REFUSALS {
                                    let id: String = record.id().chars().take(64).collect();
                                    refusals.push((line, format!("{} {id:?}: {e}", record.kind())));
                                } else {
                                    break;
                                }
                            }
                        }
                    }
                    Ok(Some(rastro_ingest::Item::Quarantine(q))) => {
                        rejected.0 += 1;
                        rejected.1 += (q.raw.len() as u64).min(RAW_KEPT);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        refusals.push((reader.line(), format!("unreadable: {e}")));
                        break;
                    }
                }
            },
            // An unreadable body is quarantined by the pipeline below, like a bad file.
            Err(_) => rejected.0 += 1,
        }
        if !refusals.is_empty() {
            self.refuse(&digest, "refused records", refusals.len())?;
            self.store().quota_add(
                &user,
                hour,
                QuotaUse {
                    attempts: 1,
                    ..Default::default()
                },
            )?;
            let list: Vec<String> = refusals
                .iter()
                .map(|(line, why)| format!("line {line}: {why}"))
                .collect();
            return Err(AppError::Forbidden(format!(
                "nothing was ingested: {}",
                list.join("; ")
            )));
        }
        if spent.rejected_lines + rejected.0 > limits.rejected_lines_per_hour
            || spent.rejected_bytes + rejected.1 > limits.rejected_bytes_per_hour
        {
            self.refuse(&digest, "hourly rejected input", 0)?;
            return Err(AppError::TooMany(format!(
                "this body would take your rejected lines this hour past {} (or {} bytes); fix the input, or try again next hour",
                limits.rejected_lines_per_hour, limits.rejected_bytes_per_hour
            )));
        }
        let submitter = self.viewer().map(|v| Submitter {
            user: v.user.clone(),
            org: v.org.clone(),
        });
        let source = format!("api:{user}:{digest}");
        let opts = rastro_pipeline::IngestOptions {
            kind,
            ..Default::default()
        };
        let actor = self.actor().clone();
        let report = rastro_pipeline::ingest_stream(
            self.store(),
            &actor,
            &source,
            submitter.as_ref(),
            std::io::Cursor::new(body),
            body.len() as u64,
            &opts,
            &(),
        )?;
        self.store().quota_add(
            &user,
            hour,
            QuotaUse {
                attempts: 1,
                rejected_lines: report.rejected,
                rejected_bytes: report
                    .examples
                    .iter()
                    .map(|q| q.raw.len() as u64)
                    .sum::<u64>()
                    .max(rejected.1),
            },
        )?;
        Ok(IngestReportV1 {
            source: report.source.clone(),
            kind: report.kind.map(|k| k.as_str().to_string()),
            lines: report.lines,
            inserted: report.stats.inserted,
            duplicates: report.stats.duplicates,
            conflicts: report.stats.conflicts,
            quarantined: report.stats.quarantined,
            rejected: report.rejected,
            examples: report.examples.iter().map(quarantine_view).collect(),
            collected_under_request: report.collected_under_request,
            collection_flagged: report.collection_flagged,
            flags: report.flag_examples.clone(),
        })
    }
}
