//! `pt`: the page tables, explained.
//!
//! - `pt VADDR` walks the tables for one address and explains each entry
//!   ([`crate::mm::pgtable::write_walk`]);
//! - `pt START END` / `pt START +LEN` prints one line per page of a range:
//!   virtual and physical address, RO/RW, X/XN, memory type — the picture
//!   of an address range Linux's `/sys/kernel/debug/kernel_page_tables`
//!   gives (that file merges runs of equal pages; one line per page is
//!   easier to follow for a few pages);
//! - `pt --module NAME` does that for each permission group of a loaded
//!   module (text, rodata, ro_after_init, data, in each region), then the
//!   page after each region, the vmalloc guard page, which must be
//!   unmapped: W^X (Linux's CONFIG_STRICT_MODULE_RWX) and the guard page,
//!   seen.
//!
//! Nothing here allocates: a module's groups are copied into a fixed
//! [`ModuleMap`] (a module has at most two regions of four groups).

use super::{Platform, Shell, devmem};
use crate::mm::pgtable::{self, L1Entry, PageWalk};
use core::fmt::{self, Write};
use kobold_loader::layout::{Group, Region};

/// At most this many pages per range (a screenful or two).
pub const MAX_PAGES: u32 = 1024;

const PAGE: u32 = 4096;

/// A loaded module's regions and groups, as `pt --module` needs them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModuleMap {
    /// (region, base, size) of the core and, while it exists, init region.
    pub regions: [Option<(Region, u32, u32)>; 2],
    /// (region, group, start address, end address) of each group.
    pub groups: [Option<(Region, Group, u32, u32)>; 8],
}

impl ModuleMap {
    /// The map of a module at `core_base` (`core_size` bytes), with its init
    /// region if still there, from the layout's groups (offsets).
    pub fn new(
        core: (u32, u32),
        init: Option<(u32, u32)>,
        groups: &[(Region, Group, u32, u32)],
    ) -> Self {
        let mut map = ModuleMap {
            regions: [Some((Region::Core, core.0, core.1)), None],
            groups: [None; 8],
        };
        if let Some((b, s)) = init {
            map.regions[1] = Some((Region::Init, b, s));
        }
        let mut slots = map.groups.iter_mut();
        for &(region, group, start, end) in groups {
            let base = match (region, init) {
                (Region::Core, _) => core.0,
                (Region::Init, Some((b, _))) => b,
                // The init region is freed: its groups are gone.
                (Region::Init, None) => continue,
            };
            if let Some(slot) = slots.next() {
                *slot = Some((
                    region,
                    group,
                    base.wrapping_add(start),
                    base.wrapping_add(end),
                ));
            }
        }
        map
    }
}

/// One page as the tables map it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageInfo {
    pub phys: u32,
    pub writable: bool,
    pub exec: bool,
    pub mem_type: &'static str,
}

/// What the walk `w` says about its page, `None` if unmapped.
pub fn page_info(w: &PageWalk) -> Option<PageInfo> {
    let (d, f, phys) = match pgtable::decode_l1(w.l1) {
        L1Entry::Fault => return None,
        L1Entry::Supersection { phys } => (w.l1, &pgtable::SECTION, phys | (w.virt & 0x00ff_ffff)),
        L1Entry::Section { phys, .. } => (w.l1, &pgtable::SECTION, phys | (w.virt & 0x000f_ffff)),
        L1Entry::Table { .. } => {
            let p = w.l2?;
            if p & 3 == 0 {
                return None;
            }
            if p & 2 == 0 {
                // A large page: AP as a small page's, XN at bit 15.
                let info = attrs(p, &pgtable::SMALL_PAGE);
                return Some(PageInfo {
                    phys: (p & 0xffff_0000) | (w.virt & 0xffff),
                    exec: p & (1 << 15) == 0,
                    ..info
                });
            }
            (p, &pgtable::SMALL_PAGE, (p & !0xfff) | (w.virt & 0xfff))
        }
    };
    Some(PageInfo {
        phys,
        ..attrs(d, f)
    })
}

fn attrs(d: u32, f: &pgtable::Fields) -> PageInfo {
    let (tex, c, b) = ((d >> f.tex_shift) & 7, d & f.c != 0, d & f.b != 0);
    let (apx, ap) = (d & f.apx != 0, (d >> f.ap_shift) & 3);
    PageInfo {
        phys: 0,
        writable: !apx && ap != 0,
        exec: d & f.xn == 0,
        mem_type: pgtable::mem_type_name(tex & 1 == 1, c, b),
    }
}

/// One line for the page at `virt` (`label` before it, if any).
fn write_page(out: &mut dyn Write, p: &mut dyn Platform, label: &str, virt: u32) -> fmt::Result {
    if !label.is_empty() {
        write!(out, "{label:<14}")?;
    }
    match page_info(&p.page_walk(virt)) {
        Some(i) => writeln!(
            out,
            "{virt:#010x} -> {:#010x} {} {:<2} {}",
            i.phys,
            if i.writable { "RW" } else { "RO" },
            if i.exec { "X" } else { "XN" },
            i.mem_type
        ),
        None => writeln!(out, "{virt:#010x} unmapped"),
    }
}

