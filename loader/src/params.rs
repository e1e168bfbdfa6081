//! Setting a module's parameters from `insmod NAME=VALUE` words: Linux's
//! `parse_args` / `parse_one` on the `__param` table that
//! [`ksymtab::params`](crate::ksymtab::params) read.
//!
//! Each word is `name=value` (or a bare `name`, which only a `bool` takes).
//! The name is matched as Linux's `parameq` does (`-` and `_` alike); the
//! value is parsed by the parameter's type ([`ParamType::parse`]) and the
//! bits written, little-endian and of the type's width, into the image
//! (core or init region) at the variable's place. A `charp` needs the
//! string in kernel memory: the caller's `copy_string` makes that copy and
//! returns its address, which is what gets written.
//!
//! As on Linux, an unknown name is only a warning (the kernel logs
//! "unknown parameter 'x' ignored" and goes on); a bad value refuses the
//! module (`-EINVAL`).

use crate::ksymtab::{Param, ParamType, find_param};
use crate::layout::Region;
use core::fmt;

/// Why a `name=value` word was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamError<'a, E> {
    /// The module has no parameter `name`: Linux warns and ignores it.
    Unknown { name: &'a str },
    /// The value is not one the parameter's type accepts (or is missing).
    InvalidValue { name: &'a str, value: &'a str },
    /// The parameter's variable is not inside its image (the table reader
    /// checked this already; kept as an error, not a panic).
    Outside { name: &'a str },
    /// The caller could not copy a `charp` value into kernel memory.
    CopyString(E),
}

impl<E: fmt::Display> fmt::Display for ParamError<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Unknown { name } => write!(f, "unknown parameter '{name}' ignored"),
            ParamError::InvalidValue { name, value } => {
                write!(f, "`{value}' invalid for parameter `{name}'")
            }
            ParamError::Outside { name } => {
                write!(f, "parameter '{name}' points outside the module")
            }
            ParamError::CopyString(e) => write!(f, "cannot copy a string parameter: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for ParamError<'_, E> {}

/// Splits an `insmod` word into its name and value (`None`: no `=`).
pub fn split_arg(arg: &str) -> (&str, Option<&str>) {
    match arg.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (arg, None),
    }
}

/// Applies one `insmod` word `arg` to the module's `params` (as
/// [`ksymtab::params`](crate::ksymtab::params) returned them, their names
/// in `core`), writing the value into `core` or `init`. For a `charp`
/// with a value, `copy_string(value)` returns the address of the kernel's
/// copy; its error comes back as [`ParamError::CopyString`].
pub fn apply<'a, E>(
    params: &[Param],
    core: &mut [u8],
    init: &mut [u8],
    arg: &'a str,
    copy_string: &mut dyn FnMut(&str) -> Result<u32, E>,
) -> Result<(), ParamError<'a, E>> {
    let (name, value) = split_arg(arg);
    let Some(p) = find_param(params, core, name) else {
        return Err(ParamError::Unknown { name });
    };
    let ty = p.ty;
    let bits = match (ty, value) {
        (ParamType::Charp, Some(v)) => Some(copy_string(v).map_err(ParamError::CopyString)?),
        _ => ty.parse(value),
    };
    let Some(bits) = bits else {
        return Err(ParamError::InvalidValue {
            name,
            value: value.unwrap_or(""),
        });
    };
    let at = p.offset as usize;
    let width = ty.width() as usize;
    let image = if p.region == Region::Core { core } else { init };
    let dst = at
        .checked_add(width)
        .and_then(|end| image.get_mut(at..end))
        .ok_or(ParamError::Outside { name })?;
    let src = bits.to_le_bytes();
    dst.copy_from_slice(src.get(..width).ok_or(ParamError::Outside { name })?);
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::elf::tests_support::link_vec;
    use crate::ksymtab::tests::{OPS_INT, classify, with_params};
    use object::SectionKind;
    use std::string::ToString;
    use std::vec::Vec;

    const CORE: u32 = 0xbf00_0000;
    const INIT: u32 = 0xbf80_0000;

    struct Any;
    impl crate::link::Resolver for Any {
        fn resolve(&self, _: &str) -> Option<crate::relocate::Target> {
            Some(crate::relocate::Target {
                value: OPS_INT,
                is_func: false,
            })
        }
    }

    /// Applies `args` to the `with_params` module whose variables are in
    /// `section`; returns each word's result and the two ints (count,
    /// flag) read back from the image.
    fn run(
        section: &[u8],
        args: &[&'static str],
    ) -> (Vec<Result<(), ParamError<'static, &'static str>>>, [u32; 2]) {
        let bytes = with_params(section, SectionKind::Data, 4);
        let m = crate::validate(&bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let (mut core, mut init, _) = link_vec(&m, &l, CORE, INIT, &Any).unwrap();
        let params = crate::ksymtab::params(&m, &l, &core, CORE, INIT, &classify).unwrap();
        let offset = params[0].offset as usize;
        let mut results = Vec::new();
        for arg in args {
            results.push(apply(&params, &mut core, &mut init, arg, &mut |_| {
                Err("no strings here")
            }));
        }
        let image = if params[0].region == Region::Core {
            &core
        } else {
            &init
        };
        let read = |at: usize| u32::from_le_bytes(image[at..at + 4].try_into().unwrap());
        (results, [read(offset), read(offset + 4)])
    }

    #[test]
    fn values_are_written_into_the_image() {
        let (r, values) = run(b".data", &["count=0x2a", "other_count=7", "flag=-3"]);
        assert_eq!(r, [Ok(()), Ok(()), Ok(())]);
        // `count` and `other-count` share the variable: the last word wins.
        assert_eq!(values, [7, (-3i32) as u32]);
        // Init data is written in the init image.
        let (r, values) = run(b".init.data", &["count=5"]);
        assert_eq!(r, [Ok(())]);
        assert_eq!(values[0], 5);
    }

    #[test]
    fn unknown_names_and_bad_values_are_typed() {
        let (r, values) = run(
            b".data",
            &["nosuch=1", "count=abc", "count", "count=99999999999"],
        );
        assert_eq!(
            r,
            [
                Err(ParamError::Unknown { name: "nosuch" }),
                Err(ParamError::InvalidValue {
                    name: "count",
                    value: "abc"
                }),
                Err(ParamError::InvalidValue {
                    name: "count",
                    value: ""
                }),
                Err(ParamError::InvalidValue {
                    name: "count",
                    value: "99999999999"
                }),
            ]
        );
        // Nothing was written.
        assert_eq!(values, [0, 0]);
        assert_eq!(
            r[0].unwrap_err().to_string(),
            "unknown parameter 'nosuch' ignored"
        );
        assert_eq!(
            r[1].unwrap_err().to_string(),
            "`abc' invalid for parameter `count'"
        );
    }

    #[test]
    fn charp_values_are_copied_by_the_caller() {
        let bytes = with_params(b".data", SectionKind::Data, 4);
        let m = crate::validate(&bytes).unwrap();
        let l = crate::layout::layout(&m).unwrap();
        let (mut core, mut init, _) = link_vec(&m, &l, CORE, INIT, &Any).unwrap();
        let charp = |_| Some(ParamType::Charp);
        let params = crate::ksymtab::params(&m, &l, &core, CORE, INIT, &charp).unwrap();
        let mut copies = Vec::new();
        let mut copy = |s: &str| {
            if s == "fail" {
                return Err("ENOMEM");
            }
            copies.push(s.to_string());
            Ok(0xd000_0000 + copies.len() as u32)
        };
        assert_eq!(
            apply(&params, &mut core, &mut init, "count=Kobold", &mut copy),
            Ok(())
        );
        assert_eq!(
            apply(&params, &mut core, &mut init, "count=fail", &mut copy),
            Err(ParamError::CopyString("ENOMEM"))
        );
        // A charp without a value is an invalid value, copied nowhere.
        assert_eq!(
            apply(&params, &mut core, &mut init, "count", &mut copy),
            Err(ParamError::InvalidValue {
                name: "count",
                value: ""
            })
        );
        assert_eq!(copies, ["Kobold"]);
        let at = params[0].offset as usize;
        assert_eq!(
            u32::from_le_bytes(core[at..at + 4].try_into().unwrap()),
            0xd000_0001
        );
    }

    #[test]
    fn split_arg_splits_at_the_first_equals_sign() {
        assert_eq!(split_arg("who=a=b"), ("who", Some("a=b")));
        assert_eq!(split_arg("flag"), ("flag", None));
        assert_eq!(split_arg("x="), ("x", Some("")));
    }
}
