//! `CONFIG_DEBUG_LIST`: the checks Linux 6.1's `list_add` and `list_del`
//! make before they touch a `struct list_head` (lib/list_debug.c), exported
//! as `__list_add_valid(new, prev, next)` and `__list_del_entry_valid(entry)`.
//!
//! Linux's inline list API (`modules/include/linux/list.h`, as
//! include/linux/list.h) calls them first and does nothing when they return
//! false. The checks and their messages are 6.1's, word for word: NULL
//! links, `next->prev`/`prev->next` that do not point back, a double add,
//! and the poison values `list_del` leaves in a removed entry
//! (`LIST_POISON1`/`LIST_POISON2`, 0x100 and 0x122 on ARM, where
//! `POISON_POINTER_DELTA` is 0) — so a use-after-`list_del` is named as
//! such instead of faulting somewhere later.
//!
//! What happens on a failed check: Linux reports through
//! `CHECK_DATA_CORRUPTION`, which `BUG()`s with
//! `CONFIG_BUG_ON_DATA_CORRUPTION=y` (Debian's 6.1 config) and `WARN`s
//! otherwise; either way the operation is skipped. Kobold takes the `WARN`
//! branch: it prints Linux's message in a `WARNING:` report and returns
//! false, so the list is left exactly as it was (the add or delete is
//! refused) and the kernel keeps running for the student to look at it.
//!
//! The pointers are a module's; the checks read `next->prev`, `prev->next`
//! and `entry->{next,prev}` as Linux does (after the NULL and poison
//! checks, so those never fault). A wild pointer faults and oopses, as on
//! Linux.

use super::{Px, warn};
use core::fmt;

/// Linux's `struct list_head`.
#[repr(C)]
#[derive(Debug)]
pub struct ListHead {
    pub next: *mut ListHead,
    pub prev: *mut ListHead,
}

/// What `list_del` writes into a removed entry's `next` (include/linux/poison.h).
pub const LIST_POISON1: usize = 0x100;
/// What `list_del` writes into a removed entry's `prev`.
pub const LIST_POISON2: usize = 0x122;

/// One failed check, with the pointers Linux's message prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    AddPrevNull,
    AddNextNull,
    AddNextPrev {
        prev: usize,
        was: usize,
        next: usize,
    },
    AddPrevNext {
        next: usize,
        was: usize,
        prev: usize,
    },
    DoubleAdd {
        new: usize,
        prev: usize,
        next: usize,
    },
    DelNextNull {
        entry: usize,
    },
    DelPrevNull {
        entry: usize,
    },
    DelPoison1 {
        entry: usize,
    },
    DelPoison2 {
        entry: usize,
    },
    DelPrevNext {
        entry: usize,
        was: usize,
        prev: usize,
    },
    DelNextPrev {
        entry: usize,
        was: usize,
        next: usize,
    },
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Corruption::*;
        match *self {
            AddPrevNull => write!(f, "list_add corruption. prev is NULL."),
            AddNextNull => write!(f, "list_add corruption. next is NULL."),
            AddNextPrev { prev, was, next } => write!(
                f,
                "list_add corruption. next->prev should be prev ({}), but was {}. (next={}).",
                Px(prev),
                Px(was),
                Px(next)
            ),
            AddPrevNext { next, was, prev } => write!(
                f,
                "list_add corruption. prev->next should be next ({}), but was {}. (prev={}).",
                Px(next),
                Px(was),
                Px(prev)
            ),
            DoubleAdd { new, prev, next } => write!(
                f,
                "list_add double add: new={}, prev={}, next={}.",
                Px(new),
                Px(prev),
                Px(next)
            ),
            DelNextNull { entry } => write!(f, "list_del corruption, {}->next is NULL", Px(entry)),
            DelPrevNull { entry } => write!(f, "list_del corruption, {}->prev is NULL", Px(entry)),
            DelPoison1 { entry } => write!(
                f,
                "list_del corruption, {}->next is LIST_POISON1 ({})",
                Px(entry),
                Px(LIST_POISON1)
            ),
            DelPoison2 { entry } => write!(
                f,
                "list_del corruption, {}->prev is LIST_POISON2 ({})",
                Px(entry),
                Px(LIST_POISON2)
            ),
            DelPrevNext { entry, was, prev } => write!(
                f,
                "list_del corruption. prev->next should be {}, but was {}. (prev={})",
                Px(entry),
                Px(was),
                Px(prev)
            ),
            DelNextPrev { entry, was, next } => write!(
                f,
                "list_del corruption. next->prev should be {}, but was {}. (next={})",
                Px(entry),
                Px(was),
                Px(next)
            ),
        }
    }
}

