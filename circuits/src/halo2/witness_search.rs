//! A mechanical search for second witnesses: for each gate row of a layout, is there another assignment
//! of the cells the row produces, with the cells it reads unchanged, that satisfies every polynomial
//! configured for that row and every range check of the cells it changes? If there is, and it changes a
//! cell that later rows or the public instances read, the row's output is not unique given its inputs:
//! the class of bug issue #22 found by hand (a fractional quotient, a half-integer root).
//!
//! The polynomials are halo2's own, read from the [`ConstraintSystem`] that
//! [`ModelCircuit::configure_with_params`] builds: the search checks the constraints the verifying key
//! holds, not a second description of them. For one row it moves one produced cell (the *pivot*) by a
//! step from [`STEPS`] (integers and small fractions), then solves the other produced cells one at a time
//! from any violated polynomial that is affine in exactly one of them, the way a forger fills in a
//! witness. Cells with a range check must end as integers that pass it.
//!
//! What it covers, and what not:
//! - every selector-gated polynomial (the second-phase Freivalds gates excepted: they hold only at the
//!   challenges, see `chips::freivalds`), on up to [`ROWS_PER_GATE`] rows per gate of each layout given;
//! - one pivot per attempt, moved by the steps in [`STEPS`]: a second witness that needs two independent
//!   moves, or a step outside that set, is not found;
//! - table lookups are not modelled: a cell copied into a lookup keeps its value (the plain-table test in
//!   `circuits/tests/circuits/forgery.rs` covers lookups);
//! - a produced cell is one no earlier row holds a copy of (copy constraints are symmetric; the earliest
//!   row computes the value), or the copy of a gateless witness read only here (the inverse of a zero
//!   test); a range-checked gateless witness (a private input) is an input. Moves also carry to the rows
//!   that read copies of the row's cells, whose outputs are solved too.

use std::collections::{HashMap, HashSet};

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use halo2_base::halo2_proofs::plonk::{AdviceQuery, Circuit, ConstraintSystem, Expression};

use super::forgery::{check_shape, fits_check, CopyClasses};
use super::layout::{fe, Gate, Layout, Pos, LANES};
use super::{CircuitError, ModelCircuit};

/// Gate rows examined per gate and layout (the first ones; a gate's rows differ only in their values).
pub const ROWS_PER_GATE: usize = 16;

/// The moves tried on a pivot: `(numerator, denominator)`.
pub const STEPS: [(i64, i64); 12] =
    [(1, 1), (-1, 1), (2, 1), (-2, 1), (1, 2), (-1, 2), (3, 2), (1, 3), (-1, 3), (1, 4), (-1, 4), (1, 8)];

/// A second witness of one gate row.
#[derive(Clone, Debug, PartialEq)]
pub struct SecondWitness {
    /// The gate whose row it is.
    pub gate: Gate,
    /// The row.
    pub row: usize,
    /// The cells it changes: position, honest value, second value.
    pub changed: Vec<(Pos, Fr, Fr)>,
}

/// What [`search_second_witnesses`] examined and found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchReport {
    /// Gate rows examined, per gate.
    pub rows: HashMap<Gate, usize>,
    /// Pivot moves tried.
    pub attempts: usize,
    /// Second witnesses that change a cell read elsewhere.
    pub found: Vec<SecondWitness>,
}

/// What a polynomial queries: its selectors (halo2's indices) and its advice queries.
struct Queries {
    selectors: Vec<usize>,
    advice: Vec<AdviceQuery>,
}

impl Queries {
    fn of(poly: &Expression<Fr>) -> Self {
        let (selectors, advice) = poly.evaluate(
            &|_| (Vec::new(), Vec::new()),
            &|s| (vec![s.index()], Vec::new()),
            &|_| (Vec::new(), Vec::new()),
            &|q| (Vec::new(), vec![q]),
            &|_| (Vec::new(), Vec::new()),
            &|_| (Vec::new(), Vec::new()),
            &|a| a,
            &|(s1, a1), (s2, a2)| ([s1, s2].concat(), [a1, a2].concat()),
            &|(s1, a1), (s2, a2)| ([s1, s2].concat(), [a1, a2].concat()),
            &|a, _| a,
        );
        Self { selectors, advice }
    }
}

/// A trial assignment: new values by copy class (a cell in no class by itself), so that every copy of
/// a moved cell moves with it.
type Trial = HashMap<Key, Fr>;

/// A copy class, or a cell no copy constraint touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Class(usize),
    Cell(Pos),
}

