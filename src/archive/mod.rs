//! Writes archives in Old Faithful's layout, for tests, demos and offline mirrors.
//!
//! Per epoch N: `N/epoch-N.car` (CARv1 of DAG-CBOR nodes: each slot's transactions and
//! entries, then its block; subset and epoch nodes at the end) and
//! `N/epoch-N-slot-ranges.raw` (432,000 records of `offset u64 LE, length u32 LE`, zero for
//! skipped slots). The proof that this is the real layout is that Jetstreamer's reader,
//! unmodified, streams these files over HTTP in the tests.

mod cbor;
pub mod spec;

use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use cbor::{Cbor, Cid, EMPTY_IDENTITY_CID, cid_of, uvarint};
use sha2::{Digest, Sha256};
use solana_storage_proto::convert::generated;
use solana_transaction_status::TransactionStatusMeta;

use crate::options::SLOTS_PER_EPOCH;
pub use spec::ArchiveSpec;

/// Old Faithful stored metadata as bincode before this epoch, protobuf from it on.
const PROTOBUF_EPOCH_CUTOFF: u64 = 157;
/// Transactions per entry: real blocks spread transactions over many entries.
const TRANSACTIONS_PER_ENTRY: usize = 64;
const RECORD_SIZE: usize = 12;

#[derive(Debug, Clone, PartialEq)]
pub struct EpochWritten {
    pub epoch: u64,
    pub car_path: PathBuf,
    pub index_path: PathBuf,
    pub car_bytes: u64,
    pub blocks: u64,
    pub transactions: u64,
}

pub fn write_archive(spec: &ArchiveSpec, dir: &Path) -> Result<Vec<EpochWritten>, String> {
    let mut blocks: Vec<&spec::BlockSpec> = spec.blocks.iter().collect();
    blocks.sort_by_key(|block| block.slot);
    if let Some(pair) = blocks.windows(2).find(|pair| pair[0].slot == pair[1].slot) {
        return Err(format!("blocks: slot {} appears twice", pair[0].slot));
    }
    if blocks.first().is_some_and(|block| block.slot == 0) {
        // Jetstreamer never emits slot 0's block (its "last counted slot" starts there).
        return Err("blocks: slot 0 cannot be streamed by Jetstreamer; start at slot 1".into());
    }
    let mut written = Vec::new();
    for epoch_blocks in blocks.chunk_by(|a, b| a.slot / SLOTS_PER_EPOCH == b.slot / SLOTS_PER_EPOCH) {
        let epoch = epoch_blocks[0].slot / SLOTS_PER_EPOCH;
        written.push(write_epoch(epoch, epoch_blocks, dir)?);
    }
    Ok(written)
}

fn write_epoch(epoch: u64, blocks: &[&spec::BlockSpec], dir: &Path) -> Result<EpochWritten, String> {
    let epoch_dir = dir.join(epoch.to_string());
    fs::create_dir_all(&epoch_dir).map_err(|err| format!("{}: {err}", epoch_dir.display()))?;
    let car_path = epoch_dir.join(format!("epoch-{epoch}.car"));
    let index_path = epoch_dir.join(format!("epoch-{epoch}-slot-ranges.raw"));
    let io_err = |path: &Path| {
        let path = path.display().to_string();
        move |err: std::io::Error| format!("{path}: {err}")
    };

    let mut car = CarWriter::create(&car_path).map_err(io_err(&car_path))?;
    let mut slot_ranges = vec![0u8; SLOTS_PER_EPOCH as usize * RECORD_SIZE];
    let first_slot = epoch * SLOTS_PER_EPOCH;
    let mut block_cids = Vec::with_capacity(blocks.len());
    let mut transactions = 0u64;
    let mut previous_slot = first_slot.saturating_sub(1);
    for block in blocks {
        let slot_start = car.offset;
        let mut entry_cids = Vec::new();
        let mut tx_cids: Vec<Cid> = Vec::new();
        for (index, tx_spec) in block.transactions.iter().enumerate() {
            let field = format!("blocks[slot {}].transactions[{index}]", block.slot);
            let (tx, meta) = tx_spec.build(block.slot, index, &field)?;
            let tx_bytes = wincode::serialize(&tx).map_err(|err| format!("{field}: {err}"))?;
            let meta_bytes = encode_metadata(epoch, meta).map_err(|err| format!("{field}: {err}"))?;
            let mut node = Cbor::default();
            node.array(5).uint(0);
            dataframe(&mut node, &tx_bytes);
            dataframe(&mut node, &meta_bytes);
            node.uint(block.slot).uint(index as u64);
            tx_cids.push(car.section(&node.bytes).map_err(io_err(&car_path))?);
            let last = index + 1 == block.transactions.len();
            if tx_cids.len() == TRANSACTIONS_PER_ENTRY || last {
                entry_cids.push(write_entry(&mut car, block.slot, entry_cids.len(), &tx_cids).map_err(io_err(&car_path))?);
                tx_cids.clear();
            }
        }
        if entry_cids.is_empty() {
            // A block always has at least one (tick) entry.
            entry_cids.push(write_entry(&mut car, block.slot, 0, &[]).map_err(io_err(&car_path))?);
        }
        transactions += block.transactions.len() as u64;
        let block_time = block.block_time.unwrap_or(1_600_000_000 + (block.slot * 2 / 5) as i64);
        let mut node = Cbor::default();
        node.array(6).uint(2).uint(block.slot).array(0).array(entry_cids.len());
        for cid in &entry_cids {
            node.link(cid);
        }
        node.array(3)
            .uint(block.parent_slot.unwrap_or(previous_slot))
            .uint(block_time.max(0) as u64)
            .optional_uint(block.block_height)
            .link(&EMPTY_IDENTITY_CID);
        block_cids.push(car.section(&node.bytes).map_err(io_err(&car_path))?);
        let record = ((block.slot - first_slot) as usize) * RECORD_SIZE;
        slot_ranges[record..record + 8].copy_from_slice(&slot_start.to_le_bytes());
        let length = u32::try_from(car.offset - slot_start)
            .map_err(|_| format!("blocks[slot {}]: a slot's data must stay under 4 GiB", block.slot))?;
        slot_ranges[record + 8..record + 12].copy_from_slice(&length.to_le_bytes());
        previous_slot = block.slot;
    }
    let last_slot = blocks.last().map_or(first_slot, |block| block.slot);
    let mut subset = Cbor::default();
    subset.array(4).uint(3).uint(blocks[0].slot).uint(last_slot).array(block_cids.len());
    for cid in &block_cids {
        subset.link(cid);
    }
    let subset_cid = car.section(&subset.bytes).map_err(io_err(&car_path))?;
    let mut epoch_node = Cbor::default();
    epoch_node.array(3).uint(4).uint(epoch).array(1).link(&subset_cid);
    let root = car.section(&epoch_node.bytes).map_err(io_err(&car_path))?;
    let car_bytes = car.finish(&root).map_err(io_err(&car_path))?;
    fs::write(&index_path, &slot_ranges).map_err(io_err(&index_path))?;
    Ok(EpochWritten { epoch, car_path, index_path, car_bytes, blocks: blocks.len() as u64, transactions })
}

