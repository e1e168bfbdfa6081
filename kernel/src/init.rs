//! `start_kernel`: from boot.S's jump to the shell prompt (Linux:
//! init/main.c `start_kernel` + arch/arm/kernel/setup.c `setup_arch`).
//!
//! 1. Map the vector page at 0xffff0000 (SCTLR.V is already set, so no
//!    exception can be handled before this), start the console, drop the
//!    boot identity map, probe semihosting.
//! 2. Print the banner; parse the ATAGs or DTB that r2 points to.
//! 3. Apply `vmalloc=` and Linux 3.18's lowmem/highmem rule (kobold-layout),
//!    record RAM and boot-time reservations (memblock), map all of lowmem.
//! 4. Print `Memory: ...` and `Virtual kernel memory layout:` like mem_init.
//! 5. Run the shell.

use crate::arch::armv7::semihosting;
use crate::board::vexpress_a9::{self, memory::MB_PERIPH_VIRT, sysregs, uart};
use crate::boot::{self, BootInfo, BootSource};
use crate::console::{self, Console};
use crate::errno::Errno;
use crate::mm::{self, memblock::Memblock, pgtable::Prot, sections};
use crate::proc::{self, MemInfo};
use crate::shell::{
    self, CrashKind, Platform, devmem,
    line::{Event, LineEditor},
};
use crate::{pr_emerg, pr_info, pr_notice, pr_warn, print};
use aarch32_cpu::register::{Midr, Mpidr, Sctlr, SysRegRead, Ttbr0};
use core::fmt::Write;
use kobold_layout::{
    self as layout, Layout, MemRegion, PAGE_SHIFT, SECTION_SIZE, phys_to_virt, virt_to_phys,
};
use spin::{Mutex, Once};

static BOOT_INFO: Once<BootInfo> = Once::new();
static LAYOUT: Once<Layout> = Once::new();
static MEMBLOCK: Mutex<Memblock> = Mutex::new(Memblock::new());

/// The Rust entry point; boot.S calls it with the MMU on, on the boot stack.
///
/// Boot-only code is placed in `.init.text` (Linux's `__init`), which is
/// what the `.init` line of the layout measures; it is never called again
/// once the shell runs (start_kernel itself never returns).
#[unsafe(no_mangle)]
#[unsafe(link_section = ".init.text")]
pub extern "C" fn start_kernel(machine: u32, params_phys: u32) -> ! {
    let img = sections::kernel_image();

    // 1. Vectors first: until they are mapped, any exception would loop.
    // SAFETY: 0xffff0000 is unused, and the vector page is part of the image.
    let vectors = unsafe {
        mm::map_page(
            layout::VECTORS_BASE,
            virt_to_phys(img.vectors_start),
            Prot::KERNEL_RX,
        )
    };
    uart::init();
    if let Err(e) = vectors {
        crate::panic::panic_exit(format_args!("cannot map the vector page: {e}"));
    }
    // The identity map boot.S made for its own section.
    let boot_section = virt_to_phys(img.text) & !(SECTION_SIZE - 1);
    // SAFETY: we run at virtual addresses; nothing uses the identity map.
    unsafe { mm::clear_l1_range(boot_section, boot_section + SECTION_SIZE) };
    let semihosting = semihosting::probe();

    // 2. Banner and boot parameters.
    let mpidr = Mpidr::read_raw();
    pr_notice!("Booting Kobold on physical CPU {:#x}", mpidr & 0x00ff_ffff);
    pr_notice!(
        "Kobold version {} (rustc, {}) #1 ARMv7",
        env!("CARGO_PKG_VERSION"),
        if cfg!(feature = "highmem") {
            "HIGHMEM"
        } else {
            "!HIGHMEM"
        }
    );
    let midr = Midr::read_raw();
    pr_info!(
        "CPU: ARMv7 Processor [{midr:08x}] revision {} (ARMv7), cr={:08x}",
        midr & 0xf,
        Sctlr::read_raw()
    );
    let boot = BOOT_INFO.call_once(|| match parse_boot_params(params_phys) {
        Ok(b) => b,
        Err(msg) => crate::panic::panic_exit(msg),
    });
    match (boot.source(), boot.machine_model()) {
        (BootSource::Dtb, Some(model)) => pr_info!("Machine model: {model}"),
        _ if machine == vexpress_a9::MACHINE_TYPE => {
            pr_info!("Machine: {}", vexpress_a9::MACHINE_NAME)
        }
        _ => pr_info!(
            "Machine: unknown machine type {machine:#x}, assuming {}",
            vexpress_a9::MACHINE_NAME
        ),
    }
    if !semihosting {
        pr_info!("semihosting: not available, poweroff uses the board's SYS_CFGCTRL");
    }

    // 3. The layout, memblock and lowmem.
    let vmalloc_arg = boot
        .cmdline()
        .split_ascii_whitespace()
        .rev()
        .find_map(|w| w.strip_prefix("vmalloc="));
    let mut banks = [MemRegion { base: 0, size: 0 }; boot::MAX_MEM_BANKS];
    for (dst, b) in banks.iter_mut().zip(boot.mem_banks()) {
        *dst = MemRegion {
            base: b.start,
            size: b.size,
        };
    }
    let nbanks = boot.mem_banks().len();
    let highmem = cfg!(feature = "highmem");
    let layout = LAYOUT.call_once(|| {
        let computed = match layout::compute(&banks[..nbanks], highmem, vmalloc_arg) {
            // A malformed `vmalloc=` must not stop the boot: say so, ignore it.
            Err(layout::LayoutError::Vmalloc(e)) => {
                pr_warn!("vmalloc={}: {e}, ignored", vmalloc_arg.unwrap_or(""));
                layout::compute(&banks[..nbanks], highmem, None)
            }
            other => other,
        };
        match computed {
            Ok(l) => l,
            Err(e) => crate::panic::panic_exit(format_args!("memory layout: {e}")),
        }
    });
    for notice in layout.notices() {
        if notice.is_warning() {
            pr_warn!("{notice}");
        } else {
            pr_notice!("{notice}");
        }
    }
    setup_memblock(layout, boot, &img, params_phys);
    map_lowmem(layout, &img, params_phys);
    // SAFETY: once, with lowmem mapped and memblock complete.
    if let Err(e) = unsafe { mm::page_alloc::init(&mut MEMBLOCK.lock(), layout.arm_lowmem_limit()) }
    {
        crate::panic::panic_exit(format_args!("page allocator: {e}"));
    }
    iotable_init(layout);
    remap_devices();
    pr_info!("Memory policy: Data cache writealloc");
    pr_notice!("Kernel command line: {}", boot.cmdline());
    // Linux's parse_args → __setup("failslab=") / ("fail_page_alloc="),
    // and Kobold's fail_vmap_area=.
    mm::fault_inject::setup_from_cmdline(boot.cmdline());

    // 4. What mem_init prints.
    print_mem_init(layout, &img);

    // 5. Leave .init for good: what follows runs from .text.
    kernel_init(img)
}