/// The polynomials switched on at a set of rows, each with the row it is evaluated at: the row under
/// test, the rows that read copies of its cells, and the rows near those that gates read by rotation.
struct System<'a> {
    layout: &'a Layout,
    config: &'a super::PoaiConfig,
    roles: &'a Roles<'a>,
    polys: Vec<(&'a Expression<Fr>, usize)>,
    /// The cells (by copy class) each polynomial reads.
    reads: Vec<HashSet<Key>>,
}

impl<'a> System<'a> {
    fn new(
        layout: &'a Layout,
        config: &'a super::PoaiConfig,
        roles: &'a Roles<'a>,
        polys: Vec<(&'a Expression<Fr>, usize)>,
    ) -> Self {
        let reads = polys
            .iter()
            .map(|&(poly, at)| {
                Queries::of(poly)
                    .advice
                    .iter()
                    .filter_map(|q| {
                        let r = at.checked_add_signed(q.rotation().0 as isize)?;
                        Some(roles.key(Pos::Lane(config.lane(q.column_index())?, r)))
                    })
                    .collect()
            })
            .collect();
        Self { layout, config, roles, polys, reads }
    }

    fn value(&self, p: Pos, trial: &Trial) -> Fr {
        trial.get(&self.roles.key(p)).copied().unwrap_or_else(|| self.layout.get(p))
    }

    /// The value of `poly` at row `at` under `trial`.
    fn eval(&self, (poly, at): (&Expression<Fr>, usize), trial: &Trial) -> Fr {
        let (l, c) = (self.layout, self.config);
        poly.evaluate(
            &|v| v,
            &|s| {
                let on = c.gate_of(s.index()).and_then(|g| l.selectors.get(g)?.get(at).copied());
                if on == Some(true) {
                    Fr::ONE
                } else {
                    Fr::ZERO
                }
            },
            &|q| {
                let r = at.checked_add_signed(q.rotation().0 as isize);
                r.and_then(|r| c.main_fixed(l, q.column_index(), r)).unwrap_or(Fr::ZERO)
            },
            &|q| {
                let r = at.checked_add_signed(q.rotation().0 as isize).filter(|&r| r < l.main_rows());
                match (c.lane(q.column_index()), r) {
                    (Some(lane), Some(r)) => self.value(Pos::Lane(lane, r), trial),
                    _ => Fr::ZERO,
                }
            },
            &|_| Fr::ZERO,
            &|_| Fr::ZERO,
            &|a| -a,
            &|a, b| a + b,
            &|a, b| a * b,
            &|a, k| a * k,
        )
    }

    /// Whether a polynomial that holds now (`held[i]`) stops holding when `cell` moves.
    fn read_by_a_holding_poly(&self, cell: Pos, trial: &Trial, held: &[bool]) -> bool {
        let key = self.roles.key(cell);
        let mut moved = trial.clone();
        moved.insert(key, self.value(cell, trial) + Fr::ONE);
        self.polys
            .iter()
            .zip(&self.reads)
            .zip(held)
            .any(|((&p, reads), &held)| held && reads.contains(&key) && self.eval(p, &moved) != Fr::ZERO)
    }

    /// Solves violated polynomials for the free cells, one at a time, where a polynomial is affine in
    /// exactly one of them (as a forger fills in a witness); where it reads several, the ones that a
    /// polynomial holding now also reads stay. Returns whether every polynomial then holds.
    fn solve(&self, trial: &mut Trial, free: &mut Vec<Pos>) -> bool {
        for _ in 0..=free.len() {
            let held: Vec<bool> = self.polys.iter().map(|&p| self.eval(p, trial) == Fr::ZERO).collect();
            if held.iter().all(|&h| h) {
                return true;
            }
            let mut progress = false;
            for (i, &p) in self.polys.iter().enumerate() {
                if held[i] {
                    continue;
                }
                let f0 = self.eval(p, trial);
                if f0 == Fr::ZERO {
                    continue;
                }
                let moved = |cell: Pos, by: u64| {
                    let mut t = trial.clone();
                    t.insert(self.roles.key(cell), self.value(cell, trial) + Fr::from(by));
                    self.eval(p, &t)
                };
                let mut reads: Vec<Pos> = free
                    .iter()
                    .copied()
                    .filter(|&cell| self.reads[i].contains(&self.roles.key(cell)) && moved(cell, 1) != f0)
                    .collect();
                if reads.len() > 1 {
                    reads.retain(|&cell| !self.read_by_a_holding_poly(cell, trial, &held));
                }
                let [cell] = reads[..] else { continue };
                let (f1, f2) = (moved(cell, 1), moved(cell, 2));
                let slope = f1 - f0;
                if f2 - f1 != slope {
                    continue;
                }
                let Some(inv) = Option::<Fr>::from(slope.invert()) else { continue };
                trial.insert(self.roles.key(cell), self.value(cell, trial) - f0 * inv);
                free.retain(|&x| self.roles.key(x) != self.roles.key(cell));
                progress = true;
            }
            if !progress {
                break;
            }
        }
        self.polys.iter().all(|&p| self.eval(p, trial) == Fr::ZERO)
    }
}

/// Searches `l` for gate rows with a second witness (see the module doc for what it covers).
pub fn search_second_witnesses(l: &Layout) -> Result<SearchReport, CircuitError> {
    let mut cs = ConstraintSystem::<Fr>::default();
    let config = ModelCircuit::configure_with_params(&mut cs, l.shape());
    let skipped = [Gate::RlcR, Gate::RlcS, Gate::Dot2, Gate::Horner2].map(|g| g as usize);
    // Each configured polynomial with the gate whose selector switches it on.
    let mut by_gate: HashMap<usize, Vec<&Expression<Fr>>> = HashMap::new();
    let mut reach = 0;
    for gate in cs.gates() {
        for poly in gate.polynomials() {
            let queries = Queries::of(poly);
            let Some(g) = queries.selectors.first().and_then(|&s| config.gate_of(s)) else { continue };
            if skipped.contains(&g) {
                continue;
            }
            by_gate.entry(g).or_default().push(poly);
            // How far a gate reads from its own row (the Poseidon full round writes two rows down).
            let far = queries.advice.iter().map(|q| q.rotation().0.unsigned_abs() as usize).max();
            reach = reach.max(far.unwrap_or(0));
        }
    }
    let roles = Roles::of(l);
    let produced_at = |row: usize| -> Vec<Pos> {
        (0..LANES).map(|lane| Pos::Lane(lane, row)).filter(|&p| roles.produced(p)).collect()
    };
    let mut report = SearchReport::default();
    let mut gates: Vec<usize> = by_gate.keys().copied().collect();
    gates.sort_unstable();
    for g in gates {
        let gate = Gate::ALL.get(g).copied().ok_or_else(|| CircuitError::Layout(format!("gate {g}")))?;
        let rows: Vec<usize> =
            (0..l.main_rows()).filter(|&r| l.selectors[g][r]).take(ROWS_PER_GATE).collect();
        *report.rows.entry(gate).or_default() += rows.len();
        for row in rows {
            let here = produced_at(row);
            // The rows that read copies of this row's cells: their outputs may follow a move.
            let mut consumers: Vec<usize> =
                here.iter().flat_map(|&p| roles.copy_rows(p)).filter(|&r| r != row).collect();
            consumers.sort_unstable();
            consumers.dedup();
            let mut at_rows: Vec<usize> = std::iter::once(row)
                .chain(consumers.iter().copied())
                .flat_map(|r| r.saturating_sub(reach)..(r + reach + 1).min(l.main_rows()))
                .collect();
            at_rows.sort_unstable();
            at_rows.dedup();
            let polys: Vec<(&Expression<Fr>, usize)> = at_rows
                .iter()
                .flat_map(|&at| {
                    by_gate
                        .iter()
                        .filter(move |(&h, _)| l.selectors[h][at])
                        .flat_map(move |(_, p)| p.iter().map(move |&p| (p, at)))
                })
                .collect();
            let system = System::new(l, &config, &roles, polys);
            let followers: Vec<Pos> = consumers
                .iter()
                .flat_map(|&r| produced_at(r))
                .filter(|p| here.iter().all(|h| roles.key(*h) != roles.key(*p)))
                .collect();
            for &pivot in &here {
                for (num, den) in STEPS {
                    report.attempts += 1;
                    let step = fe(num) * Option::<Fr>::from(fe(den).invert()).unwrap_or(Fr::ZERO);
                    let mut trial = Trial::from([(roles.key(pivot), l.get(pivot) + step)]);
                    let mut free: Vec<Pos> =
                        here.iter().chain(&followers).copied().filter(|&x| x != pivot).collect();
                    if !system.solve(&mut trial, &mut free) {
                        continue;
                    }
                    let changed: Vec<(Pos, Fr, Fr)> = here
                        .iter()
                        .chain(&followers)
                        .map(|&p| (p, l.get(p), system.value(p, &trial)))
                        .filter(|(_, old, new)| old != new)
                        .collect();
                    let checks_pass = changed
                        .iter()
                        .all(|&(p, _, v)| roles.check(p).is_none_or(|check| fits_check(v, check)));
                    let escapes = changed.iter().any(|&(p, ..)| roles.escapes(p, &at_rows));
                    if checks_pass && escapes {
                        report.found.push(SecondWitness { gate, row, changed });
                    }
                }
            }
        }
    }
    Ok(report)
}

/// What each cell of a layout is to the search: produced by its row or read from elsewhere, range-checked
/// or not, read by other rows or not.
struct Roles<'a> {
    layout: &'a Layout,
    classes: CopyClasses,
    /// Classes holding a constant, an instance or a lookup cell.
    pinned: HashSet<usize>,
    /// The first range-check row of each checked cell.
    checks: HashMap<Pos, usize>,
    /// Cells exposed as public instances.
    public: HashSet<Pos>,
}

