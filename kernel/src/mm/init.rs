//! Memory setup at boot and the global memory state it leaves (Linux:
//! arch/arm/mm/init.c and arch/arm/mm/mmu.c, 3.18).
//!
//! `start_kernel` calls these in this order, as Linux's `setup_arch` and
//! `mm_init` do:
//!
//! 1. [`early_trap_init`] maps the vector page at 0xffff0000 and
//!    [`drop_identity_map`] removes boot.S's identity section;
//! 2. [`sanity_check_meminfo`] applies `vmalloc=` and the lowmem/highmem
//!    rule (kobold-layout) and keeps the [`Layout`] for good;
//! 3. [`arm_memblock_init`] records RAM and what must never be handed out
//!    (page directory, kernel image, boot parameters, initrd);
//! 4. [`paging_init`] maps all of lowmem with sections (`map_lowmem`);
//! 5. [`bootmem_init`] hands memblock's free RAM to the buddy allocator;
//! 6. [`iotable_init`] opens the vmalloc and module windows around the
//!    static I/O mapping;
//! 7. [`mem_init`] prints `Memory: ...` and `Virtual kernel memory layout:`;
//! 8. at the end of boot, [`free_initmem`] gives `.init` back.
//!
//! What they leave — the layout and memblock — is read through
//! [`layout()`], [`lowmem_limit`] (highmem's `PageHighMem` test) and
//! [`is_ram`] (`/dev/mem`'s access policy). Nothing here depends on init or
//! the shell: they call down into mm, never the other way round.

// MB_PERIPH_*: the boot.S section holding the UART and the system
// registers, mapped until the drivers `ioremap` them (Linux's DEBUG_LL
// static mapping).
use crate::board::vexpress_a9::memory::{MB_PERIPH_PHYS, MB_PERIPH_VIRT};
use crate::boot::{self, BootInfo};
use crate::cmdline::CmdlineError;
use crate::mm::{self, memblock::Memblock, pgtable::Prot, sections::KernelImage};
use crate::sync::Mutex;
use crate::{pr_info, pr_notice, pr_warn};
use kobold_layout::{
    self as layout, Layout, LayoutError, MemRegion, PAGE_SHIFT, SECTION_SIZE, VmallocArg,
    virt_to_phys,
};
use spin::Once;

static LAYOUT: Once<Layout> = Once::new();
static MEMBLOCK: Mutex<Memblock> = Mutex::new(Memblock::new());

/// Maps the vector page at 0xffff0000 (Linux's `early_trap_init` +
/// `devicemaps_init`). SCTLR.V is already set, so until this is done any
/// exception would loop.
#[unsafe(link_section = ".init.text")]
pub fn early_trap_init(img: &KernelImage) -> Result<(), mm::MapError> {
    // SAFETY: 0xffff0000 is unused, and the vector page is part of the image.
    unsafe {
        mm::map_page(
            layout::VECTORS_BASE,
            virt_to_phys(img.vectors_start),
            Prot::KERNEL_RX,
        )
    }
}

/// Removes the identity map boot.S made for its own section.
#[unsafe(link_section = ".init.text")]
pub fn drop_identity_map(img: &KernelImage) {
    let boot_section = virt_to_phys(img.text) & !(SECTION_SIZE - 1);
    // SAFETY: we run at virtual addresses; nothing uses the identity map.
    unsafe { mm::clear_l1_range(boot_section, boot_section + SECTION_SIZE) };
}

/// The layout for the RAM banks `boot` found and the `vmalloc=` argument
/// (Linux's `early_vmalloc` + `sanity_check_meminfo`), kept for the rest
/// of the kernel's life. A malformed `vmalloc=` must not stop the boot: it
/// is reported with its detail and ignored. Prints Linux's notices
/// (`vmalloc area is too big, ...`, `Truncating RAM ...`).
#[unsafe(link_section = ".init.text")]
pub fn sanity_check_meminfo(
    boot: &BootInfo,
    vmalloc: Option<Result<VmallocArg, CmdlineError<'_>>>,
) -> &'static Layout {
    let vmalloc = match vmalloc {
        Some(Ok(arg)) => Some(arg),
        Some(Err(e)) => {
            pr_warn!("{e}, ignored");
            None
        }
        None => None,
    };
    let mut banks = [MemRegion { base: 0, size: 0 }; boot::MAX_MEM_BANKS];
    for (dst, b) in banks.iter_mut().zip(boot.mem_banks()) {
        *dst = MemRegion {
            base: b.start,
            size: b.size,
        };
    }
    let banks = &banks[..boot.mem_banks().len().min(boot::MAX_MEM_BANKS)];
    let highmem = cfg!(feature = "highmem");
    // Linux prints early_vmalloc's warning first, then the split's notices.
    if let Some(w) = vmalloc.and_then(|a| a.warning) {
        pr_warn!("{w}");
    }
    let vmalloc_min = vmalloc.map_or(layout::VMALLOC_MIN_DEFAULT, |a| a.vmalloc_min);
    let layout = LAYOUT.call_once(|| match compute_layout(banks, highmem, vmalloc_min) {
        Ok(l) => l,
        Err(e) => crate::panic::panic_exit(format_args!("memory layout: {e}")),
    });
    for notice in layout.notices() {
        if notice.is_warning() {
            pr_warn!("{notice}");
        } else {
            pr_notice!("{notice}");
        }
    }
    layout
}

