//! Brief mutation fuzzing of every artifact reader: verifying keys, proof files and SRS files. A mutated
//! artifact must give a typed error (or, where the edit is immaterial, the same artifact), never a panic,
//! and never a proof that verifies against a changed key.

use poai_circuits::halo2::VisibilitySettings;
use poai_prover::{prove_model, read_pk, setup, ProofTarget, Srs};
use poai_verifier::{verify, ProofFile, VerifierParams, VerifyingKeyFile};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::kzg::compiled;

/// Flips, overwrites, truncates or extends `bytes` at random.
fn mutate(bytes: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut m = bytes.to_vec();
    match rng.gen_range(0..4) {
        0 => {
            let i = rng.gen_range(0..m.len());
            m[i] ^= 1 << rng.gen_range(0..8);
        }
        1 => {
            for _ in 0..rng.gen_range(1..8) {
                let i = rng.gen_range(0..m.len());
                m[i] = rng.gen();
            }
        }
        2 => m.truncate(rng.gen_range(0..m.len())),
        _ => {
            let i = rng.gen_range(0..=m.len());
            m.insert(i, rng.gen());
        }
    }
    m
}

/// A development SRS, the verifying key of `sigmoid_tanh_mlp` (default visibilities) and a proof under it.
fn key_and_proof() -> (Srs, Vec<u8>, poai_verifier::ProofFile) {
    let (model, input) = compiled("sigmoid_tanh_mlp");
    let kind = poai_prover::CircuitKind::plain(VisibilitySettings::default());
    let srs = Srs::generate_insecure(poai_prover::circuit_k(&model, kind).unwrap(), 21).unwrap();
    let (pk, vk) = setup(&model, &srs, kind).unwrap();
    let pk = read_pk(&pk).unwrap();
    let proof =
        prove_model(&model, &srs, &pk, &input, poai_verifier::Provider::NONE, ProofTarget::Direct).unwrap();
    (srs, vk, proof)
}

#[test]
fn mutated_keys_proofs_and_srs_files_are_rejected_without_panics() {
    let (srs, vk, proof) = key_and_proof();
    let proof_json = proof.to_json().unwrap();
    let srs_bytes = srs.to_bytes().unwrap();
    let params = VerifierParams::from_srs_bytes(&srs_bytes).unwrap();
    let key = VerifyingKeyFile::from_bytes(&vk).unwrap();
    verify(&key, &params, &proof).unwrap();
    // A verifier reads only the two ends of the file: the same parameters, the same verdict.
    let (n, tail) = (srs_bytes.len(), poai_verifier::srs::SRS_TAIL_BYTES);
    let head = &srs_bytes[..n.min(poai_verifier::srs::SRS_HEAD_BYTES)];
    let ends = VerifierParams::from_srs_ends(head, &srs_bytes[n - tail..], n as u64).unwrap();
    assert_eq!((ends.k(), ends.insecure_dev_setup()), (params.k(), params.insecure_dev_setup()));
    verify(&key, &ends, &proof).unwrap();
    assert!(
        VerifierParams::from_srs_ends(head, &srs_bytes[n - tail..], n as u64 - 1).is_err(),
        "wrong length"
    );
    assert!(VerifierParams::from_srs_ends(head, &srs_bytes[n - tail + 1..], n as u64).is_err(), "short tail");

    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut vk_rejected, mut proof_rejected, mut srs_rejected) = (0, 0, 0);
    for _ in 0..300 {
        let m = mutate(&vk, &mut rng);
        match VerifyingKeyFile::from_bytes(&m) {
            Err(_) => vk_rejected += 1,
            Ok(k) => {
                if verify(&k, &params, &proof).is_ok() {
                    // Only an immaterial edit may still verify: halo2 stores the raw selector bits beside
                    // their compressed, committed columns and uses the bits only to regroup selectors, so a
                    // flipped bit that leaves the grouping alone changes nothing. The key's digest (what
                    // proofs are bound to) and the header must be unchanged, except the notes of a
                    // hashed-parameter key on the model it was made with (proofs name their model).
                    let mut h = k.header.clone();
                    h.model_commitment.clone_from(&key.header.model_commitment);
                    h.architecture.clone_from(&key.header.architecture);
                    assert!(
                        h == key.header
                            && k.halo2().unwrap().transcript_repr() == key.halo2().unwrap().transcript_repr(),
                        "a changed key accepted the proof"
                    );
                } else {
                    vk_rejected += 1;
                }
            }
        }
        let m = mutate(&proof_json, &mut rng);
        match ProofFile::from_json(&m) {
            Err(_) => proof_rejected += 1,
            Ok(mut p) => {
                if verify(&key, &params, &p).is_ok() {
                    // Hex is read in either case; anything else that verifies must be the same file.
                    p.proof.make_ascii_lowercase();
                    p.instances.iter_mut().for_each(|i| i.make_ascii_lowercase());
                    assert_eq!(p, proof, "a changed proof file verified");
                } else {
                    proof_rejected += 1;
                }
            }
        }
        let m = mutate(&srs_bytes, &mut rng);
        if VerifierParams::from_srs_bytes(&m).is_err() {
            srs_rejected += 1;
        }
        // Only G1, G2 and s·G2 matter to the verifier, so most single-byte SRS edits inside the other
        // powers are immaterial here (the prover's full validation catches those).
    }
    eprintln!("rejected: {vk_rejected}/300 keys, {proof_rejected}/300 proofs, {srs_rejected}/300 SRS files");
    // Most of a key file is halo2's raw selector bits (immaterial edits, checked above), so fewer key
    // mutations are rejected than proof mutations.
    assert!(vk_rejected > 150 && proof_rejected > 250, "{vk_rejected} {proof_rejected}");
}

