//! The `feedpipe` command: dispatch only; each command lives in its own module.

fn main() {}
