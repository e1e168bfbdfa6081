//! Linux error numbers (include/uapi/asm-generic/errno-base.h) and their
//! `strerror` texts.
//!
//! Kobold reports failures the way Linux does — `-ENOENT`, `-EINVAL`, … — so
//! that what a user reads here means the same thing on a real system.

use core::fmt;

/// A Linux errno value (positive; functions return it as `Err(Errno)` where
/// Linux would return `-errno`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EPERM: Errno = Errno(1);
    pub const ENOENT: Errno = Errno(2);
    pub const ESRCH: Errno = Errno(3);
    pub const EIO: Errno = Errno(5);
    pub const ENOEXEC: Errno = Errno(8);
    /// Also EWOULDBLOCK.
    pub const EAGAIN: Errno = Errno(11);
    pub const ENOMEM: Errno = Errno(12);
    pub const EFAULT: Errno = Errno(14);
    pub const ENODEV: Errno = Errno(19);
    pub const EBUSY: Errno = Errno(16);
    pub const EEXIST: Errno = Errno(17);
    pub const ENOTDIR: Errno = Errno(20);
    pub const EISDIR: Errno = Errno(21);
    pub const EINVAL: Errno = Errno(22);
    pub const ENOSPC: Errno = Errno(28);
    pub const ERANGE: Errno = Errno(34);
    pub const EDEADLK: Errno = Errno(35);
    pub const ENOSYS: Errno = Errno(38);
    pub const ENODATA: Errno = Errno(61);
    pub const ENOPKG: Errno = Errno(65);
    pub const EBADMSG: Errno = Errno(74);
    pub const ENOKEY: Errno = Errno(126);
    pub const EKEYREJECTED: Errno = Errno(129);

    /// The symbolic name, e.g. `"EINVAL"`.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            3 => "ESRCH",
            5 => "EIO",
            8 => "ENOEXEC",
            11 => "EAGAIN",
            12 => "ENOMEM",
            14 => "EFAULT",
            16 => "EBUSY",
            17 => "EEXIST",
            19 => "ENODEV",
            20 => "ENOTDIR",
            21 => "EISDIR",
            22 => "EINVAL",
            28 => "ENOSPC",
            34 => "ERANGE",
            35 => "EDEADLK",
            38 => "ENOSYS",
            61 => "ENODATA",
            65 => "ENOPKG",
            74 => "EBADMSG",
            126 => "ENOKEY",
            129 => "EKEYREJECTED",
            _ => "E?",
        }
    }

    /// glibc's `strerror` text, e.g. `"Invalid argument"`.
    pub fn message(self) -> &'static str {
        match self.0 {
            1 => "Operation not permitted",
            2 => "No such file or directory",
            3 => "No such process",
            5 => "Input/output error",
            8 => "Exec format error",
            11 => "Resource temporarily unavailable",
            12 => "Cannot allocate memory",
            14 => "Bad address",
            16 => "Device or resource busy",
            17 => "File exists",
            19 => "No such device",
            20 => "Not a directory",
            21 => "Is a directory",
            22 => "Invalid argument",
            28 => "No space left on device",
            34 => "Numerical result out of range",
            35 => "Resource deadlock avoided",
            38 => "Function not implemented",
            61 => "No data available",
            65 => "Package not installed",
            74 => "Bad message",
            126 => "Required key not available",
            129 => "Key was rejected by service",
            _ => "Unknown error",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages_match_linux() {
        assert_eq!(Errno::EINVAL.0, 22);
        assert_eq!(Errno::EINVAL.name(), "EINVAL");
        assert_eq!(Errno::ENOENT.to_string(), "No such file or directory");
        assert_eq!(Errno(999).name(), "E?");
    }
}
