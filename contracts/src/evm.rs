//! An in-process EVM (revm, mainnet rules, EIP-170 enforced) for deploying and calling contracts in tests
//! and gas benchmarks: accounts with balances, a settable block timestamp, nonces kept per sender.

use std::collections::HashMap;

use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
use revm::primitives::{Address, TxKind, U256};
use revm::state::AccountInfo;
use revm::{Context, DatabaseRef, ExecuteCommitEvm, MainBuilder, MainContext};

use crate::ContractError;

/// Result of a successful call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Gas used by the whole transaction (including the 21,000 base cost and call data).
    pub gas: u64,
    /// Returned bytes.
    pub output: Vec<u8>,
}

type MainnetEvm = revm::handler::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>;

/// A local chain in memory.
pub struct LocalEvm {
    evm: MainnetEvm,
    nonces: HashMap<Address, u64>,
}

impl Default for LocalEvm {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalEvm {
    /// An empty chain at timestamp 1,700,000,000.
    pub fn new() -> Self {
        let mut evm = Context::mainnet().with_db(InMemoryDB::default()).build_mainnet();
        evm.ctx.block.timestamp = U256::from(1_700_000_000u64);
        evm.ctx.block.gas_limit = 30_000_000;
        evm.ctx.block.basefee = 0;
        Self { evm, nonces: HashMap::new() }
    }

    /// Lifts EIP-170's code-size limit on this chain, to measure contracts that mainnet would refuse
    /// (benchmarks only: [`crate::solc::Compiled::check_deployable`] is what decides deployability).
    pub fn allow_oversized_contracts(&mut self) {
        self.evm.ctx.cfg.limit_contract_code_size = Some(usize::MAX / 4);
    }

    /// Gives `who` a balance of `wei`.
    pub fn fund(&mut self, who: Address, wei: U256) {
        let db = &mut self.evm.ctx.journaled_state.database;
        let mut info = db.basic_ref(who).ok().flatten().unwrap_or_default();
        info.balance = wei;
        db.insert_account_info(who, AccountInfo { ..info });
    }

    /// Balance of `who`.
    pub fn balance(&self, who: Address) -> U256 {
        self.evm
            .ctx
            .journaled_state
            .database
            .basic_ref(who)
            .ok()
            .flatten()
            .map(|a| a.balance)
            .unwrap_or_default()
    }

    /// Current block timestamp.
    pub fn timestamp(&self) -> u64 {
        self.evm.ctx.block.timestamp.saturating_to()
    }

    /// Moves the clock forward.
    pub fn advance(&mut self, seconds: u64) {
        self.evm.ctx.block.timestamp += U256::from(seconds);
        self.evm.ctx.block.number += U256::from(1);
    }

    fn transact(
        &mut self,
        from: Address,
        kind: TxKind,
        data: Vec<u8>,
        value: U256,
    ) -> Result<ExecutionResult, ContractError> {
        let nonce = self.nonces.entry(from).or_insert(0);
        let tx = TxEnv {
            caller: from,
            gas_limit: 30_000_000,
            gas_price: 0,
            kind,
            value,
            data: data.into(),
            nonce: *nonce,
            ..Default::default()
        };
        let result = self.evm.transact_commit(tx).map_err(|e| ContractError::Evm(format!("{e:?}")))?;
        *nonce += 1;
        Ok(result)
    }

    /// Deploys creation code (with constructor arguments appended) from `from`; returns the address and
    /// the gas used.
    pub fn deploy(
        &mut self,
        from: Address,
        creation: Vec<u8>,
        value: U256,
    ) -> Result<(Address, u64), ContractError> {
        match self.transact(from, TxKind::Create, creation, value)? {
            ExecutionResult::Success { output: Output::Create(_, Some(addr)), gas_used, .. } => {
                Ok((addr, gas_used))
            }
            other => Err(ContractError::Evm(format!("deployment failed: {}", describe(&other)))),
        }
    }

    /// Calls `to` with `data` and `value`; a revert or halt is an error carrying its reason.
    pub fn call(
        &mut self,
        from: Address,
        to: Address,
        data: Vec<u8>,
        value: U256,
    ) -> Result<Call, ContractError> {
        match self.transact(from, TxKind::Call(to), data, value)? {
            ExecutionResult::Success { gas_used, output, .. } => {
                Ok(Call { gas: gas_used, output: output.into_data().to_vec() })
            }
            other => Err(ContractError::Evm(describe(&other))),
        }
    }
}

fn describe(r: &ExecutionResult) -> String {
    match r {
        ExecutionResult::Success { .. } => "success".into(),
        ExecutionResult::Revert { gas_used, output } => {
            format!("reverted (gas {gas_used}){}", revert_reason(output))
        }
        ExecutionResult::Halt { reason, gas_used } => format!("halted: {reason:?} (gas {gas_used})"),
    }
}

/// Decodes `Error(string)` revert data, or shows custom-error data as hex.
fn revert_reason(output: &[u8]) -> String {
    if output.is_empty() {
        return String::new();
    }
    if output.len() >= 68 && output[..4] == [0x08, 0xc3, 0x79, 0xa0] {
        let len = usize::from_be_bytes(output[60..68].try_into().unwrap_or([0; 8]));
        if let Some(msg) = output.get(68..68 + len) {
            return format!(": {}", String::from_utf8_lossy(msg));
        }
    }
    format!(": 0x{}", poai_verifier::hex::encode(output))
}
