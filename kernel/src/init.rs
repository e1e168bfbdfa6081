//! `start_kernel` and `kernel_init`: from boot.S's jump to the shell prompt
//! (Linux: init/main.c, with arch/arm/kernel/setup.c's `setup_arch` steps
//! called from it).
//!
//! This file is the boot sequence, read top to bottom; each step is one
//! call into the wing that owns it, and names Linux's equivalent. The
//! memory steps live in `mm::init` (arch/arm/mm/init.c + mmu.c), the
//! command line in `cmdline` (kernel/params.c), the shell in
//! `shell::kernel`. What remains here besides the two functions are the
//! boot steps that have no other home yet: finding the boot parameters
//! (`setup_machine_fdt`/`setup_machine_tags`), the drivers' `ioremap` of
//! the console, unpacking the initramfs (init/initramfs.c), the keyring's
//! boot lines (certs/system_keyring.c) and `modules-load=`.

use crate::arch::armv7::semihosting;
use crate::board::vexpress_a9::{self, sysregs, uart};
use crate::boot::{self, BootError, BootInfo, BootSource};
use crate::cmdline::{self, Cmdline};
use crate::console;
use crate::errno::Errno;
use crate::mm::{self, pgtable::Prot, sections};
use crate::shell;
use crate::{pr_info, pr_notice, pr_warn};
use aarch32_cpu::register::{Midr, Mpidr, Sctlr, SysRegRead};
use core::fmt::Write;
use kobold_layout::{self as layout, PAGE_SHIFT, PAGE_SIZE, SECTION_SIZE, phys_to_virt};
use spin::Once;

static BOOT_INFO: Once<BootInfo> = Once::new();

/// The Rust entry point; boot.S calls it with the MMU on, on the boot stack.
///
/// Boot-only code is placed in `.init.text` (Linux's `__init`), which is
/// what the `.init` line of the layout measures; it is never called again
/// once the shell runs (start_kernel itself never returns).
#[unsafe(no_mangle)]
#[unsafe(link_section = ".init.text")]
pub extern "C" fn start_kernel(machine: u32, params_phys: u32) -> ! {
    // VFP access (CPACR) before any other code runs: it is part of QEMU's
    // translation-block flags, and changing it later made QEMU translate
    // the boot's code twice (`linux61::vfp_access_init`).
    crate::module::linux61::vfp_access_init();
    let img = sections::kernel_image();

    // Vectors first: until they are mapped, any exception would loop
    // (early_trap_init). Then the console (early_printk), and boot.S's
    // identity map goes.
    let vectors = mm::init::early_trap_init(&img);
    uart::init();
    if let Err(e) = vectors {
        crate::panic::panic_exit(format_args!("cannot map the vector page: {e}"));
    }
    mm::init::drop_identity_map(&img);
    let semihosting = semihosting::probe();

    // The banner (linux_banner, setup_processor) and the boot parameters
    // (setup_machine_fdt / setup_machine_tags).
    print_banner();
    let boot = BOOT_INFO.call_once(|| match parse_boot_params(params_phys) {
        Ok(b) => b,
        Err(e) => crate::panic::panic_exit(format_args!("cannot use the boot parameters: {e}")),
    });
    print_machine(boot, machine);
    if !semihosting {
        pr_info!("semihosting: not available, poweroff uses the board's SYS_CFGCTRL");
    }
    let cmdline = Cmdline::new(boot.cmdline());
    cmdline::save(cmdline);

    // setup_arch: early_vmalloc + sanity_check_meminfo, arm_memblock_init,
    // paging_init (map_lowmem), bootmem_init, devicemaps_init.
    let layout = mm::init::sanity_check_meminfo(boot, cmdline.vmalloc());
    mm::init::arm_memblock_init(layout, boot, &img, params_phys);
    mm::init::paging_init(layout, &img);
    mm::init::bootmem_init(layout);
    mm::init::iotable_init(layout);
    remap_devices();
    // arm_pm_restart: how `panic=N` restarts the board.
    crate::panic::set_restart(sysregs::reboot);
    pr_info!("Memory policy: Data cache writealloc");

    // parse_args: the parameters the kernel acts on.
    pr_notice!("Kernel command line: {}", cmdline.as_str());
    apply_cmdline(&cmdline);

    // mm_init → mem_init: the `Memory:` line and the layout.
    mm::init::mem_init(layout, &img);
    // The 6.1 personality's `current` (TPIDRURO) and stack canary.
    crate::module::linux61::boot_init();

    // init_IRQ, time_init, local_irq_enable: the first interrupts.
    init_interrupts();

    // rest_init: leave .init for good; what follows runs from .text.
    kernel_init(img)
}

