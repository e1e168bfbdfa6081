//! The /proc files, in Linux's formats (fs/proc/cmdline.c, meminfo.c,
//! uptime.c, version.c; kernel/resource.c for /proc/iomem;
//! kernel/irq/proc.c for /proc/interrupts, written by `irq::IrqTable`). Each file is
//! rendered from a snapshot the owner of the data provides, so the formats
//! are tested on the host.

use crate::errno::Errno;
use core::fmt::{self, Write};

/// The figures behind /proc/meminfo, in kB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemInfo {
    /// totalram_pages: RAM handed to the kernel's allocator (reserved
    /// memory — the kernel image, page tables — is not counted, as in Linux).
    pub total_kb: u64,
    pub free_kb: u64,
    /// (HighTotal, HighFree) with CONFIG_HIGHMEM.
    pub high: Option<(u64, u64)>,
    pub vmalloc_total_kb: u64,
    /// Bytes of vmap areas in the vmalloc range, guard pages included.
    pub vmalloc_used_kb: u64,
    /// The largest free block of the vmalloc range.
    pub vmalloc_chunk_kb: u64,
    /// Bytes the kernel heap has handed out and not got back (kmalloc and
    /// the Rust global allocator, small blocks and whole-page ones), shown
    /// in kB as Linux's `Slab:`.
    pub slab_kb: u64,
}

fn field(out: &mut dyn Write, name: &str, kb: u64) -> fmt::Result {
    // Linux: "MemTotal:       %8lu kB" — the name and colon padded to 16.
    writeln!(out, "{:<16}{:>8} kB", name, kb)
}

impl MemInfo {
    pub fn write(&self, out: &mut dyn Write) -> fmt::Result {
        field(out, "MemTotal:", self.total_kb)?;
        field(out, "MemFree:", self.free_kb)?;
        if let Some((high_total, high_free)) = self.high {
            field(out, "HighTotal:", high_total)?;
            field(out, "HighFree:", high_free)?;
            field(out, "LowTotal:", self.total_kb - high_total)?;
            field(out, "LowFree:", self.free_kb - high_free)?;
        }
        // Linux prints Slab after the swap, dirty and anon lines (which
        // Kobold does not have) and before the vmalloc ones.
        field(out, "Slab:", self.slab_kb)?;
        field(out, "VmallocTotal:", self.vmalloc_total_kb)?;
        field(out, "VmallocUsed:", self.vmalloc_used_kb)?;
        field(out, "VmallocChunk:", self.vmalloc_chunk_kb)
    }
}

/// `/proc/uptime`: "%lu.%02lu %lu.%02lu" — seconds up and seconds idle.
pub fn write_uptime(out: &mut dyn Write, up_ns: u64, idle_ns: u64) -> fmt::Result {
    let cs = |ns: u64| (ns / 1_000_000_000, (ns % 1_000_000_000) / 10_000_000);
    let (us, uc) = cs(up_ns);
    let (is, ic) = cs(idle_ns);
    writeln!(out, "{us}.{uc:02} {is}.{ic:02}")
}

/// `/proc/version`: Linux's `linux_banner` ("Linux version 3.18.0
/// (user@host) (gcc version ...) #1 SMP ..."), Kobold's words — the same
/// text the boot log's banner line shows.
pub fn write_version(out: &mut dyn Write, highmem: bool) -> fmt::Result {
    writeln!(out, "{}", linux_banner(highmem))
}

/// The banner itself, without the newline: made when the kernel is built,
/// so the boot prints it as it is (formatting it at boot was code QEMU
/// translated for this one line; docs/BENCHMARKS.md, "Fifth pass").
pub const fn linux_banner(highmem: bool) -> &'static str {
    macro_rules! banner {
        ($config:literal) => {
            concat!(
                "Kobold version ",
                env!("CARGO_PKG_VERSION"),
                " (rustc, ",
                $config,
                ") #1 ARMv7"
            )
        };
    }
    if highmem {
        banner!("HIGHMEM")
    } else {
        banner!("!HIGHMEM")
    }
}

/// One line of /proc/iomem: a physical range (inclusive end, as Linux's
/// `struct resource`) and its owner; `depth` 1 for a range nested in the
/// one before (the kernel image inside System RAM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoResource {
    pub start: u64,
    pub end: u64,
    pub name: &'static str,
    pub depth: u8,
}

/// `/proc/iomem` (kernel/resource.c r_show): `%0*llx-%0*llx : %s`, 8 hex
/// digits below 4 GiB, two spaces of indent per level of nesting.
pub fn write_iomem(out: &mut dyn Write, res: &[IoResource]) -> fmt::Result {
    for r in res {
        let indent = usize::from(r.depth) * 2;
        writeln!(
            out,
            "{:indent$}{:08x}-{:08x} : {}",
            "", r.start, r.end, r.name
        )?;
    }
    Ok(())
}

