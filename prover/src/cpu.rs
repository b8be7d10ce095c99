//! The prover's CPU requirement. On x86_64 poai links BN254 field arithmetic written in assembly with the
//! BMI2 and ADX instructions (`mulx`, `adcx`, `adox`): about 1.3× faster proving than the portable code.
//! A CPU without them (Intel before Broadwell, AMD before Zen) would stop on an illegal instruction at the
//! first field multiplication, so entry points check first and return a typed error instead.

use crate::ProverError;

/// `Ok` if this CPU runs the field arithmetic poai was built with; otherwise names what it lacks.
pub fn check_cpu() -> Result<(), ProverError> {
    match missing_instructions() {
        None => Ok(()),
        Some(missing) => Err(ProverError::UnsupportedCpu { missing }),
    }
}

#[cfg(target_arch = "x86_64")]
fn missing_instructions() -> Option<&'static str> {
    let (bmi2, adx) =
        (std::arch::is_x86_feature_detected!("bmi2"), std::arch::is_x86_feature_detected!("adx"));
    match (bmi2, adx) {
        (true, true) => None,
        (false, true) => Some("BMI2"),
        (true, false) => Some("ADX"),
        (false, false) => Some("BMI2 and ADX"),
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn missing_instructions() -> Option<&'static str> {
    // Elsewhere the portable field arithmetic is built: nothing to check.
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_runs_the_field_arithmetic_it_was_built_with() {
        // The test binary itself multiplies field elements with the same code, so reaching this line on
        // x86_64 already means the instructions exist; the check must agree.
        assert!(check_cpu().is_ok());
    }
}
