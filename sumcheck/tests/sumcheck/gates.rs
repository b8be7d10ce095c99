//! Zerochecks (gate identities over committed columns) and claim merging: honest runs close on the
//! tables' own evaluations; a violated identity at one row, a consistent forgery (stopped by its range
//! check), a wrong merged claim are rejected.

use halo2_base::halo2_proofs::halo2curves::ff::Field;
use poai_circuits::Fr;
use poai_sumcheck::logup;
use poai_sumcheck::matmul::Claim;
use poai_sumcheck::sumcheck::Summand;
use poai_sumcheck::{
    claims, signed, zerocheck, CpuBackend, Mle, PoseidonTranscript, SumcheckError, Transcript,
};

use crate::{point, rng, small_mle};

/// The rounded division `2n + d = 2d·y + r` with `s = 2d - 1 - r`, for a constant `d`: tables `n, y, r, s`.
fn division(d: i64) -> Summand {
    let f = signed;
    Summand { terms: vec![(f(2), vec![0]), (f(d), vec![]), (f(-2 * d), vec![1]), (f(-1), vec![2])] }
}

fn division_tables(ns: &[i64], d: i64) -> Vec<Mle> {
    let ys: Vec<i64> = ns.iter().map(|&n| (2 * n + d).div_euclid(2 * d)).collect();
    let rs: Vec<i64> = ns.iter().zip(&ys).map(|(&n, &y)| 2 * n + d - 2 * d * y).collect();
    let ss: Vec<i64> = rs.iter().map(|&r| 2 * d - 1 - r).collect();
    let vars = ns.len().trailing_zeros() as usize;
    [ns.to_vec(), ys, rs, ss].iter().map(|v| Mle::from_i64(v, vars).unwrap()).collect()
}

fn run(tables: &[Mle], constraint: &Summand) -> Result<(), SumcheckError> {
    let mut tp = PoseidonTranscript::new(6);
    let proved = zerocheck::prove(&CpuBackend, tables.to_vec(), constraint, &mut tp)?;
    let mut tv = PoseidonTranscript::new(6);
    let vars = tables[0].vars();
    let point = zerocheck::verify(vars, constraint, &proved.proof, &proved.evals, &mut tv)?;
    // The evaluations the prover reported are the tables' own (the caller would open commitments).
    for (t, e) in tables.iter().zip(&proved.evals) {
        assert_eq!(t.evaluate(&point).unwrap(), *e);
    }
    Ok(())
}

/// `r + s = 2d - 1` over tables `n, y, r, s`.
fn complement(d: i64) -> Summand {
    Summand { terms: vec![(Fr::ONE, vec![2]), (Fr::ONE, vec![3]), (signed(1 - 2 * d), vec![])] }
}

/// `r` and `s` range-checked to the width of `2d - 1`, as the halo2 chip does: a lookup into the range
/// table, or the typed refusal of a value the table lacks.
fn range_checked(tables: &[Mle], d: i64) -> Result<(), SumcheckError> {
    let bits = (64 - (2 * d - 1).leading_zeros()) as usize;
    let table = logup::range_table(bits)?;
    for col in &tables[2..4] {
        let mult = Mle::new(logup::multiplicities(col.evals(), table.evals())?)?;
        let mut tp = PoseidonTranscript::new(7);
        let (proof, _) = logup::prove_lookup(&CpuBackend, col, (&table, &mult), &mut tp)?;
        let mut tv = PoseidonTranscript::new(7);
        logup::verify_lookup((col.vars(), bits), &proof, logup::range_table_at, &mut tv)?;
    }
    Ok(())
}

#[test]
fn a_division_gate_holds_on_every_row_and_one_bad_row_fails() {
    let mut r = rng(60);
    let ns: Vec<i64> =
        (0..64).map(|i| i * 37 - 900 + i64::from(rand::Rng::gen_range(&mut r, 0..5))).collect();
    let d = 7;
    let tables = division_tables(&ns, d);
    run(&tables, &division(d)).unwrap();
    run(&tables, &complement(d)).unwrap();
    range_checked(&tables, d).unwrap();
    // A quotient off by one on one row alone breaks the division identity.
    let mut bad = tables.clone();
    let mut ys = bad[1].evals().to_vec();
    ys[13] += Fr::ONE;
    bad[1] = Mle::new(ys).unwrap();
    let e = run(&bad, &division(d)).unwrap_err();
    assert!(matches!(e, SumcheckError::RoundSum { round: 0 } | SumcheckError::FinalEvaluation(_)), "{e}");
}

/// The consistent forgery of a rounded division: `y + 1`, `r - 2d`, `s + 2d` on one row keeps both
/// identities (they are linear), so both zerochecks pass; only the range check of `r` stops it.
#[test]
fn a_consistent_division_forgery_passes_both_identities_and_fails_the_range_check() {
    let d = 5;
    let ns: Vec<i64> = (0..32).map(|i| 11 * i - 170).collect();
    let mut tables = division_tables(&ns, d);
    let shift = |t: &Mle, by: i64| {
        let mut v = t.evals().to_vec();
        v[20] += signed(by);
        Mle::new(v).unwrap()
    };
    tables =
        vec![tables[0].clone(), shift(&tables[1], 1), shift(&tables[2], -2 * d), shift(&tables[3], 2 * d)];
    run(&tables, &division(d)).unwrap();
    run(&tables, &complement(d)).unwrap();
    let e = range_checked(&tables, d).unwrap_err();
    assert!(e.to_string().contains("looked-up value 20 is not in the table"), "{e}");
}

#[test]
fn booleanity_catches_a_two() {
    let bits: Vec<i64> = (0..32).map(|i| (i * 7 % 3 == 0) as i64).collect();
    let b = Mle::from_i64(&bits, 5).unwrap();
    // b·(1 - b) = b - b².
    let boolean = Summand { terms: vec![(Fr::ONE, vec![0]), (-Fr::ONE, vec![0, 0])] };
    run(&[b], &boolean).unwrap();
    let mut two = bits;
    two[4] = 2;
    assert!(run(&[Mle::from_i64(&two, 5).unwrap()], &boolean).is_err());
}

#[test]
fn claims_on_one_polynomial_merge_into_one() {
    let mut r = rng(61);
    let p = small_mle(&mut r, 7);
    let claims: Vec<Claim> = (0..3)
        .map(|_| {
            let x = point(&mut r, 7);
            Claim { value: p.evaluate(&x).unwrap(), point: x }
        })
        .collect();
    let mut tp = PoseidonTranscript::new(8);
    let (proof, merged) = claims::prove(&CpuBackend, &p, &claims, &mut tp).unwrap();
    let mut tv = PoseidonTranscript::new(8);
    let verified = claims::verify(7, &claims, &proof, &mut tv).unwrap();
    assert_eq!(verified, merged);
    assert_eq!(p.evaluate(&merged.point).unwrap(), merged.value);
    assert_eq!(tp.challenge(), tv.challenge());

    // One wrong claim among them: the honest merge proof no longer sums to the combination.
    let mut wrong = claims.clone();
    wrong[1].value += Fr::ONE;
    let mut tv = PoseidonTranscript::new(8);
    assert_eq!(claims::verify(7, &wrong, &proof, &mut tv), Err(SumcheckError::RoundSum { round: 0 }));
    // Nothing to merge is refused.
    let mut tp = PoseidonTranscript::new(8);
    assert!(claims::prove(&CpuBackend, &p, &[], &mut tp).is_err());
}
