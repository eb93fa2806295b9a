//! feedpipe's workspace integration tests: one binary, one module per area.

mod asl_roundtrip;
mod conformance;
mod engine_props;
mod jsonata_suite;
mod pipeline_programs;