fn dataframe(node: &mut Cbor, data: &[u8]) {
    node.array(5).uint(6).null().null().null().bytes(data);
}

fn write_entry(car: &mut CarWriter, slot: u64, entry_index: usize, tx_cids: &[Cid]) -> std::io::Result<Cid> {
    let hash = Sha256::digest(format!("entry:{slot}:{entry_index}"));
    let mut node = Cbor::default();
    node.array(4).uint(1).uint(1).bytes(&hash).array(tx_cids.len());
    for cid in tx_cids {
        node.link(cid);
    }
    car.section(&node.bytes)
}

fn encode_metadata(epoch: u64, meta: TransactionStatusMeta) -> Result<Vec<u8>, String> {
    let raw = if epoch < PROTOBUF_EPOCH_CUTOFF {
        let stored = solana_storage_proto::StoredTransactionStatusMeta::try_from(meta)
            .map_err(|err| format!("metadata cannot be stored as bincode: {err:?}"))?;
        bincode::serialize(&stored).map_err(|err| err.to_string())?
    } else {
        prost::Message::encode_to_vec(&generated::TransactionStatusMeta::from(meta))
    };
    zstd::encode_all(raw.as_slice(), 3).map_err(|err| err.to_string())
}

/// CARv1 writer. The header's root (the epoch node) is known only at the end, and a
/// dag-cbor CID has a fixed size, so the header's bytes are reserved first and filled last.
struct CarWriter {
    file: BufWriter<File>,
    offset: u64,
}

impl CarWriter {
    fn header(root: &Cid) -> Vec<u8> {
        let mut header = Cbor::default();
        header.map(2).text("roots").array(1).link(root).text("version").uint(1);
        let mut framed = Vec::new();
        uvarint(header.bytes.len() as u64, &mut framed);
        framed.extend_from_slice(&header.bytes);
        framed
    }

    fn create(path: &Path) -> std::io::Result<Self> {
        let mut file = BufWriter::new(File::create(path)?);
        let reserved = Self::header(&[0u8; 36]);
        file.write_all(&reserved)?;
        Ok(Self { file, offset: reserved.len() as u64 })
    }

    fn section(&mut self, cbor: &[u8]) -> std::io::Result<Cid> {
        let cid = cid_of(cbor);
        let mut prefix = Vec::with_capacity(10);
        uvarint((cid.len() + cbor.len()) as u64, &mut prefix);
        self.file.write_all(&prefix)?;
        self.file.write_all(&cid)?;
        self.file.write_all(cbor)?;
        self.offset += (prefix.len() + cid.len() + cbor.len()) as u64;
        Ok(cid)
    }

    fn finish(mut self, root: &Cid) -> std::io::Result<u64> {
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&Self::header(root))?;
        self.file.flush()?;
        Ok(self.offset)
    }
}