/// The end of boot, outside `.init` (Linux's `kernel_init`): give `.init`
/// back, write-protect the kernel image, start the shell.
#[inline(never)]
fn kernel_init(img: sections::KernelImage) -> ! {
    populate_rootfs();
    free_initmem(&img);
    // SAFETY: boot is over: nothing writes text or runs .init any more.
    if let Err(e) = unsafe { mm::protect_kernel_image(&img) } {
        crate::pr_warn!("kernel image not write-protected: {e}");
    }
    load_boot_modules();
    run_shell()
}

/// Unpacks the initramfs the boot loader passed (`-initrd`) into the
/// rootfs, then gives its pages back (Linux's `populate_rootfs` and
/// `free_initrd_mem`, with their messages). The archive is read through a
/// temporary `vmap` of its pages, so it may lie in lowmem or highmem (with
/// `vmalloc=` large, QEMU's initrd address can be above the lowmem limit).
#[unsafe(link_section = ".init.text")]
fn populate_rootfs() {
    let Some((start, size)) = BOOT_INFO.get().and_then(|b| b.initrd()) else {
        return;
    };
    let first = (start >> PAGE_SHIFT) as u32;
    let last = (start + size).div_ceil(PAGE_SIZE_U32 as u64) as u32;
    let mut pfns = alloc::vec::Vec::new();
    let mapped = pfns
        .try_reserve_exact(last.saturating_sub(first) as usize)
        .map_err(|_| Errno::ENOMEM)
        .and_then(|()| {
            pfns.extend(first..last); // within the capacity reserved
            mm::vmalloc::vmap(&pfns, Prot::KERNEL_RO, populate_rootfs as *const () as u32)
        });
    drop(pfns);
    match mapped {
        Ok(virt) => {
            let offset = (start - ((first as u64) << PAGE_SHIFT)) as usize;
            // SAFETY: the vmap covers every page of the initrd, which
            // memblock reserved, so nothing else has written it.
            let bytes = unsafe {
                core::slice::from_raw_parts((virt as usize + offset) as *const u8, size as usize)
            };
            // Files are copied into pages of their own (fs module docs); one
            // that does not fit is reported and skipped, and boot goes on.
            match crate::fs::populate(bytes) {
                Ok(u) if u.skipped > 0 => pr_info!(
                    "Unpacking initramfs... {} files, {} entries skipped",
                    u.files,
                    u.skipped
                ),
                Ok(u) => pr_info!("Unpacking initramfs... {} files", u.files),
                Err(e) => crate::pr_err!("Initramfs unpacking failed: {e}"),
            }
            let _ = mm::vmalloc::vunmap(virt);
        }
        Err(e) => crate::pr_err!("Initramfs unpacking failed: cannot map it ({})", e.name()),
    }
    let pages = mm::page_alloc::free_reserved_area(
        (first as u64) << PAGE_SHIFT,
        (last as u64) << PAGE_SHIFT,
    );
    pr_info!("Freeing initrd memory: {}K", pages << (PAGE_SHIFT - 10));
}

/// `modules-load=a,b` on the command line: insmod
/// `/lib/modules/<name>.ko` for each (what systemd-modules-load does).
fn load_boot_modules() {
    let Some(list) = BOOT_INFO.get().and_then(|b| {
        b.cmdline()
            .split_ascii_whitespace()
            .rev()
            .find_map(|w| w.strip_prefix("modules-load="))
    }) else {
        return;
    };
    for name in list.split(',').filter(|n| !n.is_empty()) {
        // `/lib/modules/<name>.ko`, else with `_` spelled `-` (module names
        // treat them alike); formatted on the stack, a name too long for a
        // module is simply not found.
        let path_for = |dash: bool| {
            let mut p = console::FixedBuf::<96>::default();
            let _ = p.write_str("/lib/modules/");
            for c in name.chars() {
                let _ = p.write_char(if dash && c == '_' { '-' } else { c });
            }
            let _ = p.write_str(".ko");
            p
        };
        let loaded = if name.len() > crate::module::MODULE_NAME_MAX {
            Err(Errno::ENOENT)
        } else {
            [path_for(false), path_for(true)]
                .iter()
                .map(|p| {
                    let path = p.as_str();
                    crate::fs::with_file(path, |bytes| crate::module::insmod(path, bytes, &[]))
                })
                .find(|r| *r != Err(Errno::ENOENT))
                .unwrap_or(Err(Errno::ENOENT))
        };
        match loaded {
            Ok(Ok(n)) => pr_info!("modules-load: inserted module '{n}'"),
            Ok(Err(e)) => crate::pr_err!(
                "modules-load: failed to insert '{name}': {}",
                shell::modules::moderror(e)
            ),
            Err(Errno::ENOENT) => {
                crate::pr_err!("modules-load: {name}: module not found in /lib/modules")
            }
            Err(e) => crate::pr_err!("modules-load: {name}: cannot read the module: {e}"),
        }
    }
}

/// Sets up the vmalloc and module windows and records boot.S's static
/// DEBUG_LL mapping as a vm area, so vmalloc never hands it out (Linux's
/// `iotable_init` → `vm_area_add_early`).
#[unsafe(link_section = ".init.text")]
fn iotable_init(layout: &Layout) {
    use crate::board::vexpress_a9::memory::MB_PERIPH_PHYS;
    let statics = [(
        MB_PERIPH_VIRT,
        SECTION_SIZE,
        MB_PERIPH_PHYS,
        iotable_init as *const () as u32,
    )];
    let windows = (
        (layout.vmalloc_start(), layout.vmalloc_end()),
        (layout.modules_vaddr(), layout.modules_end()),
    );
    if let Err(e) = mm::vmalloc::init(windows.0, windows.1, &statics) {
        crate::panic::panic_exit(format_args!("vmalloc: {e}"));
    }
}

/// The drivers leave the boot-time DEBUG_LL section for `ioremap`ed pages
/// in the vmalloc range (as Linux drivers do when they probe), and the
/// section is released.
#[unsafe(link_section = ".init.text")]
fn remap_devices() {
    use crate::board::vexpress_a9::memory::{SYSREGS_PHYS, UART0_PHYS};
    let uart = mm::vmalloc::ioremap(UART0_PHYS, 0x1000, uart::init as *const () as u32);
    let sys = mm::vmalloc::ioremap(
        SYSREGS_PHYS,
        0x1000,
        sysregs::counter_24mhz as *const () as u32,
    );
    match (uart, sys) {
        (Ok(u), Ok(s)) => {
            uart::set_base(u);
            sysregs::set_base(s);
            if let Err(e) = mm::vmalloc::vfree(MB_PERIPH_VIRT) {
                pr_warn!("cannot release the DEBUG_LL section: {e}");
            }
        }
        _ => pr_warn!("ioremap of the console failed; keeping the DEBUG_LL section"),
    }
}