impl<'a> Roles<'a> {
    fn of(l: &'a Layout) -> Self {
        let classes = CopyClasses::of(l);
        let constants: HashSet<Pos> = l.constants.iter().map(|&(p, _)| p).collect();
        let public: HashSet<Pos> = l.instance_cells.iter().map(|&(p, _)| p).collect();
        let special = |p: &Pos| {
            matches!(p, Pos::TabX(_) | Pos::TabY(_) | Pos::TabD(_) | Pos::P2(..)) || constants.contains(p)
        };
        let pinned =
            classes.all().iter().enumerate().filter(|(_, m)| m.iter().any(special)).map(|(i, _)| i).collect();
        let checks = l
            .copies
            .iter()
            .filter_map(|&(a, b)| if let Pos::Rz(first) = a { Some((b, first)) } else { None })
            .collect();
        Self { layout: l, classes, pinned, checks, public }
    }

    fn key(&self, p: Pos) -> Key {
        self.classes.id(p).map_or(Key::Cell(p), Key::Class)
    }

    /// The rows of the lanes in `p`'s copy class.
    fn copy_rows(&self, p: Pos) -> Vec<usize> {
        self.class_of(p)
            .into_iter()
            .flatten()
            .filter_map(|q| if let Pos::Lane(_, r) = q { Some(*r) } else { None })
            .collect()
    }

