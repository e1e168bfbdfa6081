//! Linux 3.18's ARM32 virtual memory layout (placeholder, filled in by the layout work).
#![no_std]