/// Finds and parses the ATAG list or DTB at `phys` (mapped by boot.S: the
/// two sections starting at its section, at its linear address).
#[unsafe(link_section = ".init.text")]
fn parse_boot_params(phys: u32) -> Result<BootInfo, &'static str> {
    let offset = phys.wrapping_sub(layout::PHYS_OFFSET);
    if offset >= 0x4000_0000 || phys == 0 {
        return Err("no ATAGs or DTB: r2 does not point into RAM");
    }
    let virt = phys_to_virt(phys);
    let window_end = (virt & !(SECTION_SIZE - 1)) + 2 * SECTION_SIZE;
    let len = (window_end - virt) as usize;
    // SAFETY: boot.S mapped [section(virt), section(virt) + 2 MB) to RAM, and
    // nothing writes the boot parameters.
    let bytes = unsafe { core::slice::from_raw_parts(virt as *const u8, len) };
    if boot::looks_like_dtb(bytes) {
        let size = boot::dtb_total_size(bytes).ok_or("DTB header is damaged")?;
        if size > len {
            return Err("DTB is larger than the 2 MB boot.S maps for it");
        }
        boot::parse_dtb(&bytes[..size], phys as u64).map_err(|_| "cannot parse the DTB")
    } else {
        boot::parse_atags(bytes).map_err(|_| "cannot parse the ATAG list")
    }
}

/// RAM (after the lowmem/highmem rule) and what must never be handed out.
#[unsafe(link_section = ".init.text")]
fn setup_memblock(layout: &Layout, boot: &BootInfo, img: &sections::KernelImage, params: u32) {
    let mut mb = MEMBLOCK.lock();
    let add = |set: &mut mm::memblock::RegionSet<16>, r: &MemRegion| {
        if let Err(e) = set.add(r.base, r.size) {
            pr_warn!("{e}");
        }
    };
    for r in layout
        .lowmem_regions()
        .iter()
        .chain(layout.highmem_regions())
    {
        add(&mut mb.memory, r);
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
        None => reserve(&mut mb, (params & !0xfff) as u64, 0x1000),
    }
    if let Some((start, size)) = boot.initrd() {
        reserve(&mut mb, start, size);
    }
}

/// Maps all of lowmem with sections and drops boot.S's mapping of the boot
/// parameters when it lies above lowmem.
#[unsafe(link_section = ".init.text")]
fn map_lowmem(layout: &Layout, img: &sections::KernelImage, _params: u32) {
    let kernel_x = (
        (virt_to_phys(img.text) & !(SECTION_SIZE - 1)) as u64,
        (virt_to_phys(img.init_end) as u64).next_multiple_of(SECTION_SIZE as u64),
    );
    for r in layout.lowmem_regions() {
        // SAFETY: lowmem is RAM; the kernel's megabytes stay RWX.
        unsafe { mm::map_lowmem(r.base, r.base + r.size, kernel_x) };
    }
    let top = layout.high_memory().next_multiple_of(SECTION_SIZE);
    // SAFETY: between lowmem's end and the static I/O map nothing is in use
    // yet; only boot.S's boot-parameter window can be there.
    unsafe { mm::clear_l1_range(top, MB_PERIPH_VIRT) };
}

fn kb(bytes: u64) -> u64 {
    bytes >> 10
}

