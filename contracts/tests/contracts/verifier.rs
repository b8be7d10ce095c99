//! A generated verifier accepts a real proof in the EVM and rejects any changed byte.

use poai_contracts::calldata::calldata;
use poai_contracts::evm::LocalEvm;
use revm::primitives::{Address, U256};

use crate::fixture;

#[test]
fn generated_verifier_accepts_the_proof_and_rejects_any_changed_byte() {
    let f = fixture();
    // Mainnet would refuse this contract (see below); the local chain lifts EIP-170 so that the proof
    // path itself is still checked end to end in a real EVM.
    let mut evm = LocalEvm::new();
    evm.allow_oversized_contracts();
    let me = Address::repeat_byte(0x11);
    evm.fund(me, U256::from(10u64).pow(U256::from(20u64)));
    let (verifier, deploy_gas) = evm.deploy(me, f.verifier.creation.clone(), U256::ZERO).unwrap();
    let data = calldata(&f.proof).unwrap();
    let ok = evm.call(me, verifier, data.clone(), U256::ZERO).unwrap();
    eprintln!("deploy gas {deploy_gas}, verify gas {}", ok.gas);
    for at in [0, 40, 32 * f.proof.instances.len() + 10, data.len() / 2, data.len() - 1] {
        let mut bad = data.clone();
        bad[at] ^= 1;
        assert!(evm.call(me, verifier, bad, U256::ZERO).is_err(), "byte {at} changed and accepted");
    }
    assert!(evm.call(me, verifier, data[..data.len() - 1].to_vec(), U256::ZERO).is_err(), "truncated");

    // Verifying this circuit directly costs ~780k gas and ~37 KB of code: over EIP-170, which
    // `check_deployable` (and `poai evm-verifier`) enforce. On chain, proofs are compressed instead
    // (`poai prove --onchain`, tested in `onchain`); the direct verifier serves local chains and tests.
    let e = f.verifier.check_deployable().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("EIP-170 allows 24576"), "{e}");
    let mut mainnet = LocalEvm::new();
    mainnet.fund(me, U256::from(10u64).pow(U256::from(20u64)));
    assert!(mainnet.deploy(me, f.verifier.creation.clone(), U256::ZERO).is_err());
}