    /// Whether a change of `p` reaches beyond `rows`: a copy of it elsewhere (a range check aside) or a
    /// public instance.
    fn escapes(&self, p: Pos, rows: &[usize]) -> bool {
        let members = self.class_of(p).map_or_else(|| vec![p], <[Pos]>::to_vec);
        members.iter().any(|q| {
            self.public.contains(q)
                || match q {
                    Pos::Lane(_, r) => !rows.contains(r),
                    Pos::Rz(_) | Pos::Rc(_) => false,
                    _ => true,
                }
        })
    }

    fn class_of(&self, p: Pos) -> Option<&[Pos]> {
        self.classes.id(p).map(|c| self.classes.members(c))
    }

    fn gateless(&self, row: usize) -> bool {
        self.layout.selectors.iter().all(|s| !s.get(row).copied().unwrap_or(false))
    }

    /// Whether the row of `p` chooses its value: no earlier row holds a copy of it (copy constraints are
    /// symmetric; the earliest row is the one that computes the value), or it copies only a gateless
    /// witness cell without a range check (a zero test's inverse). Never a constant, instance or lookup
    /// cell.
    fn produced(&self, p: Pos) -> bool {
        let Pos::Lane(_, row) = p else { return false };
        let Some(c) = self.classes.id(p) else { return true };
        if self.pinned.contains(&c) {
            return false;
        }
        let lanes: Vec<Pos> = self
            .classes
            .members(c)
            .iter()
            .copied()
            .filter(|q| matches!(q, Pos::Lane(..)) && *q != p)
            .collect();
        let earlier = |q: &Pos| matches!(q, Pos::Lane(_, r) if *r < row);
        match lanes[..] {
            [q @ Pos::Lane(_, r)] if r < row => {
                self.gateless(r) && !self.checks.contains_key(&q) && !self.public.contains(&q)
            }
            _ => !lanes.iter().any(earlier),
        }
    }

    /// The range check of `p` (or of the cell it copies), if any.
    fn check(&self, p: Pos) -> Option<(u32, i64)> {
        let class = self.class_of(p)?;
        class.iter().find_map(|&q| check_shape(self.layout, q, *self.checks.get(&q)?))
    }
}
