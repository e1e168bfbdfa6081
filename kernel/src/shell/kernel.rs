//! The shell on the running kernel (target only): the console loop that
//! stands in for Linux's init process (`run_init_process` → busybox sh),
//! and [`KernelPlatform`], the [`Platform`] the shell's commands act
//! through.
//!
//! The adapter is thin on purpose: each method is one call into the wing
//! that owns the behaviour — `/proc` files (proc), `/sys/module` (module), the log (console),
//! vmalloc (mm), self-tests (selftest), files (fs), modules (module). What
//! is left here is what belongs to no wing: powering the board off, lkdtm's
//! crashes (drivers/misc/lkdtm), which must fault inside the kernel on
//! purpose, and `devmem`'s word access (`devmem_access`, the hardware side
//! of the host-tested `devmem` command).

use super::line::{Event, LineEditor};
use super::{CrashKind, InsmodError, Platform, Shell, devmem};
use crate::arch::armv7::{irqflags, semihosting};
use crate::board::vexpress_a9::memory::UART0_IRQ;
use crate::board::vexpress_a9::{gic, sysregs, uart};
use crate::console::{self, Console};
use crate::errno::Errno;
use crate::mm;
use crate::module::ModName;
use crate::pr_emerg;
use crate::proc::{self, MemInfo};
use crate::selftest::SelftestError;
use aarch32_cpu::register::{SysRegRead, Ttbr0};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};
use kobold_layout::{PAGE_SHIFT, PAGE_SIZE};

/// Nanoseconds the CPU spent waiting for console input (the idle task).
static IDLE_NS: AtomicU64 = AtomicU64::new(0);

/// Waits for one byte of console input.
fn read_byte() -> u8 {
    let start = crate::time::now_ns();
    loop {
        if let Some(b) = uart::getc() {
            IDLE_NS.fetch_add(crate::time::now_ns() - start, Ordering::Relaxed);
            return b;
        }
        wait_for_input();
    }
}

/// Sleeps until console input may be waiting: Linux's idle loop
/// (`cpu_idle_poll` off → `arch_cpu_idle`: `wfi` with IRQs masked, taken
/// once it returns) while the shell blocks in `read()` on the tty, which
/// the PL011's receive interrupt wakes.
///
/// Kobold's console is polled, so the UART's interrupt serves only to wake
/// the CPU: with IRQs masked, the receive interrupt is enabled at the UART
/// and its line (IRQ 37) at the GIC, then `wfi`. A CPU waits in `wfi` until
/// an interrupt is pending at its interface even when CPSR.I masks it
/// (ARMv7 ARM, "Wait For Interrupt"), so a byte that arrived after the check ends the wait
/// at once. The line is masked and its latched pending state cleared again
/// before IRQs are unmasked: it is never taken, never acknowledged, and does
/// not show in /proc/interrupts. The timer ticks that woke the CPU instead
/// run their handlers when `local_irq_restore` unmasks IRQs, as before.
///
/// This replaced a spin on UARTFR, which under QEMU's TCG kept a host CPU
/// busy for as long as the shell waited (docs/BENCHMARKS.md, "The physical
/// floor"). Before the GIC is set up, it spins as before.
fn wait_for_input() {
    if !gic::ready() {
        core::hint::spin_loop();
        return;
    }
    let flags = irqflags::local_irq_save();
    uart::set_rx_interrupt(true);
    gic::unmask(UART0_IRQ);
    if !uart::rx_ready() {
        // SAFETY: WFI only waits for an interrupt to be pending; the UART's
        // line is enabled, so a byte (or any other enabled interrupt, such
        // as a tick) ends it.
        unsafe { core::arch::asm!("wfi", options(nomem, nostack, preserves_flags)) };
    }
    uart::set_rx_interrupt(false);
    gic::mask(UART0_IRQ);
    gic::clear_pending(UART0_IRQ);
    irqflags::local_irq_restore(flags);
}

