//! Benchmarks only: see `benches/verify.rs` and `BENCHMARKS.md` at the
//! workspace root. Run them with `scripts/bench`.
#![forbid(unsafe_code)]