/// The end of boot, outside `.init` (Linux's `kernel_init`): unpack the
/// initramfs, give `.init` back, write-protect the kernel image, load the
/// boot modules, start the shell (`run_init_process`).
#[inline(never)]
fn kernel_init(img: sections::KernelImage) -> ! {
    populate_rootfs(); // do_basic_setup → populate_rootfs
    load_system_certificate_list(); // late_initcall (certs/system_keyring.c)
    mm::init::free_initmem(&img); // free_initmem
    // mark_rodata_ro.
    // SAFETY: boot is over: nothing writes text or runs .init any more.
    if let Err(e) = unsafe { mm::protect_kernel_image(&img) } {
        pr_warn!("kernel image not write-protected: {e}");
    }
    load_boot_modules(); // what systemd-modules-load does
    shell::kernel::run() // run_init_process("/bin/sh")
}

/// Linux's `init_IRQ` (the GIC), `time_init` (the SP804's periodic ticks
/// that count jiffies) and the `local_irq_enable` that lets them in. If
/// either fails, boot goes on with IRQs masked: jiffies stand still and
/// `msleep` busy-waits (`time::msleep`).
#[unsafe(link_section = ".init.text")]
fn init_interrupts() {
    if let Err(e) = crate::irq::init_irq() {
        crate::pr_err!("GIC: cannot map the interrupt controller: {e}; interrupts stay off");
        return;
    }
    if let Err(e) = crate::time::time_init() {
        crate::pr_err!("sp804: no timer tick ({e}); interrupts stay off");
        return;
    }
    // SAFETY: the vectors are mapped (early_trap_init), the GIC is set up
    // with only the timer's line enabled and its handlers registered, and
    // no lock is held here.
    unsafe { crate::arch::armv7::irqflags::local_irq_enable() };
}

/// `Booting Linux on physical CPU`, `Linux version`, `CPU:` lines.
#[unsafe(link_section = ".init.text")]
fn print_banner() {
    let mpidr = Mpidr::read_raw();
    pr_notice!("Booting Kobold on physical CPU {:#x}", mpidr & 0x00ff_ffff);
    // linux_banner: the same text as /proc/version.
    pr_notice!("{}", crate::proc::linux_banner(cfg!(feature = "highmem")));
    let midr = Midr::read_raw();
    pr_info!(
        "CPU: ARMv7 Processor [{midr:08x}] revision {} (ARMv7), cr={:08x}",
        midr & 0xf,
        Sctlr::read_raw()
    );
}

/// `Machine model:` (DTB) or `Machine:` (ATAGs and the machine number).
#[unsafe(link_section = ".init.text")]
fn print_machine(boot: &BootInfo, machine: u32) {
    // Only a device tree has a model (ATAGs never look for one).
    let model = match boot.source() {
        BootSource::Dtb => boot.machine_model(),
        _ => None,
    };
    match model {
        Some(model) => pr_info!("Machine model: {model}"),
        _ if machine == vexpress_a9::MACHINE_TYPE => {
            pr_info!("Machine: {}", vexpress_a9::MACHINE_NAME)
        }
        _ => pr_info!(
            "Machine: unknown machine type {machine:#x}, assuming {}",
            vexpress_a9::MACHINE_NAME
        ),
    }
}

