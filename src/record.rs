//! What JavaScript receives: batches, transactions, checkpoints, progress and the summary.
//!
//! These are plain Rust values built off the Node thread (on the firehose threads). A batch
//! crosses to JS as JSON text that the Node thread parses in one `JSON.parse`: V8 builds
//! objects from JSON several times faster than napi can set their properties one by one,
//! and the main thread is the one the host application serves from. Integers that can
//! exceed 2^53 are [`SafeInteger`]s: a JS number when exact, else a decimal string, the
//! same rule Uho's `normalizeValue` applies to decoded events.
//!
//! The `#[napi(object)]` attributes declare the TypeScript types of that JSON.

use napi_derive::napi;
use serde::Serialize;
use solana_message::compiled_instruction::CompiledInstruction;
use solana_message::VersionedMessage;
use solana_transaction_status::TransactionStatusMeta;
use solana_transaction::versioned::VersionedTransaction;

use crate::decode::{self, EventSource, FailureTally};
use crate::filter::AccountKeys;

/// `number` when exact in a JS double, else the decimal string.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SafeInteger {
    Number(i64),
    Text(String),
}

pub fn safe_integer(value: u64) -> SafeInteger {
    if value <= (1 << 53) - 1 {
        SafeInteger::Number(value as i64)
    } else {
        SafeInteger::Text(value.to_string())
    }
}

/// `'legacy'` or the message version number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageVersion {
    Legacy,
    Numbered(u8),
}

impl Serialize for MessageVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MessageVersion::Legacy => serializer.serialize_str("legacy"),
            MessageVersion::Numbered(version) => serializer.serialize_u8(*version),
        }
    }
}

#[napi(object, object_to_js = false, object_from_js = false, use_nullable = true)]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Instruction {
    /// Index into `accountKeys` (static keys, then ALT-loaded writable, then readonly).
    pub program_id_index: u32,
    pub accounts: Vec<u32>,
    /// Base58, as in the RPC's `json` encoding.
    pub data: String,
    /// Invocation depth as the runtime recorded it (1 = top level); null when unrecorded.
    pub stack_height: Option<u32>,
}

#[napi(object, object_to_js = false, object_from_js = false, use_nullable = true)]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InnerInstructions {
    /// Index of the top-level instruction these ran under.
    pub index: u32,
    pub instructions: Vec<Instruction>,
}

#[napi(object, object_to_js = false, object_from_js = false, use_nullable = true)]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub signature: String,
    pub slot: i64,
    /// Unix seconds from the block; null only if the archive recorded none.
    pub block_time: Option<i64>,
    /// Position of the transaction in its block.
    pub index: u32,
    /// 'legacy', or the message version number (0 for v0).
    #[napi(ts_type = "'legacy' | number")]
    pub version: MessageVersion,
    /// null on success, else the runtime's `TransactionError` as the RPC renders it.
    #[napi(ts_type = "string | Record<string, unknown>")]
    pub err: Option<serde_json::Value>,
    /// null when the archive holds no log messages for this transaction.
    pub logs: Option<Vec<String>>,
    /// Lamports; a decimal string in the (theoretical) case it exceeds 2^53.
    #[napi(ts_type = "number | string")]
    pub fee: SafeInteger,
    /// At most 1.4M by the runtime's compute budget, so always an exact number.
    pub compute_units_consumed: Option<u32>,
    /// Static keys, then keys loaded from lookup tables: writable, then readonly.
    pub account_keys: Vec<String>,
    pub instructions: Vec<Instruction>,
    /// null when the archive recorded no inner instructions (old epochs).
    pub inner_instructions: Option<Vec<InnerInstructions>>,
    /// The runtime cut this transaction's logs short ("Log truncated"): events written
    /// after the cut are missing from `logs` (those sent with `emit_cpi!` are not).
    pub log_truncated: bool,
}

/// A matched transaction as Jetstreamer handed it over, moved (not copied) out of the
/// firehose callback; converted for JS later, off the firehose threads.
#[derive(Debug)]
pub struct RawTransaction {
    pub slot: u64,
    pub index: usize,
    pub block_time: Option<i64>,
    pub tx: VersionedTransaction,
    pub meta: TransactionStatusMeta,
}