#[unsafe(link_section = ".init.text")]
fn print_mem_init(layout: &Layout, img: &sections::KernelImage) {
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

/// The physical end of lowmem (`arm_lowmem_limit`); 0 before boot sets it.
pub fn lowmem_limit() -> u64 {
    LAYOUT.get().map_or(0, |l| l.arm_lowmem_limit())
}

/// Nanoseconds the CPU spent waiting for console input (the idle task).
static IDLE_NS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Waits for one byte of console input.
fn read_byte() -> u8 {
    let start = crate::time::now_ns();
    loop {
        if let Some(b) = uart::getc() {
            let idle = crate::time::now_ns() - start;
            IDLE_NS.fetch_add(idle, core::sync::atomic::Ordering::Relaxed);
            return b;
        }
        core::hint::spin_loop();
    }
}

/// Returns `.init` to the page allocator, as Linux's `free_initmem` with its
/// message `Freeing unused kernel memory: NK (start - end)`.
fn free_initmem(img: &sections::KernelImage) {
    let (start, end) = (img.init_begin, img.init_end);
    let pages =
        mm::page_alloc::free_reserved_area(virt_to_phys(start) as u64, virt_to_phys(end) as u64);
    pr_info!(
        "Freeing unused kernel memory: {}K ({start:08x} - {end:08x})",
        pages << (PAGE_SHIFT - 10)
    );
}

#[inline(never)]
fn run_shell() -> ! {
    let mut platform = KernelPlatform;
    let mut shell = shell::Shell::new();
    let mut editor = LineEditor::new();
    loop {
        print!("{}", shell::PROMPT);
        editor.clear();
        let event = loop {
            let b = read_byte();
            match editor.feed(b, &mut |s| console::write_bytes(s)) {
                Event::Pending => {}
                e => break e,
            }
        };
        match event {
            Event::Line => {
                let _ = shell.execute(editor.line(), &mut Console, &mut platform);
            }
            Event::TooLong => {
                let _ = shell.line_too_long(&mut Console);
            }
            Event::Pending | Event::Cancelled => {}
        }
    }
}

/// The shell's view of the running kernel.
struct KernelPlatform;

fn meminfo() -> MemInfo {
    let Some(layout) = LAYOUT.get() else {
        return MemInfo::default();
    };
    let p = mm::page_alloc::counters();
    let (used, chunk) = mm::vmalloc::vmalloc_info();
    let kbp = |pages: u64| pages << (PAGE_SHIFT - 10);
    MemInfo {
        total_kb: kbp(p.totalram),
        free_kb: kbp(p.free),
        high: layout
            .highmem()
            .then_some((kbp(p.totalhigh), kbp(p.freehigh))),
        vmalloc_total_kb: ((layout.vmalloc_end() - layout.vmalloc_start()) >> 10) as u64,
        vmalloc_used_kb: used >> 10,
        vmalloc_chunk_kb: chunk >> 10,
        slab_kb: (mm::heap::stats().used >> 10) as u64,
    }
}

impl Platform for KernelPlatform {
    fn proc_read(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
        let mut zones = [mm::buddy::BuddyInfo {
            zone: mm::buddy::ZoneType::Normal,
            nr_free: [0; 11],
        }; 2];
        let mut n = 0;
        mm::page_alloc::for_each_buddyinfo(&mut |z| {
            if n < zones.len() {
                zones[n] = z;
                n += 1;
            }
        });
        let snap = proc::Snapshot {
            cmdline: BOOT_INFO.get().map_or("", |b| b.cmdline()),
            buddyinfo: &zones[..n],
            vmallocinfo: &|out| mm::vmalloc::write_vmallocinfo(out),
            modules: &|out| crate::module::MODULES.lock().write_proc_modules(out),
            kallsyms: &|out| {
                if let Some(t) = crate::kallsyms::kernel_table() {
                    for s in (0..t.len()).filter_map(|i| t.get(i)) {
                        writeln!(out, "{:08x} {} {}", s.addr, s.kind, s.name)?;
                    }
                }
                crate::module::MODULES.lock().write_kallsyms(out)
            },
            meminfo: meminfo(),
            up_ns: crate::time::now_ns(),
            idle_ns: IDLE_NS.load(core::sync::atomic::Ordering::Relaxed),
        };
        proc::read(path, &snap, out)
    }

    fn dmesg(&mut self, out: &mut dyn Write) {
        crate::console::printk::with_log(&mut |bytes| {
            for chunk in bytes.utf8_chunks() {
                let _ = out.write_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    let _ = out.write_char('\u{fffd}');
                }
            }
        });
    }

    fn devmem(&mut self, req: devmem::Request) -> Result<u32, Errno> {
        let is_ram = MEMBLOCK.lock().memory.contains(req.phys as u64);
        // Linux's /dev/mem: RAM keeps its cacheable type (no mismatched
        // aliases); anything else is mapped strongly ordered.
        let prot = if is_ram {
            Prot::KERNEL_RW
        } else {
            Prot::STRONGLY_ORDERED
        };
        mm::with_phys_mapped(req.phys, prot, |virt| {
            // SAFETY: `virt` maps `req.phys` for the duration of this
            // closure, aligned to the width (checked by devmem::parse).
            unsafe {
                match (req.width, req.write) {
                    (devmem::Width::W8, None) => core::ptr::read_volatile(virt as *const u8) as u32,
                    (devmem::Width::W16, None) => {
                        core::ptr::read_volatile(virt as *const u16) as u32
                    }
                    (devmem::Width::W32, None) => core::ptr::read_volatile(virt as *const u32),
                    (devmem::Width::W8, Some(v)) => {
                        core::ptr::write_volatile(virt as *mut u8, v as u8);
                        v
                    }
                    (devmem::Width::W16, Some(v)) => {
                        core::ptr::write_volatile(virt as *mut u16, v as u16);
                        v
                    }
                    (devmem::Width::W32, Some(v)) => {
                        core::ptr::write_volatile(virt as *mut u32, v);
                        v
                    }
                }
            }
        })
        .map_err(|_| Errno::ENOMEM)
    }

    fn poweroff(&mut self) {
        pr_emerg!("reboot: Power down");
        semihosting::exit(0);
        sysregs::shutdown();
        wait_for_board();
    }

    fn reboot(&mut self) {
        pr_emerg!("reboot: Restarting system");
        sysregs::reboot();
        wait_for_board();
    }

    fn vmalloc(&mut self, size: u32) -> Result<u32, Errno> {
        mm::vmalloc::vmalloc(size, <Self as Platform>::vmalloc as *const () as u32)
    }

    fn vfree(&mut self, addr: u32) -> Result<(), Errno> {
        mm::vmalloc::vfree(addr)
    }

    fn selftest(&mut self, name: &str, args: &[&str], out: &mut dyn Write) -> Result<(), Errno> {
        let number = |i: usize, default: u64| match args.get(i) {
            None => Ok(default),
            Some(a) => shell::devmem::parse_number(a).ok_or(Errno::EINVAL),
        };
        match name {
            "faultinject" => crate::selftest::faultinject::run(
                args.first().copied().unwrap_or("hello"),
                &["count=0"],
                out,
            ),
            "soak" => {
                let n = u32::try_from(number(0, 1000)?).map_err(|_| Errno::EINVAL)?;
                crate::selftest::soak::run(n, number(1, 0x4b6f_626f_6c64)?, out)
            }
            "vmalloc" => selftest_vmalloc(out),
            "heap" => selftest_heap(out),
            "highmem" => selftest_highmem(out),
            "modules" => selftest_modules(out),
            "modcycle" => selftest_modcycle(out),
            "modbench" => selftest_modbench(out),
            _ => Err(Errno::ENOENT),
        }
    }

    fn with_file(&mut self, path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        crate::fs::with_file(path, f)
    }

    fn read_file_pages(&mut self, path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        crate::fs::read_file_pages(path, f)
    }

    fn list_dir(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
        crate::fs::list(path, out)
    }

    fn insmod(
        &mut self,
        path: &str,
        args: &[&str],
    ) -> Result<crate::module::ModName, shell::InsmodError> {
        // The module is read through a temporary vmap of its file's pages.
        crate::fs::with_file(path, |bytes| crate::module::insmod(path, bytes, args))
            .map_err(shell::InsmodError::Open)?
            .map_err(shell::InsmodError::Insert)
    }

    fn rmmod(&mut self, name: &str) -> Result<(), Errno> {
        crate::module::rmmod(name)
    }

    fn lsmod(&mut self, out: &mut dyn Write) -> core::fmt::Result {
        crate::module::MODULES.lock().write_lsmod(out)
    }

    fn page_walk(&mut self, virt: u32) -> mm::pgtable::PageWalk {
        mm::pgtable::PageWalk {
            virt,
            ttbr0: Ttbr0::read_raw(),
            l1: mm::read_l1(virt),
            l2: mm::read_l2(virt),
        }
    }

    fn provoke_crash(&mut self, kind: CrashKind) {
        crate::pr_info!("provoke-crash: Performing direct entry {}", kind.name());
        match kind {
            CrashKind::Panic => crate::panic::panic_exit("provoke-crash PANIC"),
            CrashKind::AccessNull => provoke_access(0, false),
            CrashKind::Exception => provoke_access(0, true),
            CrashKind::AccessUnmapped => provoke_access(0xfef0_0000, false),
            CrashKind::Undefined => provoke_undefined(),
            CrashKind::VmallocGuard => {
                if let Ok(addr) =
                    mm::vmalloc::vmalloc(PAGE_SIZE_U32, provoke_access as *const () as u32)
                {
                    crate::pr_info!(
                        "provoke-crash: writing just past the vmalloc area at {addr:#010x}"
                    );
                    provoke_access(addr + PAGE_SIZE_U32, true);
                }
            }
            CrashKind::WriteKern => {
                // lkdtm's WRITE_KERN: overwrite kernel text.
                provoke_access(provoke_undefined as *const () as usize as u32, true)
            }
        }
    }
}

/// The board acts on SYS_CFGCTRL asynchronously; give it a second.
fn wait_for_board() {
    let start = crate::time::now_ns();
    while crate::time::now_ns() - start < 1_000_000_000 {
        core::hint::spin_loop();
    }
}

#[inline(never)]
fn provoke_access(addr: u32, write: bool) {
    // SAFETY: deliberately not safe: this faults, and the data abort handler
    // oopses and panics, which is the point of provoke-crash.
    unsafe {
        if write {
            core::arch::asm!("str {v}, [{a}]", a = in(reg) addr, v = in(reg) 0u32, options(nostack));
        } else {
            core::arch::asm!("ldr {v}, [{a}]", a = in(reg) addr, v = out(reg) _, options(nostack));
        }
    }
}

#[inline(never)]
fn provoke_undefined() {
    // SAFETY: as for `provoke_access`: UDF #0 raises an undefined
    // instruction exception, which oopses.
    unsafe { core::arch::asm!(".inst 0xe7f000f0", options(nostack)) };
}

