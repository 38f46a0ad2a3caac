//! Anchor events and instructions, decoded in Rust from the IDL in force at each slot.
//!
//! Events come from two places: `Program data:` (and, as Anchor reads them, `Program log:`)
//! lines written while the program runs, at any depth, and `emit_cpi!` inner instructions
//! of the program to itself. Decoding is always tied to the program that emitted the bytes:
//! discriminators collide across programs (`SwapEvent` in Raydium CLMM, CP-swap, Jupiter).

pub mod borsh;
pub mod idl;
pub mod logs;
#[cfg(test)]
mod robustness;

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use serde_json::Value;
use solana_address::Address;
use solana_message::compiled_instruction::CompiledInstruction;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status::TransactionStatusMeta;

use crate::filter::AccountKeys;
use crate::options::{IdlOption, OptionError};
use borsh::{DecodeError, Reader};
use idl::{Fields, Idl};
use logs::{OutputKind, parse_logs};

/// Anchor's `EVENT_IX_TAG`: the first 8 bytes of an `emit_cpi!` self-invocation.
pub const EVENT_IX_TAG: [u8; 8] = [0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d];
const SAMPLE_SIGNATURES: usize = 3;

struct IdlVersion {
    from_slot: Option<u64>,
    to_slot: Option<u64>,
    /// Position in `idls`: among equal `fromSlot`s, a later entry counts as newer.
    order: usize,
    idl: Idl,
}

impl IdlVersion {
    fn covers(&self, slot: u64) -> bool {
        self.from_slot.is_none_or(|from| slot >= from) && self.to_slot.is_none_or(|to| slot <= to)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventSource {
    Log,
    Cpi,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub program_id: String,
    pub ix_index: usize,
    pub inner_ix_index: Option<usize>,
    pub source: EventSource,
    pub data: Value,
    /// Where the bytes were found, for a stable order: log line or inner position.
    position: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    pub name: String,
    pub program_id: String,
    pub ix_index: usize,
    pub inner_ix_index: Option<usize>,
    pub args: Value,
    pub accounts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Event or instruction name; `<unknown event 0x…>` when no IDL version has the discriminator.
    pub name: String,
    pub message: String,
}

#[derive(Debug, Default, PartialEq)]
pub struct DecodedTransaction {
    /// In a stable order; the position in this list is the event's `eventIndex`.
    pub events: Vec<Event>,
    pub instructions: Vec<Instruction>,
    pub failures: Vec<Failure>,
}

/// Per-name decode failure counts with a few sample signatures, for progress and summary.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FailureTally {
    pub by_name: BTreeMap<String, (u64, Vec<String>)>,
    pub logs_truncated: u64,
}

impl FailureTally {
    pub fn record(&mut self, signature: &str, decoded: &DecodedTransaction) {
        for failure in &decoded.failures {
            self.add(&failure.name, 1, [signature]);
        }
    }

    pub fn merge(&mut self, other: &FailureTally) {
        self.logs_truncated += other.logs_truncated;
        for (name, (count, samples)) in &other.by_name {
            self.add(name, *count, samples.iter().map(String::as_str));
        }
    }

    fn add<'a>(&mut self, name: &str, count: u64, samples: impl IntoIterator<Item = &'a str>) {
        let (total, kept) = self.by_name.entry(name.to_string()).or_default();
        *total += count;
        for sample in samples {
            if kept.len() < SAMPLE_SIGNATURES && !kept.iter().any(|s| s == sample) {
                kept.push(sample.to_string());
            }
        }
    }
}

#[derive(Default)]
pub struct Registry {
    /// Keyed by base58, the form program ids take in log lines.
    programs: HashMap<String, Vec<IdlVersion>>,
    /// Instruction program ids resolve to keys; this finds their base58 without encoding.
    by_key: HashMap<Address, String>,
}

