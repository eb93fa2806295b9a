//! Helpers shared by feedpipe's workspace integration tests (see `integration/`).