impl Transaction {
    /// The JS view of one matched transaction; `signature` and `log_truncated` are what
    /// `RawTransaction::signature` and `logs_truncated` already worked out.
    pub fn from_raw(raw: RawTransaction, signature: String, log_truncated: bool) -> Self {
        let RawTransaction { slot, index, block_time, tx, mut meta } = raw;
        let keys = AccountKeys::new(&tx, &meta);
        let account_keys = keys.iter().map(|key| key.to_string()).collect();
        let logs = meta.log_messages.take();
        Transaction {
            signature,
            slot: slot as i64,
            block_time,
            index: index as u32,
            version: match tx.message {
                VersionedMessage::Legacy(_) => MessageVersion::Legacy,
                VersionedMessage::V0(_) => MessageVersion::Numbered(0),
                VersionedMessage::V1(_) => MessageVersion::Numbered(1),
            },
            err: meta.status.as_ref().err().map(|err| {
                serde_json::to_value(err).unwrap_or_else(|_| serde_json::Value::String(err.to_string()))
            }),
            log_truncated,
            logs,
            fee: safe_integer(meta.fee),
            compute_units_consumed: meta.compute_units_consumed.map(|units| units.min(u32::MAX as u64) as u32),
            account_keys,
            instructions: tx.message.instructions().iter().map(|ix| instruction(ix, None)).collect(),
            inner_instructions: meta.inner_instructions.as_ref().map(|groups| {
                groups
                    .iter()
                    .map(|group| InnerInstructions {
                        index: group.index as u32,
                        instructions: group
                            .instructions
                            .iter()
                            .map(|inner| instruction(&inner.instruction, inner.stack_height))
                            .collect(),
                    })
                    .collect()
            }),
        }
    }
}

fn instruction(ix: &CompiledInstruction, stack_height: Option<u32>) -> Instruction {
    Instruction {
        program_id_index: ix.program_id_index as u32,
        accounts: ix.accounts.iter().map(|&a| a as u32).collect(),
        data: bs58::encode(&ix.data).into_string(),
        stack_height,
    }
}

/// An Anchor event, in the shape of Uho's `DecodedEvent`. `(txSignature, eventIndex)` is
/// stable across runs over the same archive and IDLs.
#[napi(object, object_to_js = false, object_from_js = false, use_nullable = true)]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecodedEvent {
    pub event_name: String,
    pub program_id: String,
    pub slot: i64,
    pub block_time: Option<i64>,
    pub tx_signature: String,
    /// Top-level instruction during which the event was emitted.
    pub ix_index: u32,
    /// Position among that instruction's inner instructions of the emitting invocation
    /// (for 'cpi', of the `emit_cpi!` instruction itself); null at the top level.
    pub inner_ix_index: Option<u32>,
    pub event_index: u32,
    #[napi(ts_type = "'log' | 'cpi'")]
    pub source: EventSource,
    /// Integers as numbers when exact, else decimal strings; pubkeys base58; bytes `\\x`+hex.
    #[napi(ts_type = "Record<string, unknown>")]
    pub data: serde_json::Value,
}

#[napi(object, object_to_js = false, object_from_js = false, use_nullable = true)]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecodedInstruction {
    pub name: String,
    pub program_id: String,
    pub slot: i64,
    pub block_time: Option<i64>,
    pub tx_signature: String,
    pub ix_index: u32,
    /// null for a top-level instruction.
    pub inner_ix_index: Option<u32>,
    #[napi(ts_type = "Record<string, unknown>")]
    pub args: serde_json::Value,
    /// Account names from the IDL, in order, to base58 keys.
    #[napi(ts_type = "Record<string, string>")]
    pub accounts: std::collections::BTreeMap<String, String>,
}

impl RawTransaction {
    /// The first signature, base58: the transaction's id in every record made of it.
    pub fn signature(&self) -> String {
        self.tx.signatures.first().map(|s| s.to_string()).unwrap_or_default()
    }

    /// The runtime writes `Log truncated` when it stops recording a transaction's logs.
    pub fn logs_truncated(&self) -> bool {
        self.meta.log_messages.iter().flatten().any(|line| line == "Log truncated")
    }
}

