//! Why a job stopped, with the context a user needs to act on it.

use std::fmt;

/// The archive could not be read within the retry budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveError {
    pub url: String,
    pub epoch: u64,
    pub slot: Option<u64>,
    pub attempts: u32,
    pub message: String,
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "archive read failed at {} (epoch {}", self.url, self.epoch)?;
        if let Some(slot) = self.slot {
            write!(f, ", slot {slot}")?;
        }
        write!(f, ") after {} attempt(s): {}", self.attempts, self.message)
    }
}

#[derive(Debug)]
pub enum JobError<ConsumerError> {
    Archive(ArchiveError),
    /// The firehose finished a range yet a slot with a block in it was never delivered.
    /// Jetstreamer only logs such holes; a backfill must not report them as complete.
    Coverage { start: u64, end: u64, missing_slot: u64 },
    /// `onBatch` threw or rejected.
    Consumer(ConsumerError),
    Internal(String),
}

impl<E: fmt::Display> fmt::Display for JobError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Archive(err) => err.fmt(f),
            JobError::Coverage { start, end, missing_slot } => write!(
                f,
                "the firehose finished slots {start}..={end} but never delivered slot {missing_slot}, \
                 which the archive's slot index lists; the archive and its index disagree"
            ),
            JobError::Consumer(err) => write!(f, "onBatch failed: {err}"),
            JobError::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

impl<E> JobError<E> {
    /// Node-style `error.code`, so callers can branch without parsing messages.
    pub fn code(&self) -> &'static str {
        match self {
            JobError::Archive(_) => "ERR_BACKFILL_ARCHIVE",
            JobError::Coverage { .. } => "ERR_BACKFILL_COVERAGE",
            JobError::Consumer(_) => "ERR_BACKFILL_ON_BATCH",
            JobError::Internal(_) => "ERR_BACKFILL_INTERNAL",
        }
    }
}
