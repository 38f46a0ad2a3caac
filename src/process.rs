//! Process-wide state that Jetstreamer keeps in statics: the archive URL and its logging.
//!
//! Jetstreamer reads `JETSTREAMER_HTTP_BASE_URL` / `JETSTREAMER_COMPACT_INDEX_BASE_URL` once,
//! into lazy statics, on its first run. A second URL in the same process would silently be
//! ignored, so the first job's URL is pinned here and any other is refused.

use std::sync::{Mutex, Once};

static ARCHIVE_URL: Mutex<Option<String>> = Mutex::new(None);
static LOGGER: Once = Once::new();

#[derive(Debug, PartialEq, Eq)]
pub struct ArchiveUrlConflict {
    pub in_use: String,
    pub requested: String,
}

impl std::fmt::Display for ArchiveUrlConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "options.archiveUrl: this process already reads from {} and Jetstreamer cannot switch \
             archives within a process; run the job for {} in another process",
            self.in_use, self.requested
        )
    }
}

/// Points Jetstreamer at `url` (with its trailing slash) before its first run.
pub fn use_archive_url(url: &str) -> Result<(), ArchiveUrlConflict> {
    let mut pinned = ARCHIVE_URL.lock().unwrap_or_else(|p| p.into_inner());
    match pinned.as_deref() {
        Some(in_use) if in_use == url => Ok(()),
        Some(in_use) => Err(ArchiveUrlConflict { in_use: in_use.to_string(), requested: url.to_string() }),
        None => {
            // SAFETY: set once, under the lock, before any Jetstreamer code reads the
            // environment; Node's own threads do not write these variables.
            unsafe {
                std::env::set_var("JETSTREAMER_ARCHIVE_BACKEND", "http");
                std::env::set_var("JETSTREAMER_HTTP_BASE_URL", url);
                std::env::set_var("JETSTREAMER_COMPACT_INDEX_BASE_URL", url);
            }
            *pinned = Some(url.to_string());
            Ok(())
        }
    }
}

/// Jetstreamer logs through the `log` crate; nothing is printed unless a job asks for it.
pub fn set_log_level(level: Option<log::LevelFilter>) {
    let Some(level) = level else { return };
    LOGGER.call_once(|| {
        let _ = env_logger::Builder::new()
            .filter_level(log::LevelFilter::Trace)
            .target(env_logger::Target::Stderr)
            .try_init();
    });
    log::set_max_level(level);
}
