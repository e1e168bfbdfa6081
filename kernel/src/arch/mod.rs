//! Architecture support. Kobold runs on ARMv7-A only.
pub mod armv7;