impl Registry {
    pub fn new(options: &[IdlOption]) -> Result<Self, OptionError> {
        let mut registry = Registry::default();
        for (order, option) in options.iter().enumerate() {
            let idl = idl::parse_idl(&option.idl)
                .map_err(|err| OptionError::type_error(format!("idls[{order}].idl"), err.to_string()))?;
            let program = bs58::encode(option.program_id).into_string();
            registry.by_key.insert(Address::new_from_array(option.program_id), program.clone());
            registry
                .programs
                .entry(program)
                .or_default()
                .push(IdlVersion { from_slot: option.from_slot, to_slot: option.to_slot, order, idl });
        }
        for versions in registry.programs.values_mut() {
            versions.sort_by_key(|v| std::cmp::Reverse((v.from_slot, v.order)));
        }
        Ok(registry)
    }

    pub fn is_empty(&self) -> bool {
        self.programs.is_empty()
    }

    fn versions_at(&self, program: &str, slot: u64) -> impl Iterator<Item = &Idl> {
        self.programs.get(program).into_iter().flatten().filter(move |v| v.covers(slot)).map(|v| &v.idl)
    }

    /// Events always; instructions only when `instructions` (a consumer may not want them).
    pub fn decode(&self, slot: u64, tx: &VersionedTransaction, meta: &TransactionStatusMeta, instructions: bool) -> DecodedTransaction {
        let mut decoded = DecodedTransaction::default();
        let keys = AccountKeys::new(tx, meta);
        if let Some(lines) = &meta.log_messages {
            let parsed = parse_logs(lines);
            for output in parsed.outputs.iter().filter(|o| self.programs.contains_key(o.program)) {
                let Some(bytes) = payload_bytes(output.payload) else { continue };
                // `Program log:` carries events only in pre-0.23 Anchor; any other text that
                // happens to be base64 is not an event unless a discriminator matches.
                let strict = output.kind == OutputKind::Data;
                if let Some(result) = self.decode_event(output.program, slot, &bytes, strict) {
                    self.push_event(&mut decoded, result, output.program, output.ix_index, output.inner_ix_index, EventSource::Log, output.line);
                }
            }
        }
        let mut cpi_position = 0usize;
        for group in meta.inner_instructions.iter().flatten() {
            for (inner_index, inner) in group.instructions.iter().enumerate() {
                cpi_position += 1;
                let Some(program) = keys.get(inner.instruction.program_id_index).and_then(|k| self.by_key.get(k)) else { continue };
                let data = &inner.instruction.data;
                if let Some(event_bytes) = data.strip_prefix(&EVENT_IX_TAG[..]) {
                    if let Some(result) = self.decode_event(program, slot, event_bytes, true) {
                        self.push_event(&mut decoded, result, program, group.index as usize, Some(inner_index), EventSource::Cpi, cpi_position);
                    }
                } else if instructions {
                    self.decode_instruction(&mut decoded, program, slot, &inner.instruction, &keys, group.index as usize, Some(inner_index));
                }
            }
        }
        for (ix_index, ix) in tx.message.instructions().iter().enumerate().filter(|_| instructions) {
            if let Some(program) = keys.get(ix.program_id_index).and_then(|k| self.by_key.get(k)) {
                self.decode_instruction(&mut decoded, program, slot, ix, &keys, ix_index, None);
            }
        }
        decoded.events.sort_by_key(|e| (e.ix_index, e.source == EventSource::Cpi, e.position));
        decoded.instructions.sort_by_key(|i| (i.ix_index, i.inner_ix_index.map_or(0, |p| p + 1)));
        decoded
    }