/// The files of /proc, as `ls /proc` lists them.
pub const FILES: [&str; 10] = [
    "buddyinfo",
    "cmdline",
    "interrupts",
    "iomem",
    "kallsyms",
    "meminfo",
    "modules",
    "uptime",
    "version",
    "vmallocinfo",
];

/// `ls /proc`: the files, one a line; `None` for a path outside /proc.
pub fn list(path: &str, out: &mut dyn Write) -> Option<Result<(), Errno>> {
    match path.trim_end_matches('/') {
        "/proc" => Some(
            FILES
                .iter()
                .try_for_each(|f| writeln!(out, "{f}"))
                .map_err(|_| Errno::EIO),
        ),
        p => p.strip_prefix("/proc/").map(|name| {
            Err(if FILES.contains(&name) {
                Errno::ENOTDIR
            } else {
                Errno::ENOENT
            })
        }),
    }
}

/// What the /proc files show right now.
pub struct Snapshot<'a> {
    pub cmdline: &'a str,
    /// One line per zone (mm::buddy::BuddyInfo's Display).
    pub buddyinfo: &'a [crate::mm::buddy::BuddyInfo],
    pub meminfo: MemInfo,
    pub up_ns: u64,
    pub idle_ns: u64,
    /// Writes /proc/vmallocinfo.
    pub vmallocinfo: &'a dyn Fn(&mut dyn Write) -> fmt::Result,
    /// Writes /proc/modules.
    pub modules: &'a dyn Fn(&mut dyn Write) -> fmt::Result,
    /// Writes /proc/kallsyms.
    pub kallsyms: &'a dyn Fn(&mut dyn Write) -> fmt::Result,
    /// The kernel was built with CONFIG_HIGHMEM (for /proc/version).
    pub highmem: bool,
    /// /proc/iomem's lines, in order.
    pub iomem: &'a [IoResource],
    /// Writes /proc/interrupts.
    pub interrupts: &'a dyn Fn(&mut dyn Write) -> fmt::Result,
}