/// The `__setup` handlers of the parameters read after the layout: the
/// fault-injection attributes go to mm::fault_inject (which reports a
/// malformed one as Linux does); `loglevel=N` sets the console loglevel
/// (messages below N reach the console, all reach `dmesg`); a malformed
/// `loglevel=` or `panic=` is reported with its detail and ignored
/// (`panic=N` sets what a panic does, see `crate::panic`).
#[unsafe(link_section = ".init.text")]
fn apply_cmdline(cmdline: &Cmdline<'_>) {
    for (name, value) in cmdline.fault_attrs() {
        if let Some(site) = mm::fault_inject::Site::ALL
            .into_iter()
            .find(|s| s.name() == name)
        {
            let _ = mm::fault_inject::setup(site, value);
        }
    }
    match cmdline.loglevel() {
        Some(Ok(n)) => console::printk::set_console_loglevel(n),
        Some(Err(e)) => pr_warn!("{e}, ignored"),
        None => {}
    }
    match cmdline.panic() {
        Some(Ok(n)) => crate::panic::set_timeout(n),
        Some(Err(e)) => pr_warn!("{e}, ignored"),
        None => {}
    }
    match cmdline.module_trace() {
        Some(Ok(on)) => crate::module::set_trace(on),
        Some(Err(e)) => pr_warn!("{e}, ignored"),
        None => {}
    }
    match cmdline.module_sig_enforce() {
        Some(Ok(on)) => crate::module::signing::set_enforce(on),
        Some(Err(e)) => pr_warn!("{e}, ignored"),
        None => {}
    }
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
    let last = (start + size).div_ceil(PAGE_SIZE as u64) as u32;
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

/// The built-in keyring's boot lines (Linux's `late_initcall`
/// `load_system_certificate_list`, after the initramfs is unpacked):
/// `Loading compiled-in X.509 certificates`, then `Loaded X.509 cert
/// 'SUBJECT: KEY ID'` per certificate, at `KERN_NOTICE`
/// (`module::signing`). The lines were made from the certificates when the
/// image was built (`kobold_loader::keyring`); nothing is decoded here.
#[unsafe(link_section = ".init.text")]
fn load_system_certificate_list() {
    use crate::module::signing;
    signing::load_system_certificate_list(signing::KEYRING_LINES, |is_error, l| {
        if is_error {
            crate::pr_err!("{l}");
        } else {
            pr_notice!("{l}");
        }
    });
}

/// `modules-load=a,b` on the command line: insmod
/// `/lib/modules/<name>.ko` for each (what systemd-modules-load does), with
/// the `<name>.PARAM=VALUE` parameters of the command line (what modprobe
/// adds from /proc/cmdline).
fn load_boot_modules() {
    // Without `modules-load=` there is nothing to do: that is checked with
    // the plain scan the other parameters use, so the iterator chain below
    // runs (and QEMU translates it) only when a module is to be loaded.
    if cmdline::saved().last("modules-load").is_none() {
        return;
    }
    for name in cmdline::saved().modules_load() {
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
        // `NAME.PARAM=VALUE` on the command line gives the module
        // `PARAM=VALUE`, as modprobe does; formatted on the stack.
        let mut bufs: [console::FixedBuf<128>; 8] = Default::default();
        let mut nargs = 0;
        for (param, value) in cmdline::saved().module_params(name) {
            let len = param.len() + value.map_or(0, |v| v.len() + 1);
            let Some(buf) = bufs.get_mut(nargs).filter(|_| len <= 128) else {
                pr_warn!("modules-load: {name}.{param}: too many or too long, ignored");
                continue;
            };
            let _ = buf.write_str(param);
            if let Some(v) = value {
                let _ = write!(buf, "={v}");
            }
            nargs += 1;
        }
        let args: [&str; 8] = core::array::from_fn(|i| bufs[i].as_str());
        let loaded = if name.len() > crate::module::MODULE_NAME_MAX {
            Err(Errno::ENOENT)
        } else {
            [path_for(false), path_for(true)]
                .iter()
                .map(|p| {
                    let path = p.as_str();
                    crate::fs::with_file(path, |bytes| {
                        crate::module::insmod(path, bytes, &args[..nargs])
                    })
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
            mm::init::release_debug_ll();
        }
        _ => pr_warn!("ioremap of the console failed; keeping the DEBUG_LL section"),
    }
}

/// Finds and parses the ATAG list or DTB at `phys` (mapped by boot.S: the
/// two sections starting at its section, at its linear address).
#[unsafe(link_section = ".init.text")]
fn parse_boot_params(phys: u32) -> Result<BootInfo, BootError> {
    let offset = phys.wrapping_sub(layout::PHYS_OFFSET);
    if offset >= 0x4000_0000 || phys == 0 {
        return Err(BootError::NotInRam { r2: phys });
    }
    let virt = phys_to_virt(phys);
    let window_end = (virt & !(SECTION_SIZE - 1)) + 2 * SECTION_SIZE;
    let len = (window_end - virt) as usize;
    // SAFETY: boot.S mapped [section(virt), section(virt) + 2 MB) to RAM, and
    // nothing writes the boot parameters.
    let bytes = unsafe { core::slice::from_raw_parts(virt as *const u8, len) };
    if boot::looks_like_dtb(bytes) {
        // The parser checks the header, and that `totalsize` fits in the
        // window boot.S mapped (`DtbError::TotalSizeTooLarge` otherwise).
        boot::parse_dtb(bytes, phys as u64)
    } else {
        boot::parse_atags(bytes)
    }
}