    /// `None` when the bytes are not an event of this program (only for non-strict sources).
    fn decode_event(&self, program: &str, slot: u64, bytes: &[u8], strict: bool) -> Option<Result<(String, Value), Failure>> {
        let discriminator = bytes.get(..8)?;
        // The newest version's error is the one reported; it is only rendered if no
        // version reads the payload, which is rare, while trying versions is not.
        let mut first_error: Option<(&str, DecodeError)> = None;
        for idl in self.versions_at(program, slot) {
            let Some(event) = idl.events.iter().find(|e| e.discriminator == discriminator) else { continue };
            match decode_fields(idl, &event.fields, &bytes[8..]) {
                Ok(data) => return Some(Ok((event.name.clone(), data))),
                Err(err) => {
                    first_error.get_or_insert((&event.name, err));
                }
            }
        }
        match first_error {
            Some((name, err)) => Some(Err(Failure { name: name.to_string(), message: err.to_string() })),
            None if strict => Some(Err(Failure {
                name: format!("<unknown event 0x{}>", hex(discriminator)),
                message: format!("no IDL version of {program} in force at slot {slot} has this event discriminator"),
            })),
            None => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_event(
        &self,
        decoded: &mut DecodedTransaction,
        result: Result<(String, Value), Failure>,
        program: &str,
        ix_index: usize,
        inner_ix_index: Option<usize>,
        source: EventSource,
        position: usize,
    ) {
        match result {
            Ok((name, data)) => decoded.events.push(Event {
                name,
                program_id: program.to_string(),
                ix_index,
                inner_ix_index,
                source,
                data,
                position,
            }),
            Err(failure) => decoded.failures.push(failure),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn decode_instruction(
        &self,
        decoded: &mut DecodedTransaction,
        program: &str,
        slot: u64,
        ix: &CompiledInstruction,
        keys: &AccountKeys,
        ix_index: usize,
        inner_ix_index: Option<usize>,
    ) {
        let mut first_error: Option<(&str, DecodeError)> = None;
        for idl in self.versions_at(program, slot) {
            let Some(def) = idl.instructions.iter().find(|d| ix.data.starts_with(&d.discriminator)) else { continue };
            match decode_fields(idl, &def.args, &ix.data[def.discriminator.len()..]) {
                Ok(args) => {
                    let accounts = def
                        .accounts
                        .iter()
                        .zip(&ix.accounts)
                        .filter_map(|(name, &index)| keys.get(index).map(|key| (name.clone(), key.to_string())))
                        .collect();
                    decoded.instructions.push(Instruction { name: def.name.clone(), program_id: program.to_string(), ix_index, inner_ix_index, args, accounts });
                    return;
                }
                Err(err) => {
                    first_error.get_or_insert((&def.name, err));
                }
            }
        }
        // Instructions without a matching discriminator are not Anchor instructions of any
        // known version (or not Anchor at all): nothing to report.
        if let Some((name, err)) = first_error {
            decoded.failures.push(Failure { name: name.to_string(), message: err.to_string() });
        }
    }
}

/// An event's fields or an instruction's arguments: all of `body`, nothing left over.
fn decode_fields(idl: &Idl, fields: &Fields, body: &[u8]) -> Result<Value, DecodeError> {
    let mut reader = Reader::new(body, &idl.types);
    let value = reader.fields(fields)?;
    reader.finish()?;
    Ok(value)
}

/// `Program data:` payloads are base64, one chunk per `sol_log_data` slice.
fn payload_bytes(payload: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    for chunk in payload.split(' ').filter(|c| !c.is_empty()) {
        base64::engine::general_purpose::STANDARD.decode_vec(chunk, &mut bytes).ok()?;
    }
    (bytes.len() >= 8).then_some(bytes)
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    borsh::push_hex(&mut out, bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use solana_message::{MessageHeader, VersionedMessage, v0};
    use solana_signature::Signature;
    use solana_transaction_status::{InnerInstruction, InnerInstructions};

    fn key(byte: u8) -> Address {
        Address::new_from_array([byte; 32])
    }

    /// A 0.30-style IDL whose `Trade` event is `{ amount: <amount_ty> }`.
    fn idl(amount_ty: &str) -> Value {
        json!({
            "address": "x", "metadata": { "spec": "0.1.0" },
            "instructions": [{ "name": "trade", "discriminator": [1,1,1,1,1,1,1,1], "accounts": [{ "name": "user" }], "args": [{ "name": "n", "type": "u8" }] }],
            "events": [{ "name": "Trade", "discriminator": [9,9,9,9,9,9,9,9] }],
            "types": [{ "name": "Trade", "type": { "kind": "struct", "fields": [{ "name": "amount", "type": amount_ty }] } }],
        })
    }

    fn option(program: u8, idl: Value, from_slot: Option<u64>) -> IdlOption {
        IdlOption { program_id: [program; 32], idl, from_slot, to_slot: None }
    }

    fn payload(body: &[u8]) -> String {
        let mut bytes = vec![9u8; 8];
        bytes.extend_from_slice(body);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn transaction(logs: Vec<String>, inner: Vec<(u8, Vec<u8>)>, loaded_readonly: Vec<Address>) -> (VersionedTransaction, TransactionStatusMeta) {
        let tx = VersionedTransaction {
            signatures: vec![Signature::default()],
            message: VersionedMessage::V0(v0::Message {
                header: MessageHeader { num_required_signatures: 1, ..Default::default() },
                account_keys: vec![key(50), key(1), key(2)],
                instructions: vec![CompiledInstruction { program_id_index: 1, accounts: vec![0], data: vec![1, 1, 1, 1, 1, 1, 1, 1, 7] }],
                ..Default::default()
            }),
        };
        let meta = TransactionStatusMeta {
            log_messages: Some(logs),
            loaded_addresses: v0::LoadedAddresses { writable: vec![], readonly: loaded_readonly },
            inner_instructions: Some(vec![InnerInstructions {
                index: 0,
                instructions: inner
                    .into_iter()
                    .map(|(program_id_index, data)| InnerInstruction {
                        instruction: CompiledInstruction { program_id_index, accounts: vec![], data },
                        stack_height: Some(2),
                    })
                    .collect(),
            }]),
            ..Default::default()
        };
        (tx, meta)
    }

    #[test]
    fn events_are_tied_to_the_emitting_program_and_the_newest_exact_version() {
        let p1 = key(1).to_string();
        let p2 = key(2).to_string();
        let registry = Registry::new(&[
            option(1, idl("u16"), None),
            option(1, idl("u32"), Some(100)),
            option(2, idl("u64"), None),
        ])
        .unwrap();
        let mut cpi = EVENT_IX_TAG.to_vec();
        cpi.extend([9u8; 8]);
        cpi.extend(5u64.to_le_bytes());
        let logs = vec![
            format!("Program {p1} invoke [1]"),
            format!("Program data: {}", payload(&7u32.to_le_bytes())),
            format!("Program data: {}", payload(&8u16.to_le_bytes())),
            format!("Program {p2} invoke [2]"),
            format!("Program data: {}", payload(&3u32.to_le_bytes())),
            format!("Program {p2} success"),
            format!("Program {p1} success"),
        ];
        // Program 2's emit_cpi goes through index 3: the lookup-table-loaded key.
        let (tx, meta) = transaction(logs, vec![(2, vec![]), (3, cpi)], vec![key(2)]);
        let decoded = registry.decode(150, &tx, &meta, true);
        let events: Vec<_> = decoded.events.iter().map(|e| (e.program_id.as_str(), e.source, e.data.clone(), e.inner_ix_index)).collect();
        assert_eq!(
            events,
            vec![
                (p1.as_str(), EventSource::Log, json!({ "amount": 7 }), None),
                (p1.as_str(), EventSource::Log, json!({ "amount": 8 }), None),
                (p2.as_str(), EventSource::Cpi, json!({ "amount": 5 }), Some(1)),
            ]
        );
        // Program 2's 4-byte log payload does not fit its u64 layout: a failure, not a guess.
        assert_eq!(decoded.failures.len(), 1);
        assert_eq!(decoded.failures[0].name, "Trade");
        assert_eq!(decoded.instructions.len(), 1);
        assert_eq!(decoded.instructions[0].args, json!({ "n": 7 }));
        assert_eq!(decoded.instructions[0].accounts.get("user"), Some(&key(50).to_string()));
        // Before slot 100 only the u16 version is in force: the u32 payload is a failure.
        let earlier = registry.decode(50, &tx, &meta, true);
        assert_eq!(earlier.events.iter().filter(|e| e.program_id == p1).count(), 1);
    }

    #[test]
    fn unknown_discriminators_from_data_lines_are_reported() {
        let p1 = key(1).to_string();
        let registry = Registry::new(&[option(1, idl("u8"), None)]).unwrap();
        let other = base64::engine::general_purpose::STANDARD.encode([3u8; 12]);
        let logs = vec![format!("Program {p1} invoke [1]"), format!("Program data: {other}"), format!("Program log: {other}")];
        let (tx, meta) = transaction(logs, vec![], vec![]);
        let decoded = registry.decode(1, &tx, &meta, true);
        assert!(decoded.events.is_empty());
        assert_eq!(decoded.failures.len(), 1, "only the data line counts; log text is not an event");
        assert!(decoded.failures[0].name.starts_with("<unknown event 0x0303"));
    }
}
