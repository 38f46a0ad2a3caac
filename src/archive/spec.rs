//! The JSON description of an archive: blocks and their transactions, in the same shape
//! `startBackfill` delivers them, so a test's input is also its expected output.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use solana_address::Address;
use solana_hash::Hash;
use solana_message::{
    MessageHeader, VersionedMessage,
    compiled_instruction::CompiledInstruction,
    legacy,
    v0::{self, LoadedAddresses, MessageAddressTableLookup},
};
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;
use solana_transaction_status::{InnerInstruction, InnerInstructions, TransactionStatusMeta};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ArchiveSpec {
    pub blocks: Vec<BlockSpec>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockSpec {
    pub slot: u64,
    /// Unix seconds; defaults to a clock that advances 400 ms per slot.
    pub block_time: Option<i64>,
    pub parent_slot: Option<u64>,
    pub block_height: Option<u64>,
    #[serde(default)]
    pub transactions: Vec<TransactionSpec>,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(untagged)]
pub enum VersionSpec {
    Legacy(LegacyTag),
    V0(V0Tag),
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyTag {
    #[serde(rename = "legacy")]
    Legacy,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(try_from = "u8")]
pub struct V0Tag;

impl TryFrom<u8> for V0Tag {
    type Error = String;
    fn try_from(version: u8) -> Result<Self, String> {
        if version == 0 { Ok(V0Tag) } else { Err(format!("unsupported message version {version}")) }
    }
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransactionSpec {
    /// Base58, 64 bytes; derived from the slot and position when absent.
    pub signature: Option<String>,
    /// 'legacy' or 0; defaults to 0 when the transaction loads addresses, else 'legacy'.
    pub version: Option<VersionSpec>,
    pub header: Option<HeaderSpec>,
    pub account_keys: Vec<String>,
    pub recent_blockhash: Option<String>,
    #[serde(default)]
    pub instructions: Vec<InstructionSpec>,
    #[serde(default)]
    pub address_table_lookups: Vec<LookupSpec>,
    /// What the lookups resolved to; recorded in the metadata, as the runtime does.
    pub loaded_addresses: Option<LoadedSpec>,
    pub inner_instructions: Option<Vec<InnerSpec>>,
    pub logs: Option<Vec<String>>,
    /// null, or a `TransactionError` in the RPC's JSON form, e.g. `{"InstructionError":[0,{"Custom":1}]}`.
    pub err: Option<serde_json::Value>,
    pub fee: Option<u64>,
    pub compute_units_consumed: Option<u64>,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderSpec {
    pub num_required_signatures: u8,
    pub num_readonly_signed_accounts: u8,
    pub num_readonly_unsigned_accounts: u8,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstructionSpec {
    pub program_id_index: u8,
    #[serde(default)]
    pub accounts: Vec<u8>,
    /// Base58.
    #[serde(default)]
    pub data: String,
    pub stack_height: Option<u32>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LookupSpec {
    pub account_key: String,
    #[serde(default)]
    pub writable_indexes: Vec<u8>,
    #[serde(default)]
    pub readonly_indexes: Vec<u8>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct LoadedSpec {
    #[serde(default)]
    pub writable: Vec<String>,
    #[serde(default)]
    pub readonly: Vec<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct InnerSpec {
    pub index: u8,
    pub instructions: Vec<InstructionSpec>,
}

fn address(field: &str, text: &str) -> Result<Address, String> {
    text.parse().map_err(|err| format!("{field}: '{text}' is not a base58 public key ({err})"))
}

fn addresses(field: &str, texts: &[String]) -> Result<Vec<Address>, String> {
    texts.iter().enumerate().map(|(i, key)| address(&format!("{field}[{i}]"), key)).collect()
}

fn base58(field: &str, text: &str) -> Result<Vec<u8>, String> {
    bs58::decode(text).into_vec().map_err(|err| format!("{field}: '{text}' is not base58 ({err})"))
}

fn compiled(field: &str, ix: &InstructionSpec) -> Result<CompiledInstruction, String> {
    Ok(CompiledInstruction {
        program_id_index: ix.program_id_index,
        accounts: ix.accounts.clone(),
        data: base58(&format!("{field}.data"), &ix.data)?,
    })
}

/// A deterministic stand-in signature: Jetstreamer does not verify signatures by default.
pub fn derived_signature(slot: u64, index: usize) -> Signature {
    let first = Sha256::digest(format!("uho-backfill:{slot}:{index}"));
    let second = Sha256::digest(first);
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&first);
    bytes[32..].copy_from_slice(&second);
    Signature::from(bytes)
}

impl TransactionSpec {
    /// The transaction and metadata as the runtime would have recorded them.
    pub fn build(
        &self,
        slot: u64,
        index: usize,
        field: &str,
    ) -> Result<(VersionedTransaction, TransactionStatusMeta), String> {
        let signature = match &self.signature {
            Some(text) => text
                .parse::<Signature>()
                .map_err(|err| format!("{field}.signature: '{text}' is not a base58 signature ({err})"))?,
            None => derived_signature(slot, index),
        };
        let account_keys = addresses(&format!("{field}.accountKeys"), &self.account_keys)?;
        let header = self.header.map_or(
            MessageHeader { num_required_signatures: 1, num_readonly_signed_accounts: 0, num_readonly_unsigned_accounts: 0 },
            |h| MessageHeader {
                num_required_signatures: h.num_required_signatures,
                num_readonly_signed_accounts: h.num_readonly_signed_accounts,
                num_readonly_unsigned_accounts: h.num_readonly_unsigned_accounts,
            },
        );
        let recent_blockhash = match &self.recent_blockhash {
            Some(text) => text
                .parse::<Hash>()
                .map_err(|err| format!("{field}.recentBlockhash: '{text}' is not a base58 hash ({err})"))?,
            None => Hash::new_from_array(Sha256::digest(slot.to_le_bytes()).into()),
        };
        let instructions = self
            .instructions
            .iter()
            .enumerate()
            .map(|(i, ix)| compiled(&format!("{field}.instructions[{i}]"), ix))
            .collect::<Result<Vec<_>, _>>()?;
        let lookups = self
            .address_table_lookups
            .iter()
            .enumerate()
            .map(|(i, lookup)| {
                Ok(MessageAddressTableLookup {
                    account_key: address(&format!("{field}.addressTableLookups[{i}].accountKey"), &lookup.account_key)?,
                    writable_indexes: lookup.writable_indexes.clone(),
                    readonly_indexes: lookup.readonly_indexes.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let loaded = self.loaded_addresses.clone().unwrap_or_default();
        let loaded_addresses = LoadedAddresses {
            writable: addresses(&format!("{field}.loadedAddresses.writable"), &loaded.writable)?,
            readonly: addresses(&format!("{field}.loadedAddresses.readonly"), &loaded.readonly)?,
        };
        let is_v0 = match self.version {
            Some(VersionSpec::V0(_)) => true,
            Some(VersionSpec::Legacy(_)) => false,
            None => !lookups.is_empty() || !loaded_addresses.writable.is_empty() || !loaded_addresses.readonly.is_empty(),
        };
        if !is_v0 && (!lookups.is_empty() || !loaded_addresses.writable.is_empty() || !loaded_addresses.readonly.is_empty()) {
            return Err(format!("{field}: a legacy transaction cannot use address lookup tables"));
        }
        let message = if is_v0 {
            VersionedMessage::V0(v0::Message {
                header,
                account_keys,
                recent_blockhash,
                instructions,
                address_table_lookups: lookups,
            })
        } else {
            VersionedMessage::Legacy(legacy::Message { header, account_keys, recent_blockhash, instructions })
        };
        let status = match &self.err {
            None | Some(serde_json::Value::Null) => Ok(()),
            Some(err) => Err(serde_json::from_value::<TransactionError>(err.clone())
                .map_err(|e| format!("{field}.err: {err} is not a TransactionError in RPC form ({e})"))?),
        };
        let inner_instructions = self
            .inner_instructions
            .as_ref()
            .map(|groups| {
                groups
                    .iter()
                    .enumerate()
                    .map(|(g, group)| {
                        Ok(InnerInstructions {
                            index: group.index,
                            instructions: group
                                .instructions
                                .iter()
                                .enumerate()
                                .map(|(i, ix)| {
                                    Ok(InnerInstruction {
                                        instruction: compiled(&format!("{field}.innerInstructions[{g}].instructions[{i}]"), ix)?,
                                        stack_height: ix.stack_height,
                                    })
                                })
                                .collect::<Result<_, String>>()?,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?;
        let meta = TransactionStatusMeta {
            status,
            fee: self.fee.unwrap_or(5000),
            log_messages: self.logs.clone(),
            inner_instructions,
            loaded_addresses,
            compute_units_consumed: self.compute_units_consumed,
            pre_token_balances: Some(Vec::new()),
            post_token_balances: Some(Vec::new()),
            rewards: Some(Vec::new()),
            ..Default::default()
        };
        Ok((VersionedTransaction { signatures: vec![signature], message }, meta))
    }
}
