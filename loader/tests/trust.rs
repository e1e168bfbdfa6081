//! Issue 8, "no module file panics, freezes or corrupts the kernel, and
//! memory always comes back": well-formed but extreme `.ko` files, each
//! generated here (no binaries are committed), through every stage.
//!
//! A counting global allocator (per thread, so parallel tests do not mix)
//! measures what the loader allocates: the largest single allocation and the
//! total, which must stay in proportion to the file. It can also fail the
//! n-th allocation, which proves that every allocation of every stage is
//! fallible: an infallible one would abort this test binary.
//!
//! Linearity is not timed: the big cases (150,000 COMMON symbols, 100,000
//! veneers, 30,000 names of 512 KB) would take minutes in this debug build
//! if any step were quadratic or scanned each long name in full.

use kobold_loader::KSYM_NAME_LEN;
use kobold_loader::ksymtab::{self, ParamType, TableError};
use kobold_loader::layout::{self, MODULE_WINDOW, ModuleLayoutError, Region};
use kobold_loader::link::{self, EntryError, LinkError, Linked, Resolver};
use kobold_loader::relocate::{Target, branch_addend};
use kobold_loader::{LoadError, Module, validate};
use std::alloc::{GlobalAlloc, Layout, System};

mod hostile;
use hostile::*;
use std::cell::Cell;

// ---------------------------------------------------------------------------
// The counting allocator.

struct Counting;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
    static TOTAL: Cell<usize> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
    static FAIL_AT: Cell<usize> = const { Cell::new(usize::MAX) };
}

// SAFETY: every request is forwarded unchanged to `System`, or refused with
// a null pointer (which GlobalAlloc allows); the bookkeeping touches only
// const-initialised thread-local Cells, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let active = ACTIVE.try_with(Cell::get).unwrap_or(false);
        if active {
            let n = COUNT.get();
            COUNT.set(n + 1);
            if n == FAIL_AT.get() {
                return std::ptr::null_mut();
            }
            TOTAL.set(TOTAL.get() + layout.size());
            LARGEST.set(LARGEST.get().max(layout.size()));
        }
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What a closure allocated on this thread.
#[derive(Debug, Clone, Copy)]
struct Stats {
    count: usize,
    total: usize,
    largest: usize,
}

/// Runs `f`, counting its allocations; the `fail_at`-th (from 0) fails.
fn measure_failing<R>(fail_at: usize, f: impl FnOnce() -> R) -> (R, Stats) {
    COUNT.set(0);
    TOTAL.set(0);
    LARGEST.set(0);
    FAIL_AT.set(fail_at);
    ACTIVE.set(true);
    let r = f();
    ACTIVE.set(false);
    FAIL_AT.set(usize::MAX);
    let stats = Stats {
        count: COUNT.get(),
        total: TOTAL.get(),
        largest: LARGEST.get(),
    };
    (r, stats)
}

fn measure<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    measure_failing(usize::MAX, f)
}

/// Memory in proportion to the file: the loader's tables hold one entry per
/// entry of the file, each at most twice its file size on a 64-bit host
/// (a `&str` is 16 bytes here, 8 on ARM32), plus a little.
fn assert_proportional(stats: Stats, file: usize, what: &str) {
    let slack = 64 * 1024;
    assert!(
        stats.largest <= 2 * file + slack,
        "{what}: largest allocation {} bytes for a {file}-byte file",
        stats.largest
    );
    assert!(
        stats.total <= 4 * file + slack,
        "{what}: {} bytes allocated in all for a {file}-byte file",
        stats.total
    );
}

/// Resolves `printk` to `printk_at`, everything else to a data address.
struct Kernel {
    printk_at: u32,
}

impl Resolver for Kernel {
    fn resolve(&self, name: &str) -> Option<Target> {
        Some(match name {
            "printk" => Target {
                value: self.printk_at,
                is_func: true,
            },
            _ => Target {
                value: 0xc000_1000,
                is_func: false,
            },
        })
    }
}

const BASE: u32 = 0xbf00_0000;