/// The heap self-test (Linux's SLUB + kmalloc_large behaviour):
///
/// 1. `kmalloc(4 MB)` — the largest buddy block — takes exactly 1024 pages
///    straight from the page allocator and `kfree` gives exactly those back;
///    `kmalloc(8193)` takes 4 pages (three rounded up to a power of two);
/// 2. `kmalloc(0)` is `ZERO_SIZE_PTR` (0x10), and `kfree` of it, of an
///    interior pointer and a second `kfree` of a block are harmless; 64 MB,
///    2 GB and `usize::MAX` requests return NULL (kmalloc and the global
///    allocator), taking nothing;
/// 3. 256 blocks of 1000 bytes grow the heap by several 64 KB regions;
///    freeing them returns every emptied region but one spare, and
///    `shrink` the spare;
/// 4. an allocation storm (collections, a 300 KB vector, kmalloc of mixed
///    sizes);
///
/// and at the end the heap's bytes in use and the free page count are
/// exactly where they started.
fn selftest_heap(out: &mut dyn Write) -> Result<(), Errno> {
    use alloc::{boxed::Box, vec::Vec};
    use core::ptr::NonNull;
    use mm::buddy::Gfp;
    use mm::heap::{self, kfree, kmalloc, try_kfree};
    let free = || mm::page_alloc::counters().free;
    let mut bad = 0u32;
    heap::shrink();
    let before = heap::stats();
    let pages_before = free();

    // 1. Large blocks are whole pages, and come back.
    for (size, want) in [(4usize << 20, 1024u64), (8193, 4)] {
        let Some(p) = kmalloc(size, Gfp::KERNEL) else {
            let _ = writeln!(out, "heap: kmalloc({size}) -> NULL");
            return Err(Errno::ENOMEM);
        };
        let taken = pages_before - free();
        let slab = heap::stats().used - before.used;
        // SAFETY: kmalloc returned at least `size` writable bytes.
        unsafe {
            p.as_ptr().write_volatile(0xa5);
            p.as_ptr().add(size - 1).write_volatile(0x5a);
        }
        // SAFETY: from kmalloc above, freed once.
        unsafe { kfree(p) };
        let back = free() + taken - pages_before;
        let _ = writeln!(
            out,
            "heap: kmalloc({size}) at {:#010x}: {taken} pages taken (Slab +{} kB), kfree gave {back} back",
            p.as_ptr() as usize,
            slab >> 10
        );
        if taken != want || back != want || !(p.as_ptr() as usize).is_multiple_of(4096) {
            bad += 1;
        }
    }

    // 2. Zero, impossible and bogus requests.
    let zero = kmalloc(0, Gfp::KERNEL).map_or(0, |p| p.as_ptr() as usize);
    let mut refused = 0;
    if let Some(p) = NonNull::new(zero as *mut u8) {
        // SAFETY: ZERO_SIZE_PTR, which kfree ignores.
        refused += unsafe { try_kfree(p) }.is_ok() as u32;
    }
    let huge: [usize; 3] = [64 << 20, 2 << 30, usize::MAX];
    let nulls = huge
        .iter()
        .filter(|&&n| kmalloc(n, Gfp::KERNEL).is_none())
        .count();
    let mut v: Vec<u8> = Vec::new();
    let global_null = v.try_reserve_exact(64 << 20).is_err();
    if let Some(p) = kmalloc(100, Gfp::KERNEL) {
        // SAFETY: 100 bytes, now filled so the interior holds no header.
        unsafe { core::ptr::write_bytes(p.as_ptr(), 0xa5, 100) };
        // SAFETY: an interior pointer of a live block: refused.
        refused += unsafe { try_kfree(p.add(8)) }.is_err() as u32;
        // SAFETY: the block itself, once.
        refused += unsafe { try_kfree(p) }.is_ok() as u32;
        // SAFETY: the same block again (double free): refused.
        refused += unsafe { try_kfree(p) }.is_err() as u32;
    }
    let _ = writeln!(
        out,
        "heap: kmalloc(0) = {zero:#x}; 64 MB, 2 GB, usize::MAX -> {nulls} NULL; global 64 MB -> {}; kfree checks {refused}/4; free pages {} -> {}",
        if global_null { "null" } else { "succeeded?!" },
        pages_before,
        free()
    );
    if zero != heap::ZERO_SIZE_PTR || nulls != 3 || !global_null || refused != 4 {
        bad += 1;
    }

    // 3. Emptied regions go back to the page allocator.
    let mut blocks = [None; 256];
    for b in blocks.iter_mut() {
        *b = kmalloc(1000, Gfp::KERNEL);
    }
    let grown = heap::stats();
    let pages_grown = free();
    for p in blocks.iter().flatten() {
        // SAFETY: each block came from kmalloc above, freed once.
        unsafe { kfree(*p) };
    }
    let emptied = heap::stats();
    let pages_emptied = free();
    let spare = heap::shrink();
    let _ = writeln!(
        out,
        "heap: 256 x kmalloc(1000): regions {} -> {}, free pages {} -> {}; kfree all: regions {}, {} pages back; shrink: {spare} pages back",
        before.regions,
        grown.regions,
        pages_before,
        pages_grown,
        emptied.regions,
        pages_emptied - pages_grown
    );
    let new_regions = grown.regions.saturating_sub(before.regions);
    if blocks.iter().any(Option::is_none)
        || new_regions < 2
        || emptied.regions > before.regions + heap::SPARE_REGIONS
        || free() != pages_before
    {
        bad += 1;
    }

    // 4. The storm.
    {
        let mut v: Vec<Box<[u8]>> = Vec::new();
        for i in 0..2000usize {
            v.push(alloc::vec![i as u8; 1 + (i * 37) % 700].into_boxed_slice());
            if i % 3 == 0 {
                v.swap_remove(i / 7 % v.len());
            }
        }
        let big = alloc::vec![0u8; 300 * 1024];
        let mut k = Vec::new();
        for n in [1usize, 8, 100, 4000, 8192, 70_000] {
            let p = kmalloc(n, Gfp::KERNEL).ok_or(Errno::ENOMEM)?;
            // SAFETY: kmalloc returned at least n writable bytes.
            unsafe { core::ptr::write_bytes(p.as_ptr(), 0xa5, n) };
            k.push(p);
        }
        for p in k {
            // SAFETY: each pointer came from kmalloc above, freed once.
            unsafe { kfree(p) };
        }
        let during = heap::stats();
        let _ = writeln!(
            out,
            "heap: {} live boxes, {} regions, {} bytes used, {} KB block",
            v.len(),
            during.regions,
            during.used,
            big.len() / 1024
        );
    }
    heap::shrink();
    let after = heap::stats();
    let _ = writeln!(
        out,
        "heap: used {} -> {} bytes, regions {} -> {}, free pages {} -> {}",
        before.used,
        after.used,
        before.regions,
        after.regions,
        pages_before,
        free()
    );
    if after.used != before.used || free() != pages_before {
        bad += 1;
    }
    if bad == 0 { Ok(()) } else { Err(Errno::EIO) }
}

