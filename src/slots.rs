//! Per-thread slot assembly: a slot's matched transactions are held until its block arrives.
//!
//! Jetstreamer calls the transaction handler for each of a slot's transactions and then the
//! block handler; a thread that fails mid-slot restarts that slot from its first transaction.
//! Whatever a thread buffered before a restart is therefore dropped, never delivered twice:
//! a restart shows up either as an error callback (`discard`) or as a transaction whose
//! position does not follow the previous one's.

use std::sync::Mutex;

use crate::record::RawTransaction;

#[derive(Debug, Default)]
struct ThreadSlot {
    slot: Option<u64>,
    last_index: Option<usize>,
    scanned: u64,
    matched: Vec<RawTransaction>,
}

impl ThreadSlot {
    fn restart(&mut self, slot: Option<u64>) {
        self.slot = slot;
        self.last_index = None;
        self.scanned = 0;
        self.matched.clear();
    }
}

/// A slot whose block has been read: every matched transaction in it, in block order.
#[derive(Debug, Default)]
pub struct AssembledSlot {
    pub slot: u64,
    pub scanned: u64,
    pub transactions: Vec<RawTransaction>,
}

pub struct SlotAssembly {
    threads: Vec<Mutex<ThreadSlot>>,
}

impl SlotAssembly {
    pub fn new(threads: usize) -> Self {
        Self { threads: (0..threads.max(1)).map(|_| Mutex::default()).collect() }
    }

    fn thread(&self, thread: usize) -> std::sync::MutexGuard<'_, ThreadSlot> {
        // A poisoned lock only means another callback panicked; the buffer is still valid.
        self.threads[thread % self.threads.len()].lock().unwrap_or_else(|poison| poison.into_inner())
    }

    pub fn add_transaction(&self, thread: usize, slot: u64, index: usize, matched: Option<RawTransaction>) {
        let mut buffer = self.thread(thread);
        let continues = buffer.slot == Some(slot) && buffer.last_index.is_none_or(|last| index > last);
        if !continues {
            buffer.restart(Some(slot));
        }
        buffer.last_index = Some(index);
        buffer.scanned += 1;
        if let Some(tx) = matched {
            buffer.matched.push(tx);
        }
    }

    /// The block of `slot` was read on `thread`: hand over what was buffered for it.
    pub fn finish_slot(&self, thread: usize, slot: u64, block_time: Option<i64>) -> AssembledSlot {
        let mut buffer = self.thread(thread);
        let assembled = if buffer.slot == Some(slot) {
            let mut transactions = std::mem::take(&mut buffer.matched);
            for tx in &mut transactions {
                tx.block_time = block_time;
            }
            AssembledSlot { slot, scanned: buffer.scanned, transactions }
        } else {
            AssembledSlot { slot, ..AssembledSlot::default() }
        };
        buffer.restart(None);
        assembled
    }

    /// The thread hit an error and will re-read its current slot from the start.
    pub fn discard(&self, thread: usize) {
        self.thread(thread).restart(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_signature::Signature;
    use solana_transaction::versioned::VersionedTransaction;

    /// A transaction told apart by its first signature byte.
    fn tx(tag: u8) -> Option<RawTransaction> {
        Some(RawTransaction {
            slot: 0,
            index: 0,
            block_time: None,
            tx: VersionedTransaction { signatures: vec![Signature::from([tag; 64])], message: Default::default() },
            meta: Default::default(),
        })
    }

    fn tags(slot: &AssembledSlot) -> Vec<u8> {
        slot.transactions.iter().map(|t| t.tx.signatures[0].as_ref()[0]).collect()
    }

    #[test]
    fn a_replayed_slot_is_delivered_once() {
        let assembly = SlotAssembly::new(2);
        assembly.add_transaction(0, 10, 0, tx(b'a'));
        assembly.add_transaction(0, 10, 1, tx(b'b'));
        // The thread failed and restarted slot 10 without an error callback in between.
        assembly.add_transaction(0, 10, 0, tx(b'a'));
        assembly.add_transaction(0, 10, 1, tx(b'b'));
        assembly.add_transaction(0, 10, 2, None);
        let slot = assembly.finish_slot(0, 10, Some(99));
        assert_eq!(tags(&slot), [b'a', b'b']);
        assert_eq!(slot.scanned, 3);
        assert!(slot.transactions.iter().all(|t| t.block_time == Some(99)));
    }

    #[test]
    fn an_error_drops_the_partial_slot() {
        let assembly = SlotAssembly::new(1);
        assembly.add_transaction(0, 10, 0, tx(b'a'));
        assembly.discard(0);
        assembly.add_transaction(0, 10, 1, tx(b'b'));
        assert_eq!(tags(&assembly.finish_slot(0, 10, None)), [b'b']);
    }

    #[test]
    fn threads_do_not_mix_and_stale_slots_are_dropped() {
        let assembly = SlotAssembly::new(2);
        assembly.add_transaction(0, 10, 0, tx(0));
        assembly.add_transaction(1, 500, 0, tx(1));
        // Thread 0 moved on to slot 11 without finishing 10 (a restart past it).
        assembly.add_transaction(0, 11, 0, tx(11));
        assert_eq!(tags(&assembly.finish_slot(1, 500, None)), [1]);
        assert_eq!(tags(&assembly.finish_slot(0, 11, None)), [11]);
        // A block whose transactions were never buffered brings none.
        assert_eq!(assembly.finish_slot(0, 12, None).transactions.len(), 0);
    }
}