/// Renders `path`.
pub fn read(path: &str, snap: &Snapshot<'_>, out: &mut dyn Write) -> Result<(), Errno> {
    let r = match path {
        "/proc/cmdline" => writeln!(out, "{}", snap.cmdline),
        "/proc/buddyinfo" => snap.buddyinfo.iter().try_for_each(|z| writeln!(out, "{z}")),
        "/proc/meminfo" => snap.meminfo.write(out),
        "/proc/uptime" => write_uptime(out, snap.up_ns, snap.idle_ns),
        "/proc/vmallocinfo" => (snap.vmallocinfo)(out),
        "/proc/modules" => (snap.modules)(out),
        "/proc/kallsyms" => (snap.kallsyms)(out),
        "/proc/version" => write_version(out, snap.highmem),
        "/proc/iomem" => write_iomem(out, snap.iomem),
        "/proc/interrupts" => (snap.interrupts)(out),
        _ => return Err(Errno::ENOENT),
    };
    r.map_err(|_| Errno::EIO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_format_matches_linux() {
        let m = MemInfo {
            total_kb: 1_031_000,
            free_kb: 1_020_000,
            high: Some((270_336, 270_336)),
            vmalloc_total_kb: 245_760,
            vmalloc_used_kb: 1044,
            vmalloc_chunk_kb: 122_880,
            slab_kb: 1234,
        };
        let mut s = String::new();
        m.write(&mut s).unwrap();
        assert_eq!(
            s,
            "MemTotal:        1031000 kB\n\
             MemFree:         1020000 kB\n\
             HighTotal:        270336 kB\n\
             HighFree:         270336 kB\n\
             LowTotal:         760664 kB\n\
             LowFree:          749664 kB\n\
             Slab:               1234 kB\n\
             VmallocTotal:     245760 kB\n\
             VmallocUsed:        1044 kB\n\
             VmallocChunk:     122880 kB\n"
        );
        let mut s = String::new();
        MemInfo { high: None, ..m }.write(&mut s).unwrap();
        assert!(!s.contains("High"));
    }

    #[test]
    fn uptime_and_dispatch() {
        let mut s = String::new();
        write_uptime(&mut s, 12_345_678_901, 9_990_000_000).unwrap();
        assert_eq!(s, "12.34 9.99\n");
        let zones = [crate::mm::buddy::BuddyInfo {
            zone: crate::mm::buddy::ZoneType::Normal,
            nr_free: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        }];
        let snap = Snapshot {
            cmdline: "console=ttyAMA0",
            buddyinfo: &zones,
            meminfo: MemInfo::default(),
            up_ns: 0,
            idle_ns: 0,
            vmallocinfo: &|out| {
                writeln!(
                    out,
                    "0xf8000000-0xf8100000 1048576 iotable_init+0x0/0x40 phys=10000000 ioremap"
                )
            },
            modules: &|out| writeln!(out, "hello 4096 0 - Live 0xbf000000 (O)"),
            kallsyms: &|out| writeln!(out, "c0008000 T stext"),
            highmem: true,
            iomem: &[],
            interrupts: &|out| {
                let mut t = crate::irq::IrqTable::new();
                t.set_nr_irqs(96);
                let _ = t.begin(34);
                t.write_proc(out, "GIC")
            },
        };
        let mut s = String::new();
        read("/proc/cmdline", &snap, &mut s).unwrap();
        assert_eq!(s, "console=ttyAMA0\n");
        assert_eq!(read("/proc/nope", &snap, &mut s), Err(Errno::ENOENT));
        let mut s = String::new();
        read("/proc/vmallocinfo", &snap, &mut s).unwrap();
        assert!(s.ends_with("phys=10000000 ioremap\n"));
        let mut s = String::new();
        read("/proc/modules", &snap, &mut s).unwrap();
        assert_eq!(s, "hello 4096 0 - Live 0xbf000000 (O)\n");
        let mut s = String::new();
        read("/proc/version", &snap, &mut s).unwrap();
        assert_eq!(
            s,
            format!(
                "Kobold version {} (rustc, HIGHMEM) #1 ARMv7\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        // Every file ls lists can be read.
        for f in FILES {
            let mut s = String::new();
            assert_eq!(read(&format!("/proc/{f}"), &snap, &mut s), Ok(()), "{f}");
        }
        let mut s = String::new();
        read("/proc/interrupts", &snap, &mut s).unwrap();
        assert_eq!(
            s,
            "           CPU0       \n 34:          1       GIC  34\nErr:          0\n"
        );
        let mut s = String::new();
        read("/proc/buddyinfo", &snap, &mut s).unwrap();
        assert_eq!(
            s,
            "Node 0, zone   Normal      1      0      0      0      0      0      0      0      0      0      2 \n"
        );
    }

    #[test]
    fn version_without_highmem() {
        let mut s = String::new();
        write_version(&mut s, false).unwrap();
        assert!(s.starts_with("Kobold version "), "{s}");
        assert!(s.ends_with(" (rustc, !HIGHMEM) #1 ARMv7\n"), "{s}");
    }

    /// The boot's banner line is /proc/version without its newline, in
    /// both configurations.
    #[test]
    fn banner_is_proc_version() {
        for highmem in [false, true] {
            let mut s = String::new();
            write_version(&mut s, highmem).unwrap();
            assert_eq!(format!("{}\n", linux_banner(highmem)), s);
            assert_eq!(
                s,
                format!(
                    "Kobold version {} (rustc, {}) #1 ARMv7\n",
                    env!("CARGO_PKG_VERSION"),
                    if highmem { "HIGHMEM" } else { "!HIGHMEM" }
                )
            );
        }
    }

    #[test]
    fn iomem_format_matches_linux() {
        let r = |start, end, name, depth| IoResource {
            start,
            end,
            name,
            depth,
        };
        let mut s = String::new();
        write_iomem(
            &mut s,
            &[
                r(0x1000_0000, 0x1000_0fff, "sysregs", 0),
                r(0x1000_9000, 0x1000_9fff, "uart-pl011", 0),
                r(0x6000_0000, 0x9fff_ffff, "System RAM", 0),
                r(0x6000_8000, 0x6020_1fff, "Kernel code", 1),
                r(0x6030_0000, 0x6040_0123, "Kernel data", 1),
            ],
        )
        .unwrap();
        assert_eq!(
            s,
            "10000000-10000fff : sysregs\n\
             10009000-10009fff : uart-pl011\n\
             60000000-9fffffff : System RAM\n\
             \x20 60008000-60201fff : Kernel code\n\
             \x20 60300000-60400123 : Kernel data\n"
        );
    }

    #[test]
    fn ls_proc_lists_the_files() {
        let mut s = String::new();
        assert_eq!(list("/proc/", &mut s), Some(Ok(())));
        assert_eq!(s.lines().collect::<Vec<_>>(), FILES);
        assert_eq!(list("/proc/version", &mut s), Some(Err(Errno::ENOTDIR)));
        assert_eq!(list("/proc/nope", &mut s), Some(Err(Errno::ENOENT)));
        assert_eq!(list("/lib", &mut s), None);
    }
}