/// Highmem pages through kmap (pkmap window) and kmap_atomic (fixmap):
/// allocate pages with __GFP_HIGHMEM, write each through kmap, read each
/// back through kmap_atomic, free everything; the pkmap window and the
/// free page count must end where they started.
fn selftest_highmem(out: &mut dyn Write) -> Result<(), Errno> {
    use mm::buddy::Gfp;
    use mm::highmem::{kmap, kmap_atomic, kunmap, kunmap_atomic, pkmap_in_use};
    const PAGES: usize = 600; // more than the 512 pkmap slots, in turn
    // The Vec first: growing the heap for it takes pages too.
    let mut pfns = alloc::vec::Vec::with_capacity(PAGES);
    let free_before = mm::page_alloc::counters().free;
    let mut high = 0;
    let mut result = Ok(());
    for _ in 0..PAGES {
        let Some(pfn) = mm::page_alloc::alloc_pages(Gfp::KERNEL.union(Gfp::HIGHMEM), 0) else {
            result = Err(Errno::ENOMEM);
            break;
        };
        if (pfn as u64) << PAGE_SHIFT >= lowmem_limit() {
            high += 1;
        }
        pfns.push(pfn);
    }
    for &pfn in &pfns {
        let virt = kmap(pfn)?;
        // SAFETY: `virt` maps the whole page until kunmap.
        unsafe { core::ptr::write_bytes(virt as *mut u32, 0, 1024) };
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile(virt as *mut u32, pfn ^ 0x5a5a_5a5a) };
        kunmap(pfn)?;
    }
    let mut bad = 0;
    for &pfn in &pfns {
        let outer = kmap_atomic(pfn)?;
        let inner = kmap_atomic(pfn)?; // nested: a second slot, same page
        // SAFETY: both map the page until their kunmap_atomic.
        let (a, b) = unsafe {
            (
                core::ptr::read_volatile(outer as *const u32),
                core::ptr::read_volatile(inner as *const u32),
            )
        };
        if a != pfn ^ 0x5a5a_5a5a || b != a {
            bad += 1;
        }
        kunmap_atomic(inner);
        kunmap_atomic(outer);
    }
    for &pfn in &pfns {
        let _ = mm::page_alloc::free_pages(pfn, 0);
    }
    let _ = writeln!(
        out,
        "highmem: {} pages ({high} highmem) written via kmap, read via kmap_atomic, {bad} bad; pkmap slots in use {}, free pages {} -> {}",
        pfns.len(),
        pkmap_in_use(),
        free_before,
        mm::page_alloc::counters().free
    );
    if bad > 0 || pkmap_in_use() != 0 || mm::page_alloc::counters().free != free_before {
        result = Err(Errno::EIO);
    }
    result
}

const PAGE_SIZE_U32: u32 = 1 << PAGE_SHIFT;

/// A storm of vmalloc/vzalloc/vfree of random sizes, freed in a shuffled
/// order; counts zeroed areas that were not zero.
fn vmalloc_storm(caller: u32) -> Result<u32, Errno> {
    let mut live = alloc::vec::Vec::with_capacity(300);
    let mut seed = 0x1234_5678u32;
    let mut bad = 0;
    for i in 0..300u32 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let size = 1 + seed % (64 * 1024);
        let zeroed = i % 3 == 0;
        let a = if zeroed {
            mm::vmalloc::vzalloc(size, caller)?
        } else {
            mm::vmalloc::vmalloc(size, caller)?
        };
        // SAFETY: the area holds at least `size` bytes.
        if zeroed && unsafe { core::ptr::read_volatile((a + size - 1) as *const u8) } != 0 {
            bad += 1;
        }
        // SAFETY: as above: dirty the area for the next vzalloc to clear.
        unsafe { core::ptr::write_volatile((a + size - 1) as *mut u8, 0xff) };
        live.push(a);
        if i % 4 == 3 {
            let victim = live.swap_remove((seed as usize) % live.len());
            mm::vmalloc::vfree(victim)?;
        }
    }
    for a in live {
        mm::vmalloc::vfree(a)?;
    }
    Ok(bad)
}

/// Free pages, VmallocUsed, heap bytes in use, vm areas — after
/// returning the heap's spare region, so that whether a spare happens to
/// exist does not count as a leak.
fn vm_counters() -> crate::selftest::Counters {
    crate::selftest::Counters::now()
}

/// vmalloc end to end, one pass: fragment the page allocator (allocate
/// 2048 pages, free every other one), vmalloc 4 MB — built from the
/// scattered holes, from HighMem when there is any — write each page
/// through the vmalloc address and read it back through kmap of its
/// physical page and the other way round, vfree, then a storm.
/// Returns (bad, pages, pages from highmem, physical discontinuities).
fn vmalloc_scenario(out: &mut dyn Write, caller: u32) -> Result<(u32, usize, usize, usize), Errno> {
    use mm::buddy::Gfp;
    use mm::highmem::{kmap, kunmap};
    let mut held = alloc::vec::Vec::with_capacity(2048);
    for _ in 0..2048 {
        match mm::page_alloc::alloc_pages(Gfp::KERNEL.union(Gfp::HIGHMEM), 0) {
            Some(pfn) => held.push(pfn),
            None => break,
        }
    }
    let mut kept = alloc::vec::Vec::with_capacity(held.len() / 2 + 1);
    for (i, pfn) in held.drain(..).enumerate() {
        if i % 2 == 0 {
            kept.push(pfn);
        } else {
            let _ = mm::page_alloc::free_pages(pfn, 0);
        }
    }
    const SIZE: u32 = 4 << 20;
    let mut bad = 0;
    let addr = mm::vmalloc::vmalloc(SIZE, caller)?;
    let (npages, high, scattered) = {
        let pages = mm::vmalloc::area_pages(addr).ok_or(Errno::EFAULT)?;
        let high = pages
            .iter()
            .filter(|&&p| ((p as u64) << PAGE_SHIFT) >= lowmem_limit())
            .count();
        let scattered = pages.windows(2).filter(|w| w[1] != w[0] + 1).count();
        for (i, &pfn) in pages.iter().enumerate() {
            let v = addr + i as u32 * PAGE_SIZE_U32;
            // SAFETY: the area maps these pages read/write until vfree.
            unsafe { core::ptr::write_volatile(v as *mut u32, 0xc0de_0000 | i as u32) };
            let k = kmap(pfn)?;
            // SAFETY: kmap maps the page until kunmap.
            let seen = unsafe { core::ptr::read_volatile(k as *const u32) };
            // SAFETY: as above; the second word is written through kmap.
            unsafe { core::ptr::write_volatile((k + 4) as *mut u32, pfn) };
            kunmap(pfn)?;
            // SAFETY: read back through the vmalloc address.
            let back = unsafe { core::ptr::read_volatile((v + 4) as *const u32) };
            if seen != 0xc0de_0000 | i as u32 || back != pfn {
                bad += 1;
            }
        }
        (pages.len(), high, scattered)
    };
    let _ = writeln!(
        out,
        "vmalloc: {} KB at {addr:#010x}: {npages} pages, {high} from highmem, {scattered} physical discontinuities, {bad} bad",
        SIZE >> 10
    );
    // Change permissions of a range: read-only, then back (set_memory_ro/rw).
    // SAFETY: the area is ours and nothing writes it meanwhile.
    unsafe { mm::protect_range(addr, SIZE, mm::pgtable::Prot::KERNEL_RO) }
        .map_err(|_| Errno::EFAULT)?;
    let ro = mm::read_l2(addr).is_some_and(|d| d & mm::pgtable::pte::APX != 0);
    // SAFETY: as above.
    unsafe { mm::protect_range(addr, SIZE, mm::pgtable::Prot::KERNEL_RW) }
        .map_err(|_| Errno::EFAULT)?;
    let rw = mm::read_l2(addr).is_some_and(|d| d & mm::pgtable::pte::APX == 0);
    if !(ro && rw) {
        bad += 1;
    }
    mm::vmalloc::vfree(addr)?;
    bad += module_window_code(out, caller)?;
    // vmap of pages we own: 16 of the scattered pages kept above.
    let mine = &kept[..kept.len().min(16)];
    let v = mm::vmalloc::vmap(mine, mm::pgtable::Prot::KERNEL_RW, caller)?;
    // SAFETY: the vmap area maps `mine` read/write until vunmap.
    unsafe { core::ptr::write_volatile((v + PAGE_SIZE_U32) as *mut u32, 0x7a7a_7a7a) };
    let k = kmap(mine[1])?;
    // SAFETY: kmap maps the page until kunmap.
    let via_kmap = unsafe { core::ptr::read_volatile(k as *const u32) };
    kunmap(mine[1])?;
    mm::vmalloc::vunmap(v)?;
    let vunmap_twice = mm::vmalloc::vunmap(v) == Err(Errno::EINVAL);
    if via_kmap != 0x7a7a_7a7a || !vunmap_twice {
        bad += 1;
    }
    let _ = writeln!(
        out,
        "vmap: {} owned pages at {v:#010x}, read back through kmap: {via_kmap:#x}",
        mine.len()
    );
    for pfn in kept {
        let _ = mm::page_alloc::free_pages(pfn, 0);
    }
    bad += vmalloc_failures(out, caller);
    bad += vmalloc_fail_nth(out, caller);
    bad += vmalloc_storm(caller)?;
    Ok((bad, npages, high, scattered))
}

