//! Board support. Kobold runs on one board, QEMU's `vexpress-a9`.
pub mod vexpress_a9;
