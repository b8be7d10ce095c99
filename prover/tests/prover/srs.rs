//! SRS generation, serialisation and validation.

use std::path::Path;

use halo2_base::halo2_proofs::poly::commitment::Params;
use poai_prover::{ProverError, Srs};

fn params_bytes(s: &Srs) -> Vec<u8> {
    let mut v = Vec::new();
    s.params().write(&mut v).unwrap();
    v
}

#[test]
fn dev_srs_is_deterministic_and_marked_insecure() {
    let a = Srs::generate_insecure(4, 1).unwrap();
    let b = Srs::generate_insecure(4, 1).unwrap();
    let c = Srs::generate_insecure(4, 2).unwrap();
    assert_eq!(a.to_bytes().unwrap(), b.to_bytes().unwrap());
    assert_ne!(params_bytes(&a), params_bytes(&c));
    assert!(a.header().insecure_dev_setup);
    assert!(a.header().origin.contains("INSECURE"));
}

#[test]
fn poai_and_raw_halo2_files_round_trip() {
    let s = Srs::generate_insecure(5, 3).unwrap();
    let bytes = s.to_bytes().unwrap();
    let back = Srs::from_bytes(&bytes, Path::new("dev.srs")).unwrap();
    assert_eq!(params_bytes(&back), params_bytes(&s));
    assert_eq!(back.header(), s.header());
    // A raw halo2 parameter file (as published for perpetual powers of tau) is accepted too.
    let raw = params_bytes(&s);
    let from_raw = Srs::from_bytes(&raw, Path::new("ppot-raw-5")).unwrap();
    assert_eq!(params_bytes(&from_raw), raw);
    // A development SRS without its header is still recognised as one (the secret of public seed 3).
    assert!(from_raw.header().insecure_dev_setup, "{:?}", from_raw.header());
    assert_eq!(from_raw.header().seed, Some(3));
    assert!(from_raw.header().origin.contains("INSECURE"));
    // The verifier, which reads only the file's ends, recognises it too (what `poai verify` warns on).
    let verifier = poai_verifier::VerifierParams::from_srs_bytes(&raw).unwrap();
    assert!(verifier.insecure_dev_setup(), "a headerless development SRS passed for a ceremony's");
    // And through a real file, written atomically.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k5.srs");
    s.write(&path).unwrap();
    assert_eq!(params_bytes(&Srs::read(&path).unwrap()), raw);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
}

#[test]
fn truncated_corrupted_and_foreign_files_are_typed_errors() {
    let s = Srs::generate_insecure(4, 4).unwrap();
    let bytes = s.to_bytes().unwrap();
    for cut in [0, 5, 11, 40, bytes.len() / 2, bytes.len() - 1] {
        let e = Srs::from_bytes(&bytes[..cut], Path::new("cut.srs")).err();
        assert!(matches!(e, Some(ProverError::SrsFormat { .. })), "cut {cut}: {e:?}");
    }
    let e = Srs::from_bytes(b"definitely not an srs file", Path::new("x.srs")).err().map(|e| e.to_string());
    assert!(e.unwrap_or_default().contains("x.srs is not a usable SRS"));
    // A flipped byte inside a G1 power, inside s·G2, or a power replaced by another valid point: all caught.
    let raw_start = bytes.len() - params_bytes(&s).len();
    for (what, at) in [("power 3", raw_start + 4 + 3 * 64 + 5), ("s·G2", bytes.len() - 40)] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        assert!(Srs::from_bytes(&bad, Path::new("flip.srs")).is_err(), "{what}");
    }
    let mut swapped = bytes.clone();
    let (p2, p3) = (raw_start + 4 + 2 * 64, raw_start + 4 + 3 * 64);
    let power2 = swapped[p2..p2 + 64].to_vec();
    swapped[p3..p3 + 64].copy_from_slice(&power2);
    let e = Srs::from_bytes(&swapped, Path::new("swap.srs")).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("not successive powers"), "{e}");
    // The stored Lagrange basis (2^k points after the powers) is checked, not trusted, when first used
    // (halo2's `for_circuit`; the sumcheck backend commits with the powers alone): one of its points
    // replaced by another valid point is caught there, naming the file.
    let lagrange = raw_start + 4 + 16 * 64;
    let mut wrong_basis = bytes.clone();
    let (l1, l5) = (lagrange + 64, lagrange + 5 * 64);
    let basis1 = wrong_basis[l1..l1 + 64].to_vec();
    wrong_basis[l5..l5 + 64].copy_from_slice(&basis1);
    let loaded = Srs::from_bytes(&wrong_basis, Path::new("basis.srs")).unwrap_or_else(|e| panic!("{e}"));
    let e = loaded.for_circuit(loaded.k()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("basis.srs") && e.contains("Lagrange basis does not belong"), "{e}");
    // A header that disagrees with the parameters.
    let raw = params_bytes(&s);
    let header =
        br#"{"format":"poai-srs","version":1,"curve":"bn254","k":7,"insecure_dev_setup":true,"origin":"x"}"#;
    let mut lying = b"POAISRS1".to_vec();
    lying.extend_from_slice(&(header.len() as u32).to_le_bytes());
    lying.extend_from_slice(header);
    lying.extend_from_slice(&raw);
    let e = Srs::from_bytes(&lying, Path::new("lie.srs")).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("header says k = 7"), "{e}");
    // A huge k is refused before anything is allocated.
    let mut huge = raw.clone();
    huge[..4].copy_from_slice(&40u32.to_le_bytes());
    let e = Srs::from_bytes(&huge, Path::new("huge.srs")).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("k = 40 is out of range"), "{e}");
    let e = Srs::read(Path::new("/nonexistent/k.srs")).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("/nonexistent/k.srs"), "{e}");
}