/// Appends what the IDLs made of one transaction to `events` and `instructions`, in the JS
/// shapes; the position in the decoder's event list is the event's `eventIndex`.
pub fn push_decoded(
    decoded: decode::DecodedTransaction,
    (signature, slot, block_time): (&str, i64, Option<i64>),
    events: &mut Vec<DecodedEvent>,
    instructions: &mut Vec<DecodedInstruction>,
) {
    events.extend(decoded.events.into_iter().enumerate().map(|(event_index, event)| DecodedEvent {
        event_name: event.name,
        program_id: event.program_id,
        slot,
        block_time,
        tx_signature: signature.to_string(),
        ix_index: event.ix_index as u32,
        inner_ix_index: event.inner_ix_index.map(|i| i as u32),
        event_index: event_index as u32,
        source: event.source,
        data: event.data,
    }));
    instructions.extend(decoded.instructions.into_iter().map(|ix| DecodedInstruction {
        name: ix.name,
        program_id: ix.program_id,
        slot,
        block_time,
        tx_signature: signature.to_string(),
        ix_index: ix.ix_index as u32,
        inner_ix_index: ix.inner_ix_index.map(|i| i as u32),
        args: ix.args,
        accounts: ix.accounts,
    }));
}

#[napi(object)]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecodeFailures {
    /// The event or instruction name, or `<unknown event 0x…>`.
    pub name: String,
    pub count: i64,
    pub sample_signatures: Vec<String>,
}

pub fn failure_counts(tally: &FailureTally) -> Vec<DecodeFailures> {
    tally
        .by_name
        .iter()
        .map(|(name, (count, samples))| DecodeFailures { name: name.clone(), count: *count as i64, sample_signatures: samples.clone() })
        .collect()
}

#[napi(object, use_nullable = true)]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// Inclusive `[start, end]` ranges whose matching transactions have all been delivered in
    /// this batch or an earlier one, including the job's `skipRanges`. Pass back as
    /// `skipRanges` to resume.
    #[napi(ts_type = "Array<[number, number]>")]
    pub completed_ranges: Vec<Vec<i64>>,
    /// Highest slot S such that every slot from `startSlot` to S is complete; null if none.
    pub frontier_slot: Option<i64>,
}

#[napi(object, use_nullable = true)]
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Slots of the job's range completed by this run (skipped slots included).
    pub slots_processed: i64,
    /// Slots this run has to cover: the job's range less `skipRanges`.
    pub slots_total: i64,
    pub transactions_scanned: i64,
    pub transactions_matched: i64,
    /// Batches delivered to `onBatch` and settled.
    pub batches: i64,
    /// Sealed batches waiting for `onBatch`; never more than `maxQueuedBatches`.
    pub queued_batches: u32,
    pub slots_per_second: f64,
    /// Estimated time to completion at the current rate; null until there is a rate.
    pub eta_ms: Option<i64>,
    /// Events and instructions the IDLs could not decode, per name (empty without `idls`).
    pub decode_failures: Vec<DecodeFailures>,
    /// Matched transactions whose logs the runtime truncated.
    pub logs_truncated: i64,
}

#[napi(object, object_to_js = false, object_from_js = false, use_nullable = true)]
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    pub transactions: Vec<Transaction>,
    /// Anchor events of `transactions`, decoded with `idls` (empty without them).
    pub events: Vec<DecodedEvent>,
    /// Decoded instructions of the `idls` programs, top-level and inner.
    pub instructions: Vec<DecodedInstruction>,
    pub checkpoint: Checkpoint,
    pub progress: Progress,
}

#[napi(object, use_nullable = true)]
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub cancelled: bool,
    pub slots_processed: i64,
    pub transactions_scanned: i64,
    pub transactions_matched: i64,
    pub batches: i64,
    /// As in the last delivered batch's checkpoint: safe to persist and resume from.
    #[napi(ts_type = "Array<[number, number]>")]
    pub completed_ranges: Vec<Vec<i64>>,
    pub frontier_slot: Option<i64>,
    pub duration_ms: i64,
    pub decode_failures: Vec<DecodeFailures>,
    pub logs_truncated: i64,
}