/// Every allocation a 64 KB vmalloc makes (heap, vmap area, pages, page
/// tables) fails once, in turn (fault injection's fail-nth): each attempt
/// must return -ENOMEM and leave free pages, VmallocUsed, heap bytes and
/// the areas as they were; the sweep ends when an attempt completes
/// without reaching its n-th allocation.
fn vmalloc_fail_nth(out: &mut dyn Write, caller: u32) -> u32 {
    use mm::fault_inject::{disarm, fail_nth};
    let mut bad = 0;
    let mut n = 1;
    let before = vm_counters();
    loop {
        fail_nth(n);
        let r = mm::vmalloc::vmalloc(64 * 1024, caller);
        let (seen, fired) = disarm();
        match r {
            Ok(a) => {
                let _ = mm::vmalloc::vfree(a);
                if fired {
                    bad += 1; // the failure was not reported
                }
                let _ = writeln!(
                    out,
                    "vmalloc fail-nth: {seen} allocations in a 64 KB vmalloc, each failed once -> ENOMEM, nothing leaked"
                );
                break;
            }
            Err(e) => {
                if e != Errno::ENOMEM || !fired || vm_counters() != before {
                    bad += 1;
                }
            }
        }
        n += 1;
        if n > 1000 {
            bad += 1;
            break;
        }
    }
    if vm_counters() != before {
        bad += 1;
    }
    bad
}

/// Discards what it is given (the warm-up pass prints nothing).
struct Sink;
impl Write for Sink {
    fn write_str(&mut self, _: &str) -> core::fmt::Result {
        Ok(())
    }
}

/// The vmalloc self-test: the scenario once unmeasured (the window's
/// second-level tables, the pkmap tables and the vmap node arena are
/// high-water structures that stay for reuse, as Linux's do), then again,
/// measured. Free pages, VmallocUsed, heap bytes in use and the number of
/// areas must be back where they started; the area must come from HighMem
/// whenever the board has any, and be physically scattered; a bad vfree is
/// refused.
fn selftest_vmalloc(out: &mut dyn Write) -> Result<(), Errno> {
    let caller = selftest_vmalloc as *const () as u32;
    vmalloc_scenario(&mut Sink, caller)?;
    let before = vm_counters();
    let (bad, npages, high, scattered) = vmalloc_scenario(out, caller)?;
    let refused = mm::vmalloc::vfree(0xdead_0000) == Err(Errno::EINVAL);
    let after = vm_counters();
    let _ = writeln!(
        out,
        "vmalloc storm: 300 areas, {bad} bad; free pages {} -> {}, VmallocUsed {} -> {}, heap used {} -> {}, areas {} -> {}",
        before.free_pages,
        after.free_pages,
        before.vmalloc_used,
        after.vmalloc_used,
        before.slab_bytes,
        after.slab_bytes,
        before.areas,
        after.areas
    );
    let want_high = if mm::page_alloc::counters().totalhigh > 0 {
        npages
    } else {
        0
    };
    let ok = bad == 0 && high == want_high && scattered > 0 && refused && before == after;
    if ok { Ok(()) } else { Err(Errno::EIO) }
}

/// The sample module the module selftests load.
const SELFTEST_MODULE: &str = "/lib/modules/hello.ko";

/// 1,000 insmod/rmmod cycles of hello.ko (silenced with `count=0`); free
/// pages, VmallocUsed, heap bytes and vm areas must end where they began.
fn selftest_modcycle(out: &mut dyn Write) -> Result<(), Errno> {
    crate::fs::with_file(SELFTEST_MODULE, |bytes| modcycle(out, bytes))?
}

fn modcycle(out: &mut dyn Write, bytes: &[u8]) -> Result<(), Errno> {
    const CYCLES: usize = 1000;
    // Warm up once: the first load says "out-of-tree module taints".
    crate::module::insmod(SELFTEST_MODULE, bytes, &["count=0"])?;
    crate::module::rmmod("hello")?;
    let before = vm_counters();
    let start = crate::time::now_ns();
    for _ in 0..CYCLES {
        crate::module::insmod(SELFTEST_MODULE, bytes, &["count=0"])?;
        crate::module::rmmod("hello")?;
    }
    let us = (crate::time::now_ns() - start) / 1000 / CYCLES as u64;
    let after = vm_counters();
    let _ = writeln!(
        out,
        "modcycle: {CYCLES} insmod+rmmod of hello.ko, {us} us each; free pages {} -> {}, VmallocUsed {} -> {}, heap used {} -> {}, areas {} -> {}",
        before.free_pages,
        after.free_pages,
        before.vmalloc_used,
        after.vmalloc_used,
        before.slab_bytes,
        after.slab_bytes,
        before.areas,
        after.areas
    );
    if before == after {
        Ok(())
    } else {
        Err(Errno::EIO)
    }
}

