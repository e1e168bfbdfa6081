//! What the kernel shell and its drivers agree on: the prompt.
//!
//! The kernel prints [`PROMPT`] when it is ready for a command line, and
//! `cargo xtask`'s harness types the next command only after it has seen
//! it (the way a user waits for busybox ash's prompt on a Linux console),
//! and splits the transcript into one segment per command at it. One
//! definition keeps the two from drifting apart.

/// The prompt, busybox ash's for root in `/`.
pub const PROMPT: &str = "/ # ";