/// Rewrites a key file's header JSON with `edit`, the halo2 body unchanged.
fn with_header(file: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let len = u32::from_le_bytes(file[8..12].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&file[12..12 + len]).unwrap();
    edit(&mut header);
    let json = serde_json::to_vec(&header).unwrap();
    let mut out = poai_verifier::artifact::frame_header(poai_verifier::KEY_MAGIC, &json, 0);
    out.extend_from_slice(&file[12 + len..]);
    out
}

/// Rewrites a key file's `k` in its header and in its halo2 body (the same claim, consistently made).
fn with_k(file: &[u8], k: u32) -> Vec<u8> {
    let mut out = with_header(file, |h| h["k"] = k.into());
    let body = out.len() - (file.len() - 12 - u32::from_le_bytes(file[8..12].try_into().unwrap()) as usize);
    out[body + 1..body + 5].copy_from_slice(&k.to_le_bytes());
    out
}

/// A key's header says how to read a proof's instances, and nothing in the halo2 body re-derives it: an
/// output's scale edited in the header reads the same proof as outputs four times larger, and the edited
/// key verifies that reading. Only the whole-file pin refuses it (`expect_sha256`, `poai verify
/// --vk-sha256`); `poai audit` recomputes the whole file. (A header `k` that is not the body's is
/// refused outright.)
#[test]
fn an_edited_key_header_is_refused_by_the_key_pin() {
    let (srs, vk, proof) = key_and_proof();
    let params = VerifierParams::from_srs_bytes(&srs.to_bytes().unwrap()).unwrap();
    let key = VerifyingKeyFile::from_bytes(&vk).unwrap();
    let honest = verify(&key, &params, &proof).unwrap();
    key.expect_sha256(&key.sha256).unwrap();
    key.expect_sha256(&format!("0x{}", key.sha256.to_uppercase())).unwrap();

    let edited_bytes = with_header(&vk, |h| {
        let public = h["public"].as_array_mut().unwrap();
        let output = public.iter_mut().find(|v| v["kind"] == "output").unwrap();
        output["scale"] = (output["scale"].as_i64().unwrap() - 2).into();
    });
    let edited = VerifyingKeyFile::from_bytes(&edited_bytes).expect("a header edit alone parses");
    let instances: Vec<_> =
        proof.instances.iter().map(|i| poai_circuits::commit::fr_from_hex(i).unwrap()).collect();
    let mut reread = proof.clone();
    reread.claims = edited.header.claims(&instances).unwrap().remove(0);
    let wrong = verify(&edited, &params, &reread).expect("the edited key verifies its reading");
    let (a, b) = (&honest.claims.outputs[0], &wrong.claims.outputs[0]);
    assert!(a.iter().zip(b).all(|(x, y)| *y == 4.0 * x) && a != b, "{a:?} {b:?}");
    let err = edited.expect_sha256(&key.sha256).unwrap_err().to_string();
    assert!(err.contains("not the pinned"), "{err}");

    let lying_k = with_header(&vk, |h| h["k"] = (key.header.k + 1).into());
    let err = VerifyingKeyFile::from_bytes(&lying_k).unwrap_err().to_string();
    assert!(err.contains("expected halo2 version and k"), "{err}");
}

/// A few-kB key claiming `k = 28` would make halo2's reader allocate `selectors × 2^28` bytes (gigabytes,
/// an abort no caller can catch) before reading a selector bit; a proving key's 4-byte polynomial length
/// would make it reserve up to 128 GiB. Both are bounded by the bytes actually present, with a typed error.
#[test]
fn key_sizes_are_bounded_by_the_file_before_allocating() {
    let (model, _) = compiled("sigmoid_tanh_mlp");
    let vis = VisibilitySettings::default();
    let kind = poai_prover::CircuitKind::plain(vis);
    let srs = Srs::generate_insecure(poai_prover::circuit_k(&model, kind).unwrap(), 21).unwrap();
    let (pk, vk) = setup(&model, &srs, kind).unwrap();
    let err = VerifyingKeyFile::from_bytes(&with_k(&vk, 28)).unwrap_err().to_string();
    assert!(err.contains("refusing to allocate"), "{err}");
    let err = read_pk(&with_k(&pk, 28)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("refusing to allocate"), "{err}");
    // The first polynomial after the verifying key claims 2^32 - 1 values.
    let vk_body = vk.len() - (12 + u32::from_le_bytes(vk[8..12].try_into().unwrap()) as usize);
    let pk_header = 12 + u32::from_le_bytes(pk[8..12].try_into().unwrap()) as usize;
    let mut huge = pk.clone();
    huge[pk_header + vk_body..pk_header + vk_body + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = read_pk(&huge).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("polynomial of 4294967295 values"), "{err}");
    // Untouched keys still read.
    VerifyingKeyFile::from_bytes(&vk).unwrap();
    read_pk(&pk).unwrap();
}