/// Times insmod and rmmod of each sample module (mean of 50 after one
/// warm-up), for `cargo xtask bench`. Modules print what their init and
/// exit print; the greeting ones are silenced with `count=0`.
fn selftest_modbench(out: &mut dyn Write) -> Result<(), Errno> {
    let samples: [(&str, &str, &[&str]); 6] = [
        ("hello", "/lib/modules/hello.ko", &["count=0"]),
        ("provider", "/lib/modules/provider.ko", &[]),
        ("thumbdemo", "/lib/modules/thumbdemo.ko", &[]),
        ("memuser", "/lib/modules/memuser.ko", &[]),
        ("bigmod", "/lib/modules/bigmod.ko", &[]),
        ("rust_hello", "/lib/modules/rust_hello.ko", &["count=0"]),
    ];
    for (name, path, args) in samples {
        crate::fs::with_file(path, |bytes| modbench_one(out, name, path, args, bytes))??;
    }
    Ok(())
}

/// One module's row of `selftest modbench`.
fn modbench_one(
    out: &mut dyn Write,
    name: &str,
    path: &str,
    args: &[&str],
    bytes: &[u8],
) -> Result<(), Errno> {
    const RUNS: u64 = 50;
    crate::module::insmod(path, bytes, args)?;
    crate::module::rmmod(name)?;
    let (mut load, mut unload) = (0u64, 0u64);
    for _ in 0..RUNS {
        let t0 = crate::time::now_ns();
        crate::module::insmod(path, bytes, args)?;
        let t1 = crate::time::now_ns();
        crate::module::rmmod(name)?;
        let t2 = crate::time::now_ns();
        load += t1 - t0;
        unload += t2 - t1;
    }
    let _ = writeln!(
        out,
        "modbench: {name:<10} {:>7} bytes  insmod {:>6} us  rmmod {:>5} us",
        bytes.len(),
        load / RUNS / 1000,
        unload / RUNS / 1000
    );
    Ok(())
}

/// Fills the module window with module_alloc, shows that insmod then fails
/// with -ENOMEM leaving every counter as it was, frees the filler and shows
/// that the same insmod succeeds at the window's first free address.
fn selftest_modules(out: &mut dyn Write) -> Result<(), Errno> {
    crate::fs::with_file(SELFTEST_MODULE, |bytes| modules_window_full(out, bytes))?
}

fn modules_window_full(out: &mut dyn Write, bytes: &[u8]) -> Result<(), Errno> {
    let mut filler = alloc::vec::Vec::new();
    for size in [1 << 20, PAGE_SIZE_U32] {
        while let Ok(a) = crate::module::exports::module_alloc(size) {
            filler.push(a);
        }
    }
    let before = vm_counters();
    let full = crate::module::insmod(SELFTEST_MODULE, bytes, &["count=0"]);
    let after = vm_counters();
    let _ = writeln!(
        out,
        "window full ({} areas): insmod -> {}; free pages {} -> {}, VmallocUsed {} -> {}, heap used {} -> {}, areas {} -> {}",
        filler.len(),
        full.as_ref().map_or_else(|e| e.name(), |_| "loaded"),
        before.free_pages,
        after.free_pages,
        before.vmalloc_used,
        after.vmalloc_used,
        before.slab_bytes,
        after.slab_bytes,
        before.areas,
        after.areas
    );
    for a in filler.drain(..) {
        mm::vmalloc::vfree(a)?;
    }
    let again = crate::module::insmod(SELFTEST_MODULE, bytes, &["count=0"]);
    let base = crate::module::MODULES
        .lock()
        .get("hello")
        .map(|m| m.core_base);
    let _ = writeln!(
        out,
        "window free again: insmod -> {} at {:#010x}",
        again.as_ref().map_or_else(|e| e.name(), |n| n.as_str()),
        base.unwrap_or(0)
    );
    if again.is_ok() {
        crate::module::rmmod("hello")?;
    }
    if full == Err(Errno::ENOMEM) && before == after && again.is_ok() {
        Ok(())
    } else {
        Err(Errno::EIO)
    }
}

/// module_alloc-style: an executable area in the module window, two ARM
/// instructions written into it (`mov r0, #42; bx lr`), the I-cache made
/// coherent, the page made read-only + executable (W^X), and a call.
fn module_window_code(out: &mut dyn Write, caller: u32) -> Result<u32, Errno> {
    use mm::pgtable::Prot;
    let code = mm::vmalloc::vmalloc_node_range(
        PAGE_SIZE_U32,
        1,
        mm::vmalloc::Window::Modules,
        mm::buddy::Gfp::KERNEL,
        Prot::KERNEL_RWX,
        caller,
    )?;
    // SAFETY: the fresh area is mapped read/write/execute.
    unsafe {
        core::ptr::write_volatile(code as *mut u32, 0xe3a0_002a); // mov r0, #42
        core::ptr::write_volatile((code + 4) as *mut u32, 0xe12f_ff1e); // bx lr
    }
    mm::flush_icache_range(code, code + 8);
    // SAFETY: nothing writes the area any more.
    unsafe { mm::protect_range(code, PAGE_SIZE_U32, Prot::KERNEL_RX) }
        .map_err(|_| Errno::EFAULT)?;
    // SAFETY: the page holds a complete AAPCS function returning a u32.
    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(code as usize) };
    let r = f();
    let _ = writeln!(out, "module window: code at {code:#010x} (RX) returned {r}");
    mm::vmalloc::vfree(code)?;
    Ok(u32::from(r != 42))
}

/// Failed vmallocs leave nothing behind: one asks for more address space
/// than the window has, one runs out of pages half way (the page allocator
/// is first drained to about 50 free pages). Free pages and areas must be
/// the same before and after each failure.
fn vmalloc_failures(out: &mut dyn Write, caller: u32) -> u32 {
    use mm::buddy::{Gfp, MAX_ORDER};
    let mut bad = 0;
    let snapshot = || {
        mm::heap::shrink();
        (mm::page_alloc::counters().free, mm::vmalloc::area_count())
    };
    let s0 = snapshot();
    if mm::vmalloc::vmalloc(0xf000_0000, caller) != Err(Errno::ENOMEM) || snapshot() != s0 {
        bad += 1;
    }
    let mut hog = alloc::vec::Vec::with_capacity(8192);
    for order in (0..MAX_ORDER).rev() {
        while mm::page_alloc::counters().free >= (1u64 << order) + 50 && hog.len() < hog.capacity()
        {
            match mm::page_alloc::alloc_pages(Gfp::KERNEL.union(Gfp::HIGHMEM), order) {
                Some(pfn) => hog.push((pfn, order)),
                None => break,
            }
        }
    }
    let s1 = snapshot();
    let failed = mm::vmalloc::vmalloc(200 * PAGE_SIZE_U32, caller) == Err(Errno::ENOMEM);
    let s2 = snapshot();
    for (pfn, order) in hog {
        let _ = mm::page_alloc::free_pages(pfn, order);
    }
    if !failed || s1 != s2 {
        bad += 1;
    }
    let _ = writeln!(
        out,
        "vmalloc failures: no address space -> ENOMEM; {} free pages, 200 asked -> {}; free pages {} -> {} across the failure",
        s1.0,
        if failed { "ENOMEM" } else { "succeeded?!" },
        s1.0,
        s2.0
    );
    bad
}