/// [`layout::sanity_check_meminfo`], never inlined: it returns the
/// `Layout` in place, and the `Once` copies it whole. Inlined into the
/// `Once`, the `Layout` (some 600 bytes) was moved field by field twice
/// more, code QEMU translated for this one run (docs/BENCHMARKS.md).
#[inline(never)]
#[unsafe(link_section = ".init.text")]
fn compute_layout(
    banks: &[MemRegion],
    highmem: bool,
    vmalloc_min: u32,
) -> Result<Layout, LayoutError> {
    layout::sanity_check_meminfo(banks, highmem, vmalloc_min)
}

/// RAM (after the lowmem/highmem rule) and what must never be handed out
/// (Linux's `arm_memblock_init`): the page directory, the kernel image, the
/// DTB or ATAG page at `params_phys`, the initrd.
#[unsafe(link_section = ".init.text")]
pub fn arm_memblock_init(layout: &Layout, boot: &BootInfo, img: &KernelImage, params_phys: u32) {
    let mut mb = MEMBLOCK.lock();
    for r in layout
        .lowmem_regions()
        .iter()
        .chain(layout.highmem_regions())
    {
        if let Err(e) = mb.memory.add(r.base, r.size) {
            pr_warn!("{e}");
        }
    }
    let reserve = |mb: &mut Memblock, base: u64, size: u64| {
        if let Err(e) = mb.reserved.add(base, size) {
            pr_warn!("{e}");
        }
    };
    let pgd = virt_to_phys(layout::SWAPPER_PG_DIR) as u64;
    reserve(&mut mb, pgd, layout::PG_DIR_SIZE as u64);
    let kernel = virt_to_phys(img.text) as u64;
    reserve(&mut mb, kernel, (img.end - img.text) as u64);
    match boot.dtb_phys_range() {
        Some((start, size)) => reserve(&mut mb, start, size),
        None => reserve(&mut mb, (params_phys & !0xfff) as u64, 0x1000),
    }
    if let Some((start, size)) = boot.initrd() {
        reserve(&mut mb, start, size);
    }
}

/// Maps all of lowmem with sections (Linux's `paging_init` → `map_lowmem`)
/// and drops boot.S's mapping of the boot parameters when it lies above
/// lowmem.
#[unsafe(link_section = ".init.text")]
pub fn paging_init(layout: &Layout, img: &KernelImage) {
    let kernel_x = (
        virt_to_phys(img.text) & !(SECTION_SIZE - 1),
        virt_to_phys(img.init_end).next_multiple_of(SECTION_SIZE),
    );
    for r in layout.lowmem_regions() {
        // Lowmem ends at most at `vmalloc_limit`, below 4 GiB
        // (kobold-layout), so its addresses fit a 32-bit `phys_addr_t`.
        let (start, end) = (r.base as u32, r.end() as u32);
        // SAFETY: lowmem is RAM; the kernel's megabytes stay RWX.
        unsafe { mm::map_lowmem(start, end, kernel_x) };
    }
    let top = layout.high_memory().next_multiple_of(SECTION_SIZE);
    // SAFETY: between lowmem's end and the static I/O map nothing is in use
    // yet; only boot.S's boot-parameter window can be there.
    unsafe { mm::clear_l1_range(top, MB_PERIPH_VIRT) };
}

/// Hands memblock's free RAM to the buddy allocator (Linux's
/// `bootmem_init` + `free_all_bootmem`). A failure is fatal.
#[unsafe(link_section = ".init.text")]
pub fn bootmem_init(layout: &Layout) {
    // SAFETY: once, with lowmem mapped and memblock complete.
    if let Err(e) = unsafe { mm::page_alloc::init(&mut MEMBLOCK.lock(), layout.arm_lowmem_limit()) }
    {
        crate::panic::panic_exit(format_args!("page allocator: {e}"));
    }
}

/// Sets up the vmalloc and module windows and, when vmalloc could hand it
/// out before it is released (`debug_ll_is_an_area`), records boot.S's
/// static DEBUG_LL mapping as a vm area (Linux's `devicemaps_init` →
/// `iotable_init` → `vm_area_add_early`).
#[unsafe(link_section = ".init.text")]
pub fn iotable_init(layout: &Layout) {
    let statics = [(
        MB_PERIPH_VIRT,
        SECTION_SIZE,
        MB_PERIPH_PHYS,
        iotable_init as *const () as u32,
    )];
    let statics = if debug_ll_is_an_area(layout) {
        &statics[..]
    } else {
        &[]
    };
    let windows = (
        (layout.vmalloc_start(), layout.vmalloc_end()),
        (layout.modules_vaddr(), layout.modules_end()),
    );
    if let Err(e) = mm::vmalloc::init(windows.0, windows.1, statics) {
        crate::panic::panic_exit(format_args!("vmalloc: {e}"));
    }
}

