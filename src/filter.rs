//! Does a transaction belong to the job?
//!
//! Program ids are resolved over the account list the runtime used: static keys, then keys
//! loaded writable, then loaded readonly. A program reached only through an address lookup
//! table is invisible to a filter that looks at static keys alone.

use solana_address::Address;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status::TransactionStatusMeta;

use crate::options::MatchMode;

pub struct ProgramFilter {
    program_ids: Vec<Address>,
    match_mode: MatchMode,
    include_failed: bool,
}

impl ProgramFilter {
    pub fn new(program_ids: &[[u8; 32]], match_mode: MatchMode, include_failed: bool) -> Self {
        Self {
            program_ids: program_ids.iter().map(|id| Address::new_from_array(*id)).collect(),
            match_mode,
            include_failed,
        }
    }

    /// Votes are never wanted; failed transactions only when asked for.
    pub fn matches(&self, is_vote: bool, tx: &VersionedTransaction, meta: &TransactionStatusMeta) -> bool {
        if is_vote || (!self.include_failed && meta.status.is_err()) {
            return false;
        }
        let keys = AccountKeys::new(tx, meta);
        match self.match_mode {
            MatchMode::Mentions => keys.iter().any(|key| self.is_wanted(key)),
            MatchMode::Invokes => {
                let invoked = |program_id_index: u8| keys.get(program_id_index).is_some_and(|key| self.is_wanted(key));
                tx.message.instructions().iter().any(|ix| invoked(ix.program_id_index))
                    || meta.inner_instructions.iter().flatten().any(|inner| {
                        inner.instructions.iter().any(|ix| invoked(ix.instruction.program_id_index))
                    })
            }
        }
    }

    fn is_wanted(&self, key: &Address) -> bool {
        self.program_ids.contains(key)
    }
}

/// The account list an instruction's indexes point into, without copying it.
pub struct AccountKeys<'a> {
    static_keys: &'a [Address],
    loaded_writable: &'a [Address],
    loaded_readonly: &'a [Address],
}

impl<'a> AccountKeys<'a> {
    pub fn new(tx: &'a VersionedTransaction, meta: &'a TransactionStatusMeta) -> Self {
        Self {
            static_keys: tx.message.static_account_keys(),
            loaded_writable: &meta.loaded_addresses.writable,
            loaded_readonly: &meta.loaded_addresses.readonly,
        }
    }

    pub fn get(&self, index: u8) -> Option<&'a Address> {
        let mut index = index as usize;
        for part in [self.static_keys, self.loaded_writable, self.loaded_readonly] {
            if index < part.len() {
                return Some(&part[index]);
            }
            index -= part.len();
        }
        None
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a Address> + 'a {
        self.static_keys.iter().chain(self.loaded_writable).chain(self.loaded_readonly)
    }

    pub fn len(&self) -> usize {
        self.static_keys.len() + self.loaded_writable.len() + self.loaded_readonly.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_message::{
        compiled_instruction::CompiledInstruction, v0, legacy, MessageHeader, VersionedMessage,
        v0::{LoadedAddresses, MessageAddressTableLookup},
    };
    use solana_signature::Signature;
    use solana_transaction_status::{InnerInstruction, InnerInstructions};

    fn key(byte: u8) -> Address {
        Address::new_from_array([byte; 32])
    }

    fn ix(program_id_index: u8) -> CompiledInstruction {
        CompiledInstruction { program_id_index, accounts: vec![], data: vec![1] }
    }

    fn v0_tx(static_keys: Vec<Address>, instructions: Vec<CompiledInstruction>) -> VersionedTransaction {
        VersionedTransaction {
            signatures: vec![Signature::default()],
            message: VersionedMessage::V0(v0::Message {
                header: MessageHeader { num_required_signatures: 1, ..Default::default() },
                account_keys: static_keys,
                address_table_lookups: vec![MessageAddressTableLookup {
                    account_key: key(99),
                    writable_indexes: vec![0],
                    readonly_indexes: vec![1],
                }],
                instructions,
                ..Default::default()
            }),
        }
    }

    fn meta_with(loaded: LoadedAddresses, inner: Vec<(u8, Vec<u8>)>) -> TransactionStatusMeta {
        TransactionStatusMeta {
            loaded_addresses: loaded,
            inner_instructions: Some(
                inner
                    .into_iter()
                    .map(|(index, programs)| InnerInstructions {
                        index,
                        instructions: programs
                            .into_iter()
                            .map(|p| InnerInstruction { instruction: ix(p), stack_height: Some(2) })
                            .collect(),
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    const WANTED: u8 = 7;

    fn filter(mode: MatchMode, include_failed: bool) -> ProgramFilter {
        ProgramFilter::new(&[[WANTED; 32]], mode, include_failed)
    }

    #[test]
    fn program_reached_only_through_a_lookup_table_is_invoked() {
        let loaded = LoadedAddresses { writable: vec![key(50)], readonly: vec![key(WANTED)] };
        let tx = v0_tx(vec![key(1), key(2)], vec![ix(1)]);
        // Index 3 = static(2) + writable(1) + readonly[0].
        let meta = meta_with(loaded, vec![(0, vec![3])]);
        assert!(filter(MatchMode::Invokes, false).matches(false, &tx, &meta));
        assert!(filter(MatchMode::Mentions, false).matches(false, &tx, &meta));
    }

    #[test]
    fn a_mentioned_but_uninvoked_program_matches_only_mentions() {
        let tx = v0_tx(vec![key(1), key(WANTED), key(2)], vec![ix(2)]);
        let meta = meta_with(LoadedAddresses::default(), vec![]);
        assert!(!filter(MatchMode::Invokes, false).matches(false, &tx, &meta));
        assert!(filter(MatchMode::Mentions, false).matches(false, &tx, &meta));
    }

    #[test]
    fn failed_and_vote_transactions_are_left_out() {
        let tx = v0_tx(vec![key(1), key(WANTED)], vec![ix(1)]);
        let mut meta = meta_with(LoadedAddresses::default(), vec![]);
        assert!(filter(MatchMode::Invokes, false).matches(false, &tx, &meta));
        assert!(!filter(MatchMode::Invokes, true).matches(true, &tx, &meta));
        meta.status = Err(solana_transaction_error::TransactionError::AccountInUse);
        assert!(!filter(MatchMode::Invokes, false).matches(false, &tx, &meta));
        assert!(filter(MatchMode::Invokes, true).matches(false, &tx, &meta));
    }

    #[test]
    fn legacy_messages_resolve_over_static_keys_only() {
        let tx = VersionedTransaction {
            signatures: vec![Signature::default()],
            message: VersionedMessage::Legacy(legacy::Message {
                account_keys: vec![key(1), key(WANTED)],
                instructions: vec![ix(1)],
                ..Default::default()
            }),
        };
        let meta = meta_with(LoadedAddresses::default(), vec![]);
        assert!(filter(MatchMode::Invokes, false).matches(false, &tx, &meta));
        let keys = AccountKeys::new(&tx, &meta);
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.get(2), None);
    }
}