/// Linux's `__list_add_valid` checks, in its order, without printing.
///
/// # Safety
///
/// `prev` and `next`, when neither NULL, are readable `list_head`s (C's
/// contract for `list_add`: the caller's list).
pub unsafe fn check_add(
    new: *mut ListHead,
    prev: *mut ListHead,
    next: *mut ListHead,
) -> Result<(), Corruption> {
    if prev.is_null() {
        return Err(Corruption::AddPrevNull);
    }
    if next.is_null() {
        return Err(Corruption::AddNextNull);
    }
    // SAFETY: this function's contract: both are readable list heads.
    let (next_prev, prev_next) = unsafe { ((*next).prev, (*prev).next) };
    if next_prev != prev {
        return Err(Corruption::AddNextPrev {
            prev: prev as usize,
            was: next_prev as usize,
            next: next as usize,
        });
    }
    if prev_next != next {
        return Err(Corruption::AddPrevNext {
            next: next as usize,
            was: prev_next as usize,
            prev: prev as usize,
        });
    }
    if new == prev || new == next {
        return Err(Corruption::DoubleAdd {
            new: new as usize,
            prev: prev as usize,
            next: next as usize,
        });
    }
    Ok(())
}

/// Linux's `__list_del_entry_valid` checks, in its order, without printing.
///
/// # Safety
///
/// `entry` is a readable `list_head`, and its links, unless NULL or
/// poison, point at readable `list_head`s (C's contract for `list_del`).
pub unsafe fn check_del(entry: *mut ListHead) -> Result<(), Corruption> {
    // SAFETY: this function's contract: `entry` is readable.
    let (prev, next) = unsafe { ((*entry).prev, (*entry).next) };
    let e = entry as usize;
    if next.is_null() {
        return Err(Corruption::DelNextNull { entry: e });
    }
    if prev.is_null() {
        return Err(Corruption::DelPrevNull { entry: e });
    }
    if next as usize == LIST_POISON1 {
        return Err(Corruption::DelPoison1 { entry: e });
    }
    if prev as usize == LIST_POISON2 {
        return Err(Corruption::DelPoison2 { entry: e });
    }
    // SAFETY: this function's contract: neither NULL nor poison, so the
    // caller's list heads.
    let prev_next = unsafe { (*prev).next };
    if prev_next != entry {
        return Err(Corruption::DelPrevNext {
            entry: e,
            was: prev_next as usize,
            prev: prev as usize,
        });
    }
    // SAFETY: as above.
    let next_prev = unsafe { (*next).prev };
    if next_prev != entry {
        return Err(Corruption::DelNextPrev {
            entry: e,
            was: next_prev as usize,
            next: next as usize,
        });
    }
    Ok(())
}

/// `bool __list_add_valid(struct list_head *new, struct list_head *prev,
/// struct list_head *next)`: true if `new` may go between `prev` and
/// `next`; otherwise prints Linux's report and returns false (the caller,
/// `__list_add`, then leaves the list alone).
///
/// # Safety
///
/// As [`check_add`]: the caller's list heads, as C's `list_add` requires.
pub unsafe extern "C" fn list_add_valid(
    new: *mut ListHead,
    prev: *mut ListHead,
    next: *mut ListHead,
) -> bool {
    // SAFETY: this function's contract.
    match unsafe { check_add(new, prev, next) } {
        Ok(()) => true,
        Err(c) => {
            warn(file!(), line!(), "__list_add_valid", format_args!("{c}"));
            false
        }
    }
}

