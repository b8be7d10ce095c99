//! Solidity verifier generation from a verifying key.

use std::rc::Rc;

use halo2_base::halo2_proofs::halo2curves::bn256::{Fq, Fr, G1Affine};
use poai_verifier::{VerifierParams, VerifyingKeyFile};
use snark_verifier_sdk::snark_verifier::loader::evm::EvmLoader;
use snark_verifier_sdk::snark_verifier::pcs::kzg::{Bdfg21, KzgAs, KzgDecidingKey};
use snark_verifier_sdk::snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier_sdk::snark_verifier::system::halo2::{compile, Config};
use snark_verifier_sdk::snark_verifier::verifier::SnarkVerifier;
use snark_verifier_sdk::PlonkVerifier;

use crate::ContractError;

/// SHPLONK (BDFG21) accumulation over KZG, the scheme every poai proof uses.
type Shplonk = KzgAs<halo2_base::halo2_proofs::halo2curves::bn256::Bn256, Bdfg21>;

/// Solidity source of a contract whose fallback verifies a proof for `vk`: call data is the public
/// instances (32-byte big-endian words, in the key's layout) followed by the proof bytes; the call
/// reverts unless the proof verifies. The verifying key (fixed-column commitments: the circuit and the
/// model's weights) and the SRS points are constants of the contract. For an on-chain key the contract
/// also decodes the accumulator instances and folds them into its final pairing check.
pub fn verifier_solidity(vk: &VerifyingKeyFile, srs: &VerifierParams) -> Result<String, ContractError> {
    let k = vk.header.k;
    let params = srs.params(k)?;
    let n = vk.header.instance_count();
    let accumulator =
        vk.header.onchain.is_some().then(|| (0..poai_verifier::ACCUMULATOR_LIMBS).map(|i| (0, i)).collect());
    let protocol = compile(
        &params,
        vk.halo2()?,
        Config::kzg().with_num_instance(vec![n]).with_accumulator_indices(accumulator),
    );
    let dk: KzgDecidingKey<halo2_base::halo2_proofs::halo2curves::bn256::Bn256> =
        (G1Affine::generator(), params.g2(), params.s_g2()).into();
    let loader = EvmLoader::new::<Fq, Fr>();
    let protocol = protocol.loaded(&loader);
    let mut transcript = EvmTranscript::<_, Rc<EvmLoader>, _, _>::new(&loader);
    let instances = transcript.load_instances(vec![n]);
    let proof = PlonkVerifier::<Shplonk>::read_proof(&dk, &protocol, &instances, &mut transcript)
        .map_err(|e| ContractError::Generate(format!("{e:?}")))?;
    PlonkVerifier::<Shplonk>::verify(&dk, &protocol, &instances, &proof)
        .map_err(|e| ContractError::Generate(format!("{e:?}")))?;
    Ok(loader.solidity_code())
}
