//! Placeholder until the webhook benchmark is written.

fn main() {}