/// `bool __list_del_entry_valid(struct list_head *entry)`: true if `entry`
/// may be unlinked; otherwise prints Linux's report and returns false (the
/// caller, `__list_del_entry`, then leaves the list alone).
///
/// # Safety
///
/// As [`check_del`]. A NULL `entry` is reported, not read.
pub unsafe extern "C" fn list_del_entry_valid(entry: *mut ListHead) -> bool {
    if entry.is_null() {
        // Linux would fault reading NULL->prev; the message says so.
        warn(
            file!(),
            line!(),
            "__list_del_entry_valid",
            format_args!("list_del corruption, entry is NULL"),
        );
        return false;
    }
    // SAFETY: this function's contract.
    match unsafe { check_del(entry) } {
        Ok(()) => true,
        Err(c) => {
            warn(
                file!(),
                line!(),
                "__list_del_entry_valid",
                format_args!("{c}"),
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr::null_mut;
    use std::boxed::Box;
    use std::format;
    use std::vec::Vec;

    /// `n` heads at stable addresses (boxed), linked into one circular list.
    #[allow(clippy::vec_box)]
    fn ring(n: usize) -> Vec<Box<ListHead>> {
        let mut v: Vec<Box<ListHead>> = (0..n)
            .map(|_| {
                Box::new(ListHead {
                    next: null_mut(),
                    prev: null_mut(),
                })
            })
            .collect();
        let ptrs: Vec<*mut ListHead> = v.iter_mut().map(|b| &mut **b as *mut ListHead).collect();
        for i in 0..n {
            v[i].next = ptrs[(i + 1) % n];
            v[i].prev = ptrs[(i + n - 1) % n];
        }
        v
    }

    fn p(b: &mut Box<ListHead>) -> *mut ListHead {
        &mut **b
    }

    #[test]
    fn a_sound_add_and_delete_pass() {
        let mut r = ring(3);
        let mut new = ring(1);
        let (a, b, n) = (p(&mut r[0]), p(&mut r[1]), p(&mut new[0]));
        // SAFETY: live boxes.
        unsafe {
            assert_eq!(check_add(n, a, b), Ok(()));
            assert!(list_add_valid(n, a, b));
            assert_eq!(check_del(b), Ok(()));
            assert!(list_del_entry_valid(b));
        }
    }

    #[test]
    fn add_checks_in_linux_order_with_linux_words() {
        let mut r = ring(3);
        let mut new = ring(1);
        let (a, b, c, n) = (p(&mut r[0]), p(&mut r[1]), p(&mut r[2]), p(&mut new[0]));
        // SAFETY: live boxes throughout.
        unsafe {
            assert_eq!(check_add(n, null_mut(), b), Err(Corruption::AddPrevNull));
            assert_eq!(check_add(n, a, null_mut()), Err(Corruption::AddNextNull));
            // a and c are not neighbours (a->next is b): next->prev is wrong.
            let e = check_add(n, a, c).unwrap_err();
            assert_eq!(
                e,
                Corruption::AddNextPrev {
                    prev: a as usize,
                    was: b as usize,
                    next: c as usize
                }
            );
            assert_eq!(
                format!("{e}"),
                format!(
                    "list_add corruption. next->prev should be prev ({}), but was {}. (next={}).",
                    Px(a as usize),
                    Px(b as usize),
                    Px(c as usize)
                )
            );
            // Break a->next only: prev->next is wrong.
            r[0].next = c;
            assert!(matches!(
                check_add(n, a, b),
                Err(Corruption::AddPrevNext { .. })
            ));
            assert!(!list_add_valid(n, a, b));
            r[0].next = b;
            // Adding an entry next to itself: the double add.
            let e = check_add(a, a, b).unwrap_err();
            assert!(format!("{e}").starts_with("list_add double add: new="));
        }
    }

    #[test]
    fn del_names_poison_null_and_broken_neighbours() {
        let mut r = ring(3);
        let (a, b, c) = (p(&mut r[0]), p(&mut r[1]), p(&mut r[2]));
        // SAFETY: live boxes; poison values are compared, never read.
        unsafe {
            r[1].next = LIST_POISON1 as *mut ListHead;
            r[1].prev = LIST_POISON2 as *mut ListHead;
            let e = check_del(b).unwrap_err();
            assert_eq!(e, Corruption::DelPoison1 { entry: b as usize });
            assert_eq!(
                format!("{e}"),
                format!(
                    "list_del corruption, {}->next is LIST_POISON1 ({})",
                    Px(b as usize),
                    Px(0x100)
                )
            );
            r[1].next = c;
            assert_eq!(
                check_del(b),
                Err(Corruption::DelPoison2 { entry: b as usize })
            );
            r[1].prev = null_mut();
            assert_eq!(
                check_del(b),
                Err(Corruption::DelPrevNull { entry: b as usize })
            );
            r[1].next = null_mut();
            assert_eq!(
                check_del(b),
                Err(Corruption::DelNextNull { entry: b as usize })
            );
            r[1].next = c;
            r[1].prev = a;
            // c->prev no longer points back at b.
            r[2].prev = a;
            let e = check_del(b).unwrap_err();
            assert_eq!(
                e,
                Corruption::DelNextPrev {
                    entry: b as usize,
                    was: a as usize,
                    next: c as usize
                }
            );
            assert!(format!("{e}").ends_with(&format!("(next={})", Px(c as usize))));
            r[0].next = c;
            assert!(matches!(check_del(b), Err(Corruption::DelPrevNext { .. })));
            assert!(!list_del_entry_valid(b));
            assert!(!list_del_entry_valid(null_mut()));
        }
    }
}
