//! Settings shared by the property tests that sit beside each parser of outside input
//! (`WWW-Authenticate`, JSON with comments, `${VAR}`, SSE, the message peek, bundles,
//! the callback query). They run as ordinary tests with a case count that keeps the
//! whole suite within seconds; `PROPTEST_CASES=100000` hunts longer. A failure proptest
//! finds is shrunk, and is then kept as a plain regression test beside the others.

use proptest::test_runner::Config as ProptestConfig;

/// `cases` runs, or `PROPTEST_CASES` when set.
pub(crate) fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // Found failures are turned into named tests by hand, not kept in seed files.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}