/// Every page of `[start, end)` (page-aligned outward).
fn write_range(
    out: &mut dyn Write,
    p: &mut dyn Platform,
    label: &str,
    start: u32,
    end: u32,
) -> fmt::Result {
    let mut virt = start & !(PAGE - 1);
    while virt < end {
        write_page(out, p, label, virt)?;
        let Some(next) = virt.checked_add(PAGE) else {
            break;
        };
        virt = next;
    }
    Ok(())
}

fn group_label(region: Region, group: Group) -> &'static str {
    match (region, group) {
        (Region::Core, Group::Text) => "text",
        (Region::Core, Group::Rodata) => "rodata",
        (Region::Core, Group::RoAfterInit) => "ro_after_init",
        (Region::Core, Group::Data) => "data",
        (Region::Init, Group::Text) => "init.text",
        (Region::Init, Group::Rodata) => "init.rodata",
        (Region::Init, Group::RoAfterInit) => "init.ro_a_i",
        (Region::Init, Group::Data) => "init.data",
    }
}

fn write_module(out: &mut dyn Write, p: &mut dyn Platform, name: &str) -> fmt::Result {
    let Some(map) = p.module_map(name) else {
        return writeln!(out, "pt: module '{name}' is not loaded");
    };
    for (region, base, size) in map.regions.into_iter().flatten() {
        let rname = if region == Region::Core {
            "core"
        } else {
            "init"
        };
        writeln!(
            out,
            "{name} {rname} region {base:#010x}-{:#010x}",
            base.wrapping_add(size)
        )?;
        for (r, group, start, end) in map.groups.into_iter().flatten() {
            if r == region {
                write_range(out, p, group_label(r, group), start, end)?;
            }
        }
        write_page(out, p, "guard", base.wrapping_add(size))?;
    }
    Ok(())
}

pub fn cmd_pt(
    _: &mut Shell,
    args: &[&str],
    out: &mut dyn Write,
    p: &mut dyn Platform,
) -> fmt::Result {
    let number = |s: &str| devmem::parse_number(s).and_then(|v| u32::try_from(v).ok());
    match args {
        [addr] => match number(addr) {
            Some(virt) => pgtable::write_walk(out, &p.page_walk(virt)),
            None => writeln!(out, "pt: invalid address '{addr}'"),
        },
        ["--module", name] => write_module(out, p, name),
        [start, end] => {
            let Some(s) = number(start) else {
                return writeln!(out, "pt: invalid address '{start}'");
            };
            let e = match end.strip_prefix('+') {
                Some(len) => number(len).and_then(|l| s.checked_add(l)),
                None => number(end),
            };
            let Some(e) = e.filter(|&e| e > s) else {
                return writeln!(out, "pt: invalid end '{end}'");
            };
            if (e - (s & !(PAGE - 1))).div_ceil(PAGE) > MAX_PAGES {
                return writeln!(out, "pt: at most {MAX_PAGES} pages at a time");
            }
            write_range(out, p, "", s, e)
        }
        _ => writeln!(
            out,
            "Usage: pt VADDR | pt START END|+LEN | pt --module NAME"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_pages_decode_to_permissions() {
        let walk = |l2| PageWalk {
            virt: 0xbf00_0123,
            ttbr0: 0,
            l1: 0x6000_0001,
            l2: Some(l2),
        };
        let rx = pgtable::small_page(0x6123_4000, pgtable::Prot::KERNEL_RX);
        let i = page_info(&walk(rx)).unwrap();
        assert_eq!((i.phys, i.writable, i.exec), (0x6123_4123, false, true));
        let rw = pgtable::small_page(0x6123_4000, pgtable::Prot::KERNEL_RW);
        let i = page_info(&walk(rw)).unwrap();
        assert_eq!((i.writable, i.exec), (true, false));
        assert_eq!(page_info(&walk(0)), None);
        let fault = PageWalk {
            l1: 0,
            l2: None,
            ..walk(0)
        };
        assert_eq!(page_info(&fault), None);
    }

    #[test]
    fn module_maps_skip_a_freed_init_region() {
        let groups = [
            (Region::Core, Group::Text, 0, 0x800),
            (Region::Core, Group::Data, 0x1000, 0x1010),
            (Region::Init, Group::Text, 0, 0x10),
        ];
        let m = ModuleMap::new((0xbf00_0000, 0x2000), None, &groups);
        assert_eq!(m.regions[1], None);
        assert_eq!(
            m.groups[..3],
            [
                Some((Region::Core, Group::Text, 0xbf00_0000, 0xbf00_0800)),
                Some((Region::Core, Group::Data, 0xbf00_1000, 0xbf00_1010)),
                None
            ]
        );
        let m = ModuleMap::new((0xbf00_0000, 0x2000), Some((0xbf00_3000, 0x1000)), &groups);
        assert_eq!(
            m.groups[2],
            Some((Region::Init, Group::Text, 0xbf00_3000, 0xbf00_3010))
        );
    }
}
