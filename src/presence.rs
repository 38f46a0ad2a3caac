//! Which slots of an epoch have a block, read from the archive's slot-ranges index.
//!
//! Completed-range bookkeeping needs to know that a slot was skipped, and Jetstreamer does
//! not say so reliably (no skip callback before an epoch's first block or after a thread's
//! last one). The `epoch-N-slot-ranges.raw` file does: a zero length means no block. This
//! module fetches it itself (about 5 MB an epoch, small next to the CAR) so that the
//! answer never depends on which index Jetstreamer happened to load.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ArchiveError;
use crate::options::SLOTS_PER_EPOCH;

const RECORD_SIZE: usize = 12;

#[derive(Debug)]
pub struct EpochPresence {
    first_slot: u64,
    present: Vec<u64>,
}

impl EpochPresence {
    pub fn from_slot_ranges(epoch: u64, bytes: &[u8]) -> Result<Self, String> {
        let expected = SLOTS_PER_EPOCH as usize * RECORD_SIZE;
        if bytes.len() != expected {
            return Err(format!("slot-ranges index is {} bytes, expected {expected}", bytes.len()));
        }
        let mut present = vec![0u64; (SLOTS_PER_EPOCH as usize).div_ceil(64)];
        for (slot_offset, record) in bytes.chunks_exact(RECORD_SIZE).enumerate() {
            if record[8..12] != [0, 0, 0, 0] {
                present[slot_offset / 64] |= 1 << (slot_offset % 64);
            }
        }
        Ok(Self { first_slot: epoch * SLOTS_PER_EPOCH, present })
    }

    /// The first slot with a block in `[from, to]`, both inside this epoch.
    pub fn next_present(&self, from: u64, to: u64) -> Option<u64> {
        let last = to.min(self.first_slot + SLOTS_PER_EPOCH - 1);
        if from > last {
            return None;
        }
        let mut offset = (from - self.first_slot) as usize;
        let end = (last - self.first_slot) as usize;
        while offset <= end {
            let word = self.present[offset / 64] >> (offset % 64);
            if word != 0 {
                let found = offset + word.trailing_zeros() as usize;
                return (found <= end).then_some(self.first_slot + found as u64);
            }
            offset = (offset / 64 + 1) * 64;
        }
        None
    }

    pub fn present_count(&self, from: u64, to: u64) -> u64 {
        let mut count = 0;
        let mut slot = from;
        while let Some(found) = self.next_present(slot, to) {
            count += 1;
            slot = found + 1;
        }
        count
    }
}

pub struct PresenceIndex {
    base_url: String,
    client: reqwest::Client,
    max_attempts: u32,
    epochs: tokio::sync::Mutex<HashMap<u64, Arc<EpochPresence>>>,
}

impl PresenceIndex {
    pub fn new(base_url: &str, max_attempts: u32) -> Self {
        Self {
            base_url: base_url.to_string(),
            client: reqwest::Client::new(),
            max_attempts,
            epochs: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn index_url(&self, epoch: u64) -> String {
        format!("{}{epoch}/epoch-{epoch}-slot-ranges.raw", self.base_url)
    }

    pub async fn epoch(&self, epoch: u64) -> Result<Arc<EpochPresence>, ArchiveError> {
        let mut epochs = self.epochs.lock().await;
        if let Some(found) = epochs.get(&epoch) {
            return Ok(found.clone());
        }
        let loaded = Arc::new(self.fetch(epoch).await?);
        epochs.insert(epoch, loaded.clone());
        Ok(loaded)
    }

    /// The first slot with a block in `[from, to]`, across epochs.
    pub async fn next_present(&self, from: u64, to: u64) -> Result<Option<u64>, ArchiveError> {
        let mut slot = from;
        while slot <= to {
            let epoch = slot / SLOTS_PER_EPOCH;
            let presence = self.epoch(epoch).await.map_err(|mut err| {
                err.slot.get_or_insert(slot);
                err
            })?;
            if let Some(found) = presence.next_present(slot, to) {
                return Ok(Some(found));
            }
            slot = (epoch + 1) * SLOTS_PER_EPOCH;
        }
        Ok(None)
    }

    async fn fetch(&self, epoch: u64) -> Result<EpochPresence, ArchiveError> {
        let url = self.index_url(epoch);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = async {
                let response = self.client.get(&url).send().await.map_err(|err| describe_reqwest(&err))?;
                let status = response.status();
                if !status.is_success() {
                    return Err(format!("HTTP {status}"));
                }
                let body = response.bytes().await.map_err(|err| describe_reqwest(&err))?;
                EpochPresence::from_slot_ranges(epoch, &body)
            }
            .await;
            match outcome {
                Ok(presence) => return Ok(presence),
                Err(message) if attempt >= self.max_attempts => {
                    return Err(ArchiveError { url, epoch, slot: None, attempts: attempt, message });
                }
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(250 << attempt.min(5))).await;
                }
            }
        }
    }
}

/// reqwest's Display hides the cause ("error sending request"); the chain names it.
pub fn describe_reqwest(err: &reqwest::Error) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_with(epoch: u64, present: &[u64]) -> Vec<u8> {
        let mut bytes = vec![0u8; SLOTS_PER_EPOCH as usize * RECORD_SIZE];
        for slot in present {
            let record = ((slot - epoch * SLOTS_PER_EPOCH) as usize) * RECORD_SIZE;
            bytes[record + 8] = 1;
        }
        bytes
    }

    #[test]
    fn finds_present_slots_across_word_boundaries() {
        let epoch = 3;
        let base = epoch * SLOTS_PER_EPOCH;
        let slots = [base, base + 63, base + 64, base + 200, base + SLOTS_PER_EPOCH - 1];
        let presence = EpochPresence::from_slot_ranges(epoch, &index_with(epoch, &slots)).unwrap();
        assert_eq!(presence.next_present(base, base + 10), Some(base));
        assert_eq!(presence.next_present(base + 1, base + 62), None);
        assert_eq!(presence.next_present(base + 1, base + 63), Some(base + 63));
        assert_eq!(presence.next_present(base + 65, base + 199), None);
        assert_eq!(presence.next_present(base + 65, u64::MAX), Some(base + 200));
        assert_eq!(presence.next_present(base + 201, u64::MAX), Some(base + SLOTS_PER_EPOCH - 1));
        assert_eq!(presence.present_count(base, base + 1000), 4);
    }

    #[test]
    fn rejects_an_index_of_the_wrong_size() {
        assert!(EpochPresence::from_slot_ranges(1, &[0; 12]).unwrap_err().contains("expected"));
    }
}
