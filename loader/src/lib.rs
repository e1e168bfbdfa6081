//! Kobold's module loader library (started in issue 4).
#![no_std]