/// Whether boot.S's DEBUG_LL section is recorded as a vm area while the
/// console still uses it: only when the vmalloc window starts at it or
/// above it (then it lies outside the window, recording it fails and
/// [`release_debug_ll`] warns, as before).
///
/// When the window starts below it, it starts at least `VMALLOC_OFFSET`
/// (8 MB) below: `VMALLOC_START` is a multiple of 8 MB (kobold-layout's
/// host test `vmalloc_start_never_lies_just_below_debug_ll`), and so is
/// `MB_PERIPH_VIRT`. The only areas allocated before the release are
/// `remap_devices`' two one-page `ioremap`s (16 KB with their guard pages),
/// which the lowest-fit allocator places at `VMALLOC_START`, far below the
/// section. Recording the section and freeing it after them left the
/// allocator exactly as not recording it does; the free was the only run
/// of `vfree` and of the allocator's free path before the shell, about 320
/// guest instructions that QEMU translated for it alone (docs/BENCHMARKS.md,
/// "Fifth pass"). Without the area, the release is the page-table clear.
fn debug_ll_is_an_area(layout: &Layout) -> bool {
    layout.vmalloc_start() >= MB_PERIPH_VIRT
}
const _: () = assert!(MB_PERIPH_VIRT.is_multiple_of(layout::VMALLOC_OFFSET));

/// Releases boot.S's DEBUG_LL section once the drivers have `ioremap`ed
/// what they use from it.
pub fn release_debug_ll() {
    match LAYOUT.get() {
        Some(l) if !debug_ll_is_an_area(l) => {
            // SAFETY: the console and the system registers now use their
            // ioremaps; nothing else used the section, and it is no vm area
            // (see `debug_ll_is_an_area`).
            unsafe { mm::clear_l1_range(MB_PERIPH_VIRT, MB_PERIPH_VIRT + SECTION_SIZE) };
        }
        _ => {
            if let Err(e) = mm::vmalloc::vfree(MB_PERIPH_VIRT) {
                pr_warn!("cannot release the DEBUG_LL section: {e}");
            }
        }
    }
}

/// KiB as the `Memory:` line's `unsigned long` counts hold them.
fn kb(bytes: u64) -> u32 {
    (bytes >> 10) as u32
}

/// Prints what Linux's `mem_init` prints: the `Memory:` line and the
/// `Virtual kernel memory layout:` table.
#[unsafe(link_section = ".init.text")]
pub fn mem_init(layout: &Layout, img: &KernelImage) {
    let total = MEMBLOCK.lock().memory.total();
    let pages = mm::page_alloc::counters();
    let free = pages.free << PAGE_SHIFT;
    let totalram = pages.totalram << PAGE_SHIFT;
    let line = layout::MemoryLine {
        free_kb: kb(free),
        total_kb: kb(total),
        code_kb: kb((img.etext - img.stext) as u64),
        rwdata_kb: kb((img.edata - img.sdata) as u64),
        rodata_kb: kb((img.end_rodata - img.start_rodata) as u64),
        init_kb: kb((img.init_end - img.init_begin) as u64),
        bss_kb: kb((img.bss_stop - img.bss_start) as u64),
        reserved_kb: kb(total - totalram),
        highmem_kb: layout
            .highmem()
            .then_some(kb(pages.totalhigh << PAGE_SHIFT)),
    };
    pr_info!("{line}");
    let sections = layout::KernelSections {
        text: (img.text, img.etext),
        init: (img.init_begin, img.init_end),
        data: (img.sdata, img.edata),
        bss: (img.bss_start, img.bss_stop),
    };
    for l in layout.virtual_layout_lines(&sections) {
        pr_notice!("{l}");
    }
}

/// Returns `.init` to the page allocator, as Linux's `free_initmem` with its
/// message `Freeing unused kernel memory: NK (start - end)`.
pub fn free_initmem(img: &KernelImage) {
    let (start, end) = (img.init_begin, img.init_end);
    let pages =
        mm::page_alloc::free_reserved_area(virt_to_phys(start) as u64, virt_to_phys(end) as u64);
    pr_info!(
        "Freeing unused kernel memory: {}K ({start:08x} - {end:08x})",
        // Linux's `%ldK` of a long (32 bits); one integer formatter at boot.
        (pages << (PAGE_SHIFT - 10)) as u32
    );
}

/// The layout boot computed; `None` before [`sanity_check_meminfo`].
pub fn layout() -> Option<&'static Layout> {
    LAYOUT.get()
}

/// The physical end of lowmem (`arm_lowmem_limit`); 0 before boot sets it.
pub fn lowmem_limit() -> u64 {
    LAYOUT.get().map_or(0, |l| l.arm_lowmem_limit())
}

/// Whether `phys` is RAM memblock knows (Linux's `page_is_ram`).
pub fn is_ram(phys: u64) -> bool {
    MEMBLOCK.lock().memory.contains(phys)
}
