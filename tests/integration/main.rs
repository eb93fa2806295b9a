//! feedpipe's workspace integration tests: one binary, one module per area.

mod asl_roundtrip;
mod pipeline_programs;