/// The prompt loop: read a line with the line editor, run it, forever.
#[inline(never)]
pub fn run() -> ! {
    let mut platform = KernelPlatform;
    let mut shell = Shell::new();
    let mut editor = LineEditor::new();
    loop {
        console::write_bytes(super::PROMPT.as_bytes());
        editor.clear();
        let event = loop {
            let mut complete = super::Completer(&mut platform);
            match editor.feed_with(read_byte(), &mut |s| console::write_bytes(s), &mut complete) {
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
pub struct KernelPlatform;

/// `/proc/meminfo`'s figures from the page allocator, vmalloc and the heap.
fn meminfo() -> MemInfo {
    let Some(layout) = mm::init::layout() else {
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

/// `/proc/iomem`'s lines: the devices the kernel maps (sysregs, the
/// PL011), then each range of System RAM, with the kernel image's code and
/// data nested in the range holding them (Linux's `request_standard_resources`:
/// `Kernel code` is `_text`..`_etext`, `Kernel data` `_sdata`..`_end`).
/// Returns how many of `res` it filled.
fn iomem_resources(res: &mut [proc::IoResource]) -> usize {
    use crate::board::vexpress_a9::memory::{SYSREGS_PHYS, UART0_PHYS};
    let mut n = 0;
    let mut push = |start: u64, end: u64, name, depth| {
        if let Some(slot) = res.get_mut(n) {
            *slot = proc::IoResource {
                start,
                end,
                name,
                depth,
            };
            n += 1;
        }
    };
    push(
        SYSREGS_PHYS.into(),
        u64::from(SYSREGS_PHYS) + 0xfff,
        "sysregs",
        0,
    );
    push(
        UART0_PHYS.into(),
        u64::from(UART0_PHYS) + 0xfff,
        "uart-pl011",
        0,
    );
    let img = mm::sections::kernel_image();
    let pa = |v: u32| u64::from(kobold_layout::virt_to_phys(v));
    let kernel = [
        (pa(img.text), pa(img.etext.saturating_sub(1)), "Kernel code"),
        (pa(img.sdata), pa(img.end.saturating_sub(1)), "Kernel data"),
    ];
    if let Some(layout) = mm::init::layout() {
        // Lowmem and highmem are one bank cut in two: merge what touches.
        let mut ram: Option<(u64, u64)> = None;
        let regions = layout
            .lowmem_regions()
            .iter()
            .chain(layout.highmem_regions());
        for r in regions.map(Some).chain([None]) {
            match (ram, r) {
                (Some((s, e)), Some(r)) if r.base == e => ram = Some((s, r.end())),
                (prev, next) => {
                    if let Some((s, e)) = prev {
                        push(s, e - 1, "System RAM", 0);
                        for &(ks, ke, name) in &kernel {
                            if ks >= s && ke < e {
                                push(ks, ke, name, 1);
                            }
                        }
                    }
                    ram = next.map(|r| (r.base, r.end()));
                }
            }
        }
    }
    n
}

/// `/proc/kallsyms`: the kernel's symbols, then the modules'.
fn write_kallsyms(out: &mut dyn Write) -> fmt::Result {
    if let Some(t) = crate::kallsyms::kernel_table() {
        for s in (0..t.len()).filter_map(|i| t.get(i)) {
            writeln!(out, "{:08x} {} {}", s.addr, s.kind, s.name)?;
        }
    }
    crate::module::MODULES.lock().write_kallsyms(out)
}

impl Platform for KernelPlatform {
    fn proc_read(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
        if path == "/sys/kernel/kobold/nls" {
            return crate::module::linux61::kernel::write_nls(out).map_err(|_| Errno::EIO);
        }
        if path.starts_with("/sys/") {
            return crate::module::sysfs_read(path, out);
        }
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
        let mut iomem = [proc::IoResource {
            start: 0,
            end: 0,
            name: "",
            depth: 0,
        }; 12];
        let n_iomem = iomem_resources(&mut iomem);
        let snap = proc::Snapshot {
            cmdline: crate::cmdline::saved().as_str(),
            buddyinfo: &zones[..n],
            vmallocinfo: &|out| mm::vmalloc::write_vmallocinfo(out),
            modules: &|out| crate::module::MODULES.lock().write_proc_modules(out),
            kallsyms: &write_kallsyms,
            highmem: cfg!(feature = "highmem"),
            iomem: &iomem[..n_iomem],
            interrupts: &|out| crate::irq::write_proc_interrupts(out),
            meminfo: meminfo(),
            up_ns: crate::time::now_ns(),
            idle_ns: IDLE_NS.load(Ordering::Relaxed),
        };
        proc::read(path, &snap, out)
    }

    fn meminfo(&mut self) -> MemInfo {
        meminfo()
    }

    fn dmesg_clear(&mut self) {
        console::printk::clear_log();
    }

    fn set_console_loglevel(&mut self, level: u8) {
        console::printk::set_console_loglevel(level);
    }

    fn dmesg(&mut self, out: &mut dyn Write) {
        console::printk::with_log(&mut |bytes| {
            for chunk in bytes.utf8_chunks() {
                let _ = out.write_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    let _ = out.write_char('\u{fffd}');
                }
            }
        });
    }

    fn devmem(&mut self, req: devmem::Request) -> Result<u32, Errno> {
        devmem_access(req)
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

    fn selftest(
        &mut self,
        name: &str,
        args: &[&str],
        out: &mut dyn Write,
    ) -> Result<(), SelftestError> {
        crate::selftest::run(name, args, out)
    }

    fn with_file(&mut self, path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        crate::fs::with_file(path, f)
    }

    fn read_file_pages(&mut self, path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        crate::fs::read_file_pages(path, f)
    }

    fn list_dir(&mut self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
        if let Some(r) = proc::list(path, out) {
            return r;
        }
        match path.trim_end_matches('/') {
            "/sys" => writeln!(out, "module/").map_err(|_| Errno::EIO),
            p if p.starts_with("/sys/") => crate::module::sysfs_list(path, out),
            _ => crate::fs::list(path, out),
        }
    }

    fn insmod(
        &mut self,
        path: &str,
        args: &[&str],
        flags: crate::module::LoadFlags,
    ) -> Result<ModName, InsmodError> {
        // The module is read through a temporary vmap of its file's pages.
        crate::fs::with_file(path, |bytes| {
            crate::module::insmod_flags(path, bytes, args, flags)
        })
        .map_err(InsmodError::Open)?
        .map_err(InsmodError::Insert)
    }

    fn rmmod(&mut self, name: &str) -> Result<(), Errno> {
        crate::module::rmmod(name)
    }

    fn lsmod(&mut self, out: &mut dyn Write) -> fmt::Result {
        crate::module::MODULES.lock().write_lsmod(out)
    }

    fn module_map(&mut self, name: &str) -> Option<super::pt::ModuleMap> {
        let mods = crate::module::MODULES.lock();
        let m = mods.get(name)?;
        Some(super::pt::ModuleMap::new(
            (m.core_base, m.core_size),
            m.init,
            &m.groups,
        ))
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
        lkdtm(kind)
    }
}

/// The board acts on SYS_CFGCTRL asynchronously; give it a second.
fn wait_for_board() {
    let start = crate::time::now_ns();
    while crate::time::now_ns() - start < 1_000_000_000 {
        core::hint::spin_loop();
    }
}

/// Crashes the kernel as lkdtm's direct entry points do.
fn lkdtm(kind: CrashKind) {
    crate::pr_info!("provoke-crash: Performing direct entry {}", kind.name());
    match kind {
        CrashKind::Panic => crate::panic::panic_exit("provoke-crash PANIC"),
        CrashKind::AccessNull => provoke_access(0, false),
        CrashKind::Exception => provoke_access(0, true),
        CrashKind::AccessUnmapped => provoke_access(0xfef0_0000, false),
        CrashKind::Undefined => provoke_undefined(),
        CrashKind::VmallocGuard => {
            if let Ok(addr) = mm::vmalloc::vmalloc(PAGE_SIZE, provoke_access as *const () as u32) {
                crate::pr_info!(
                    "provoke-crash: writing just past the vmalloc area at {addr:#010x}"
                );
                provoke_access(addr + PAGE_SIZE, true);
            }
        }
        CrashKind::WriteKern => {
            // lkdtm's WRITE_KERN: overwrite kernel text.
            provoke_access(provoke_undefined as *const () as usize as u32, true)
        }
    }
}

/// Performs a parsed request on the hardware: maps `req.phys` through a
/// fixmap slot with the memory type its kind needs, reads or writes one
/// word, unmaps. Returns the word read (or written).
fn devmem_access(req: devmem::Request) -> Result<u32, Errno> {
    use crate::mm::pgtable::Prot;
    use devmem::Width;
    let prot = if mm::init::is_ram(u64::from(req.phys)) {
        Prot::KERNEL_RW
    } else {
        Prot::STRONGLY_ORDERED
    };
    mm::with_phys_mapped(req.phys, prot, |virt| {
        // SAFETY: `virt` maps `req.phys` for the duration of this closure,
        // aligned to the width (checked by `parse`).
        unsafe {
            match (req.width, req.write) {
                (Width::W8, None) => core::ptr::read_volatile(virt as *const u8) as u32,
                (Width::W16, None) => core::ptr::read_volatile(virt as *const u16) as u32,
                (Width::W32, None) => core::ptr::read_volatile(virt as *const u32),
                (Width::W8, Some(v)) => {
                    core::ptr::write_volatile(virt as *mut u8, v as u8);
                    v
                }
                (Width::W16, Some(v)) => {
                    core::ptr::write_volatile(virt as *mut u16, v as u16);
                    v
                }
                (Width::W32, Some(v)) => {
                    core::ptr::write_volatile(virt as *mut u32, v);
                    v
                }
            }
        }
    })
    .map_err(|_| Errno::ENOMEM)
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