/// Links into fresh images at BASE (init right after core).
fn link_at_base<'a>(
    m: &Module<'a>,
    l: &layout::ModuleLayout,
) -> Result<(Vec<u8>, Vec<u8>, Linked), LinkError<'a>> {
    let mut core = vec![0xa5u8; l.core_size as usize];
    let mut init = vec![0xa5u8; l.init_size as usize];
    let linked = link::link(
        m,
        l,
        &mut core,
        BASE,
        &mut init,
        BASE + l.core_size,
        &Kernel {
            printk_at: 0xc000_8000,
        },
    )?;
    Ok((core, init, linked))
}

// ---------------------------------------------------------------------------
// Row 1: big .bss; regions larger than the module window.

#[test]
fn row1_big_bss_lays_out_and_regions_over_the_window_are_refused() {
    assert_eq!(
        MODULE_WINDOW,
        kobold_layout::PAGE_OFFSET - kobold_layout::MODULES_VADDR
    );
    assert_eq!(MODULE_WINDOW, 16 << 20);
    let bss = big_bss;
    for mb in [4u32, 8, 13] {
        let file = bss(mb << 20, ".bss");
        let ((), stats) = measure(|| {
            let m = validate(&file).unwrap();
            let l = layout::layout(&m).unwrap();
            assert_eq!((l.core_size, l.init_size), (mb << 20, 0), "{mb} MB");
        });
        assert_proportional(stats, file.len(), "big .bss");
        let m = validate(&file).unwrap();
        let l = layout::layout(&m).unwrap();
        // It fits the highmem window (14 MB) as well.
        let highmem_window = kobold_layout::modules_end(true) - kobold_layout::MODULES_VADDR;
        assert!(l.core_size <= highmem_window);
        // module_alloc memory is not zeroed: link zero-fills it.
        let (core, _, _) = link_at_base(&m, &l).unwrap();
        assert!(core.iter().all(|&b| b == 0), "{mb} MB .bss zeroed");
    }
    // Exactly the window: fine.
    let file = bss(16 << 20, ".bss");
    let l = layout::layout(&validate(&file).unwrap()).unwrap();
    assert_eq!(l.core_size, MODULE_WINDOW);
    // One byte more: refused at layout time, before anything is allocated.
    let file = bss((16 << 20) + 1, ".bss");
    let e = layout::layout(&validate(&file).unwrap()).unwrap_err();
    assert_eq!(
        e,
        ModuleLayoutError::RegionTooLarge {
            region: Region::Core,
            size: (16 << 20) + 4096
        }
    );
    assert_eq!(
        e.to_string(),
        "module too large: core region of 16781312 bytes exceeds the 16777216-byte module window"
    );
    // The init region too.
    let file = bss(17 << 20, ".init.data");
    let e = layout::layout(&validate(&file).unwrap()).unwrap_err();
    assert!(
        matches!(
            e,
            ModuleLayoutError::RegionTooLarge {
                region: Region::Init,
                ..
            }
        ),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------
// Row 2: many symbols sharing one long name.

#[test]
fn row2_symbols_sharing_one_long_name() {
    // 60 local symbols, one 64 KB name (67 KB); 2,000 (100 KB).
    for n in [60, 2000] {
        let file = shared_name(n, 64 * 1024, LOCAL_OBJECT);
        let (e, stats) = measure(|| validate(&file).map(|_| ()).unwrap_err());
        assert_eq!(
            e,
            LoadError::NameTooLong {
                what: "symbol",
                index: 1
            }
        );
        assert!(e.to_string().contains("512 bytes or more"), "{e}");
        assert_proportional(stats, file.len(), "shared 64 KB name");
    }
    // The longest name allowed (511 bytes), shared by 2,000 symbols: every
    // name is the same slice of the one string table, nothing is copied.
    let file = shared_name(2000, KSYM_NAME_LEN - 1, GLOBAL_OBJECT);
    let (names, stats) = measure(|| {
        let m = validate(&file).unwrap();
        let l = layout::layout(&m).unwrap();
        let ptrs: Vec<*const u8> = m.symbols[1..].iter().map(|s| s.name.as_ptr()).collect();
        assert!(ptrs.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(m.symbols[1].name.len(), KSYM_NAME_LEN - 1);
        (m.symbols.len(), l.core_size)
    });
    assert_eq!(names, (2001, 4096));
    assert_proportional(stats, file.len(), "shared 511-byte name");
    // 512 bytes: one too many.
    let file = shared_name(1, KSYM_NAME_LEN, GLOBAL_OBJECT);
    assert!(matches!(
        validate(&file).unwrap_err(),
        LoadError::NameTooLong { .. }
    ));
}

#[test]
fn row2_exports_sharing_one_long_name() {
    // 2,000 exports naming one 64 KB string (100 KB): refused, in
    // proportion.
    let file = shared_export_name(2000, 64 * 1024);
    let (e, stats) = measure(|| {
        let m = validate(&file).unwrap();
        let l = layout::layout(&m).unwrap();
        let (core, _, _) = link_at_base(&m, &l).unwrap();
        ksymtab::exports(&m, &l, &core, BASE)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    });
    assert_eq!(
        e,
        "section __ksymtab: entry 0 names a string of 512 bytes or more (KSYM_NAME_LEN)"
    );
    // The images are the caller's (they are in the count here): subtract.
    let images = 2 * (64 * 1024 + 16 * 1024);
    assert!(stats.total <= 4 * file.len() + images, "{stats:?}");
    assert!(stats.largest <= file.len() + 4096, "{stats:?}");
    // With a 511-byte name, 2,000 exports of one name: a duplicate.
    let file = shared_export_name(2000, KSYM_NAME_LEN - 1);
    let m = validate(&file).unwrap();
    let l = layout::layout(&m).unwrap();
    let (core, _, _) = link_at_base(&m, &l).unwrap();
    let (e, stats) = measure(|| ksymtab::exports(&m, &l, &core, BASE).unwrap_err());
    assert!(matches!(e, TableError::DuplicateExport { name } if name.len() == 511));
    assert_proportional(stats, file.len(), "2,000 exports of one name");
}

// ---------------------------------------------------------------------------
// Row 3: 150,000 COMMON symbols.

#[test]
fn row3_150000_common_symbols_link_in_n_log_n() {
    const N: u32 = 150_000;
    let file = commons(N);
    assert!(file.len() >= 2_400_000);
    let m = validate(&file).unwrap();
    let (l, stats) = measure(|| layout::layout(&m).unwrap());
    assert_eq!(l.commons.len(), N as usize);
    assert!(l.commons.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(l.core_size, (4 * N).next_multiple_of(4096));
    let (linked, link_stats) = measure(|| {
        let mut core = vec![0u8; l.core_size as usize];
        link::link(
            &m,
            &l,
            &mut core,
            BASE,
            &mut [],
            0,
            &Kernel { printk_at: 0 },
        )
        .unwrap()
    });
    // Symbol i (from 1) got the i-th 4-byte slot of the core data.
    for i in 1..=N {
        assert_eq!(linked.symbol_addrs[i as usize], BASE + 4 * (i - 1));
    }
    let all = Stats {
        count: stats.count + link_stats.count,
        total: stats.total + link_stats.total - l.core_size as usize,
        largest: stats.largest.max(link_stats.largest),
    };
    assert_proportional(all, file.len(), "150,000 commons");
}

// ---------------------------------------------------------------------------
// Row 4: 100,000 Thumb branches to one symbol, distinct addends.

#[test]
fn row4_100000_thumb_branches_get_one_veneer_each() {
    const N: u32 = 100_000;
    let addend = branch_addend_of;
    for i in [0, 1, N - 1] {
        let bl = thumb_bl(addend(i));
        assert_eq!(branch_addend(10, &bl), Some(addend(i)));
    }
    let file = thumb_branches(N);
    assert!(file.len() >= 1_200_000);
    let (core, stats) = measure(|| {
        let m = validate(&file).unwrap();
        let l = layout::layout(&m).unwrap();
        assert_eq!(l.plt(Region::Core).entries, N);
        let mut core = vec![0u8; l.core_size as usize];
        // printk 48 MB away: no Thumb BL reaches it.
        let far = Kernel {
            printk_at: 0xc200_0000,
        };
        link::link(&m, &l, &mut core, BASE, &mut [], 0, &far).unwrap();
        (core, l.plt(Region::Core).offset)
    });
    let (core, plt) = core;
    assert_proportional(
        Stats {
            total: stats.total - core.len(),
            ..stats
        },
        file.len(),
        "100,000 branches",
    );
    let word = |at: u32| u32::from_le_bytes(core[at as usize..at as usize + 4].try_into().unwrap());
    // Branch i goes to veneer i (the keys sort by addend), whose literal is
    // printk + addend + 4.
    for i in 0..N {
        let at = 4 * i;
        let off = branch_addend(10, &core[at as usize..at as usize + 4]).unwrap();
        let dest = (BASE + at + 4).wrapping_add(off as u32);
        let veneer = BASE + plt + 8 * i;
        assert_eq!(dest, veneer, "branch {i}");
        assert_eq!(word(plt + 8 * i), 0xf000_f8df, "ldr.w pc, [pc, #0]");
        assert_eq!(word(plt + 8 * i + 4), 0xc200_0000 + 2 * i);
    }
}

// ---------------------------------------------------------------------------
// Row 5: 30,000 __ksymtab words naming one 512 KB string.

#[test]
fn row5_30000_names_of_one_512k_string_are_refused_quickly() {
    let file = shared_export_name(30_000, 512 * 1024);
    let m = validate(&file).unwrap();
    let l = layout::layout(&m).unwrap();
    let (core, _, _) = link_at_base(&m, &l).unwrap();
    let (e, stats) = measure(|| ksymtab::exports(&m, &l, &core, BASE).unwrap_err());
    assert_eq!(
        e,
        TableError::NameTooLong {
            section: "__ksymtab",
            index: 0
        }
    );
    assert_proportional(stats, file.len(), "30,000 names");
}

// ---------------------------------------------------------------------------
// Row 6: a COMMON symbol of nearly 4 GB.

#[test]
fn row6_a_4gb_common_symbol_is_refused_at_layout() {
    let file = huge_common();
    let m = validate(&file).unwrap();
    let e = layout::layout(&m).unwrap_err();
    assert_eq!(
        e,
        ModuleLayoutError::RegionTooLarge {
            region: Region::Core,
            size: 0xfff0_0000
        }
    );
}

// ---------------------------------------------------------------------------
// The link API: exact buffers; entry points.

#[test]
fn link_wants_buffers_of_the_layout_size() {
    let mut ko = Ko::default();
    ko.nobits(".bss", A | W, 100);
    ko.symtab(b"\0".to_vec(), &[]);
    let file = ko.bytes();
    let m = validate(&file).unwrap();
    let l = layout::layout(&m).unwrap();
    let mut short = vec![0u8; 100];
    let e = link::link(
        &m,
        &l,
        &mut short,
        BASE,
        &mut [],
        0,
        &Kernel { printk_at: 0 },
    )
    .unwrap_err();
    assert_eq!(
        e,
        LinkError::BufferSize {
            region: Region::Core,
            expected: 4096,
            got: 100
        }
    );
    assert_eq!(
        e.to_string(),
        "core image buffer of 100 bytes, the layout needs 4096"
    );
    let mut core = vec![0u8; 4096];
    let mut extra = vec![0u8; 1];
    let e = link::link(
        &m,
        &l,
        &mut core,
        BASE,
        &mut extra,
        0,
        &Kernel { printk_at: 0 },
    );
    assert!(matches!(
        e,
        Err(LinkError::BufferSize {
            region: Region::Init,
            ..
        })
    ));
}

/// A module with `init_module` / `cleanup_module` defined as given:
/// (section name or None for SHN_ABS/UNDEF via `shndx`, value).
fn with_entries(init: (&str, u16, u32), exit: (&str, u16, u32)) -> Vec<u8> {
    let mut ko = Ko::default();
    let text = ko.add(".text", SHT_PROGBITS, A | X, vec![0; 8]);
    let init_text = ko.add(".init.text", SHT_PROGBITS, A | X, vec![0; 8]);
    let data = ko.add(".data", SHT_PROGBITS, A | W, vec![0; 8]);
    let rodata = ko.add(".rodata", SHT_PROGBITS, A, vec![0; 8]);
    let index = |name: &str, shndx: u16| match name {
        ".text" => text as u16,
        ".init.text" => init_text as u16,
        ".data" => data as u16,
        ".rodata" => rodata as u16,
        _ => shndx,
    };
    ko.symtab(
        b"\0init_module\0cleanup_module\0".to_vec(),
        &[
            sym(1, init.2, 4, GLOBAL_FUNC, index(init.0, init.1)),
            sym(13, exit.2, 4, GLOBAL_FUNC, index(exit.0, exit.1)),
        ],
    );
    ko.bytes()
}

fn entries(file: &[u8]) -> Result<link::EntryPoints, EntryError> {
    let m = validate(file).unwrap();
    let l = layout::layout(&m).unwrap();
    let (_, _, linked) = link_at_base(&m, &l).unwrap();
    link::entry_points(&m, &l, &linked)
}

#[test]
fn entry_points_must_be_module_text() {
    // init in .init.text (Thumb), exit in .text.
    let e = entries(&with_entries((".init.text", 0, 1), (".text", 0, 4))).unwrap();
    assert_eq!(e.exit, Some(BASE + 4));
    let init_base = BASE + 3 * 4096; // after core text, rodata, data
    assert_eq!(e.init, Some(init_base | 1));
    // init in core text is fine too.
    assert!(entries(&with_entries((".text", 0, 0), (".text", 0, 4))).is_ok());
    for (init, exit, symbol, what) in [
        ((".data", 0, 0), (".text", 0, 0), "init_module", "data"),
        (
            (".rodata", 0, 0),
            (".text", 0, 0),
            "init_module",
            "read-only data",
        ),
        (
            ("abs", SHN_ABS, 0x1000),
            (".text", 0, 0),
            "init_module",
            "absolute",
        ),
        (("undef", 0, 0), (".text", 0, 0), "init_module", "undefined"),
        (
            (".text", 0, 8),
            (".text", 0, 0),
            "init_module",
            "outside its section",
        ),
        (
            (".text", 0, 0),
            (".init.text", 0, 0),
            "cleanup_module",
            "init text",
        ),
        ((".text", 0, 0), (".data", 0, 0), "cleanup_module", "data"),
    ] {
        let e = entries(&with_entries(init, exit)).unwrap_err();
        assert_eq!(e, EntryError { symbol, what });
    }
    assert_eq!(
        EntryError {
            symbol: "init_module",
            what: "data"
        }
        .to_string(),
        "init_module is not a function of the module (data)"
    );
    // No entry points at all: nothing to call, not an error.
    let mut ko = Ko::default();
    ko.add(".text", SHT_PROGBITS, A | X, vec![0; 4]);
    ko.symtab(b"\0".to_vec(), &[]);
    assert_eq!(entries(&ko.bytes()).unwrap(), link::EntryPoints::default());
}

// ---------------------------------------------------------------------------
// Every allocation is fallible.

/// A module exercising every table: text calling printk (through the PLT),
/// data, bss, a COMMON symbol, an export and an int parameter.
fn everything() -> Vec<u8> {
    let mut ko = Ko::default();
    let text = ko.add(".text", SHT_PROGBITS, A | X, thumb_bl(-4).repeat(2));
    let data = ko.add(".data", SHT_PROGBITS, A | W, vec![0; 8]);
    ko.nobits(".bss", A | W, 64);
    let strs = ko.add(
        "__ksymtab_strings",
        SHT_PROGBITS,
        A,
        b"exported\0count\0".to_vec(),
    );
    let ksymtab = ko.add("__ksymtab", SHT_PROGBITS, A, vec![0; 8]);
    let mut param = vec![0u8; 16];
    param[0..4].copy_from_slice(&9u32.to_le_bytes()); // "count"
    let params = ko.add("__param", SHT_PROGBITS, A, param);
    let symtab = ko.symtab(
        b"\0printk\0exported\0common\0param_ops_int\0init_module\0".to_vec(),
        &[
            sym(1, 0, 0, GLOBAL_FUNC, 0),
            sym(8, 0, 4, GLOBAL_FUNC, text as u16),
            sym(17, 4, 16, GLOBAL_OBJECT, SHN_COMMON),
            sym(0, 0, 0, LOCAL_SECTION, strs as u16),
            sym(0, 0, 0, LOCAL_SECTION, data as u16),
            sym(24, 0, 0, 0x10, 0),
            sym(38, 0, 4, GLOBAL_FUNC, text as u16),
        ],
    );
    ko.rel(
        text,
        symtab,
        &[rel(0, 1, R_ARM_THM_CALL), rel(4, 1, R_ARM_THM_CALL)],
    );
    ko.rel(
        ksymtab,
        symtab,
        &[rel(0, 2, R_ARM_ABS32), rel(4, 4, R_ARM_ABS32)],
    );
    ko.rel(
        params,
        symtab,
        &[
            rel(0, 4, R_ARM_ABS32),
            rel(4, 6, R_ARM_ABS32),
            rel(12, 5, R_ARM_ABS32),
        ],
    );
    ko.bytes()
}

/// Every stage, as insmod runs them, with `Err` naming the stage that
/// failed and whether it said "out of memory".
fn load(file: &[u8], images: &mut (Vec<u8>, Vec<u8>)) -> Result<usize, (&'static str, bool)> {
    let m = validate(file).map_err(|e| ("validate", e == LoadError::NoMemory))?;
    let l = layout::layout(&m).map_err(|e| ("layout", e == ModuleLayoutError::NoMemory))?;
    let (core, init) = images;
    // The images are the caller's: sized outside the measured stages.
    if core.len() != l.core_size as usize || init.len() != l.init_size as usize {
        return Err(("images", false));
    }
    let far = Kernel {
        printk_at: 0xc200_0000,
    };
    let linked = link::link(&m, &l, core, BASE, init, BASE + l.core_size, &far)
        .map_err(|e| ("link", e == LinkError::NoMemory))?;
    let exports =
        ksymtab::exports(&m, &l, core, BASE).map_err(|e| ("exports", e == TableError::NoMemory))?;
    let classify = |ops: u32| (ops == 0xc000_1000).then_some(ParamType::Int);
    let params = ksymtab::params(&m, &l, core, BASE, BASE + l.core_size, &classify)
        .map_err(|e| ("params", e == TableError::NoMemory))?;
    link::entry_points(&m, &l, &linked).map_err(|_| ("entry", false))?;
    Ok(exports.len() + params.len())
}

#[test]
fn every_allocation_failure_is_no_memory() {
    let file = everything();
    let (core_size, init_size) = {
        let m = validate(&file).unwrap();
        let l = layout::layout(&m).unwrap();
        (l.core_size as usize, l.init_size as usize)
    };
    let mut images = (vec![0u8; core_size], vec![0u8; init_size]);
    let (r, stats) = measure(|| load(&file, &mut images));
    assert_eq!(r, Ok(2), "one export, one parameter");
    assert!(stats.count >= 8, "{stats:?}");
    let m = validate(&file).unwrap();
    let l = layout::layout(&m).unwrap();
    assert_eq!(l.plt(Region::Core).entries, 1, "two BLs, one key");
    for n in 0..stats.count {
        let (r, _) = measure_failing(n, || load(&file, &mut images));
        match r {
            Err((_, true)) => {}
            other => panic!("allocation {n} failed, and the load said {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Rows 7 and 8: a parameter into text; a name that forges /proc/modules.

#[test]
fn row7_a_parameter_pointing_into_text_is_refused() {
    let file = param_into_text();
    let m = validate(&file).unwrap();
    let l = layout::layout(&m).unwrap();
    let (core, _, _) = link_at_base(&m, &l).unwrap();
    let int = |_| Some(ParamType::Int);
    let e = ksymtab::params(&m, &l, &core, BASE, BASE + l.core_size, &int).unwrap_err();
    assert!(
        matches!(
            e,
            TableError::ParamNotWritable {
                name: "p",
                arg: BASE,
                width: 4
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("not in the module's writable data"),
        "{e}"
    );
}

#[test]
fn row8_a_name_that_would_forge_proc_modules_is_refused() {
    for bad in ["nl\nfake 4096 0 - Live 0xc0000000", "with space", "a/b"] {
        let file = named(bad);
        let m = validate(&file).unwrap();
        let name = m.modinfo_get("name").unwrap();
        assert_eq!(name, bad);
        assert!(kobold_loader::modinfo::check_name(name).is_err(), "{bad:?}");
    }
    let m_ok = named("fine_name-2");
    let m = validate(&m_ok).unwrap();
    assert!(kobold_loader::modinfo::check_name(m.modinfo_get("name").unwrap()).is_ok());
}