#[test]
fn larger_srs_serves_smaller_circuits_and_smaller_is_refused() {
    let s = Srs::generate_insecure(5, 5).unwrap();
    let p = s.for_circuit(3).unwrap();
    assert_eq!(p.k(), 3);
    // Truncation keeps the same powers of the secret.
    let small = Srs::generate_insecure(3, 5).unwrap();
    let mut a = Vec::new();
    p.write(&mut a).unwrap();
    assert_eq!(a, params_bytes(&small));
    assert!(matches!(s.for_circuit(6), Err(ProverError::SrsTooSmall { have: 5, need: 6 })));
    // A development SRS is regenerated at the smaller size from its seed; a header whose seed does not
    // match the powers falls back to truncation, with the same result.
    let mut bytes = s.to_bytes().unwrap();
    let at = bytes.windows(8).position(|w| w == b"\"seed\":5").unwrap();
    bytes[at + 7] = b'9';
    let lying = Srs::from_bytes(&bytes, Path::new("seed.srs")).unwrap();
    assert_eq!(lying.header().seed, Some(9));
    let mut b = Vec::new();
    lying.for_circuit(3).unwrap().write(&mut b).unwrap();
    assert_eq!(b, params_bytes(&small));
    assert!(matches!(Srs::generate_insecure(0, 1), Err(ProverError::KOutOfRange { .. })));
    assert!(matches!(Srs::generate_insecure(29, 1), Err(ProverError::KOutOfRange { .. })));
}

/// Raw parameters from a secret no development seed gives read as a ceremony's (not flagged insecure).
#[test]
fn raw_parameters_of_an_unknown_secret_are_not_flagged() {
    use halo2_base::halo2_proofs::halo2curves::bn256::Bn256;
    use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
    use rand::SeedableRng;
    let params = ParamsKZG::<Bn256>::setup(4, rand_chacha::ChaCha20Rng::seed_from_u64(u64::MAX));
    let mut raw = Vec::new();
    params.write_custom(&mut raw, halo2_base::halo2_proofs::SerdeFormat::RawBytes).unwrap();
    let srs = Srs::from_bytes(&raw, Path::new("ceremony-4")).unwrap();
    assert!(!srs.header().insecure_dev_setup);
    assert_eq!(srs.header().seed, None);
    assert!(!poai_verifier::VerifierParams::from_srs_bytes(&raw).unwrap().insecure_dev_setup());
}
