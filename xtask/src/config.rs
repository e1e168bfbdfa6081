//! Every fixed choice in one place: the kernel's target and package, output
//! paths, and the QEMU machine with its command line.

use std::ffi::OsString;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kernel's Rust target (passed with `--target`; never a workspace-wide
/// `[build] target`, so host builds stay host builds).
pub const KERNEL_TARGET: &str = "armv7a-none-eabi";
/// The kernel's Cargo package.
pub const KERNEL_PACKAGE: &str = "kobold-kernel";
/// The kernel's binary target, i.e. the ELF's file name.
pub const KERNEL_BIN: &str = "kobold";

/// The QEMU executable, which is also its Debian package's name.
pub const QEMU: &str = "qemu-system-arm";
/// The board: a Versatile Express with a CoreTile Cortex-A9 (V2P-CA9).
pub const MACHINE: &str = "vexpress-a9";
/// QEMU's RAM size when `run` is given no `--mem`.
pub const DEFAULT_MEM_MB: u32 = 256;
/// RAM sizes the kernel supports: QEMU models at most 1 GiB on vexpress-a9;
/// below 64 MiB the board's low-memory alias and the kernel's early
/// allocations stop making sense.
pub const MEM_MB_RANGE: RangeInclusive<u32> = 64..=1024;
/// The kernel command line when `run` is given no `--append`.
pub const DEFAULT_APPEND: &str = "console=ttyAMA0";
/// UART0's flag register (PL011 UARTFR) and its "receive FIFO empty" bit:
/// what the harness watches before it starts a paused QEMU.
pub const UART0_FR: u32 = 0x1000_9018;
pub const UART_FR_RXFE: u32 = 1 << 4;
/// The port `-s` makes QEMU's gdbstub listen on.
pub const GDB_PORT: u16 = 1234;
/// The name stored in the uImage header.
pub const UIMAGE_NAME: &str = "Kobold";
/// Where `--dtb auto` and the DTB test write the generated device tree,
/// relative to the workspace root.
pub const GENERATED_DTB: &str = "target/kobold/vexpress-a9.dtb";

/// QEMU's semihosting, which the kernel uses to exit QEMU with a status
/// (0 after `poweroff`, 3 after a panic).
const SEMIHOSTING: [&str; 2] = ["-semihosting-config", "enable=on,target=native"];

/// Silences the PL041 audio codec's host backend. QEMU 7.2's `-audio none`
/// insists on a `model=` (the PL041 is not one), and without an audiodev the
/// default ALSA backend prints a screenful of errors on stderr. A `none`
/// audiodev bound to the PL041 prints nothing and still works on QEMU 9,
/// where the `QEMU_AUDIO_DRV` variable is gone.
const NO_AUDIO: [&str; 4] = [
    "-audiodev",
    "none,id=snd0",
    "-global",
    "pl041.audiodev=snd0",
];

/// Which kernel configuration is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Default features: CONFIG_HIGHMEM.
    Highmem,
    /// `--no-default-features`.
    NoHighmem,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::Highmem, Variant::NoHighmem];

    /// The output directory's name, also used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Highmem => "highmem",
            Variant::NoHighmem => "nohighmem",
        }
    }

    /// Cargo's feature arguments for this variant.
    pub fn cargo_args(self) -> &'static [&'static str] {
        match self {
            Variant::Highmem => &[],
            Variant::NoHighmem => &["--no-default-features"],
        }
    }
}

/// Cargo profile of the kernel build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    Release,
    Debug,
}

/// One kernel build: configuration and profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Build {
    pub variant: Variant,
    pub profile: Profile,
}

impl From<crate::KernelArgs> for Build {
    fn from(args: crate::KernelArgs) -> Build {
        Build {
            variant: if args.no_highmem {
                Variant::NoHighmem
            } else {
                Variant::Highmem
            },
            profile: if args.debug {
                Profile::Debug
            } else {
                Profile::Release
            },
        }
    }
}

impl Build {
    /// The release build of `variant`, as the tests use.
    pub fn release(variant: Variant) -> Build {
        Build {
            variant,
            profile: Profile::Release,
        }
    }

    /// `highmem`, `nohighmem`, `highmem-debug`, ...
    pub fn name(self) -> String {
        match self.profile {
            Profile::Release => self.variant.name().to_string(),
            Profile::Debug => format!("{}-debug", self.variant.name()),
        }
    }

    /// The ELF cargo links (before xtask patches it).
    pub fn cargo_elf(self, root: &Path) -> PathBuf {
        let profile = match self.profile {
            Profile::Release => "release",
            Profile::Debug => "debug",
        };
        root.join("target")
            .join(KERNEL_TARGET)
            .join(profile)
            .join(KERNEL_BIN)
    }

    /// `target/kobold/<name>/`.
    pub fn out_dir(self, root: &Path) -> PathBuf {
        root.join("target/kobold").join(self.name())
    }

    pub fn elf(self, root: &Path) -> PathBuf {
        self.out_dir(root).join("kobold.elf")
    }

    /// Linux's `System.map` (`%08x %c %s`, by address) beside the ELF.
    pub fn system_map(self, root: &Path) -> PathBuf {
        self.out_dir(root).join("System.map")
    }

    pub fn image(self, root: &Path) -> PathBuf {
        self.out_dir(root).join("Image")
    }

    pub fn uimage(self, root: &Path) -> PathBuf {
        self.out_dir(root).join("uImage")
    }
}

/// How QEMU's console is wired to stdio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Console {
    /// `-nographic`: serial port and monitor multiplexed on stdio (Ctrl-A c
    /// switches, Ctrl-A x quits), for people.
    Nographic,
    /// `-display none -serial stdio -monitor none`: nothing but the serial
    /// port on stdio, for the test harness.
    SerialOnly,
}

/// One QEMU invocation.
#[derive(Clone, Debug)]
pub struct Qemu {
    pub mem_mb: u32,
    /// A uImage or a raw Image (QEMU tells them apart by the uImage magic).
    pub kernel: PathBuf,
    /// `-append`; `None` passes no command line at all.
    pub append: Option<String>,
    pub dtb: Option<PathBuf>,
    pub semihosting: bool,
    pub console: Console,
    /// `-S -s`: wait for gdb on port [`GDB_PORT`].
    pub gdb: bool,
    /// `-initrd`: the initramfs with the modules.
    pub initrd: Option<PathBuf>,
    /// `-S -qmp unix:PATH,server=on,wait=off`: start paused, controlled
    /// through a QMP socket at PATH (the harness's type-ahead).
    pub paused_qmp: Option<PathBuf>,
}

impl Qemu {
    /// QEMU's arguments, without the executable.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |a: &str| args.push(a.into());
        push("-M");
        push(MACHINE);
        push("-m");
        push(&self.mem_mb.to_string());
        match self.console {
            Console::Nographic => push("-nographic"),
            Console::SerialOnly => {
                for a in ["-display", "none", "-serial", "stdio", "-monitor", "none"] {
                    push(a);
                }
            }
        }
        for a in NO_AUDIO {
            push(a);
        }
        if self.semihosting {
            for a in SEMIHOSTING {
                push(a);
            }
        }
        if self.gdb {
            push("-S");
            push("-s");
        }
        args.push("-kernel".into());
        args.push(self.kernel.clone().into());
        if let Some(append) = &self.append {
            args.push("-append".into());
            args.push(append.into());
        }
        if let Some(dtb) = &self.dtb {
            args.push("-dtb".into());
            args.push(dtb.clone().into());
        }
        if let Some(initrd) = &self.initrd {
            args.push("-initrd".into());
            args.push(initrd.clone().into());
        }
        if let Some(qmp) = &self.paused_qmp {
            args.push("-S".into());
            args.push("-qmp".into());
            let mut spec = OsString::from("unix:");
            spec.push(qmp);
            spec.push(",server=on,wait=off");
            args.push(spec);
        }
        args
    }

    /// The command, ready to spawn.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(QEMU);
        cmd.args(self.args());
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_command_line() {
        let qemu = Qemu {
            mem_mb: 128,
            kernel: "k/uImage".into(),
            append: Some("console=ttyAMA0 x".into()),
            dtb: None,
            semihosting: false,
            console: Console::SerialOnly,
            gdb: false,
            initrd: None,
            paused_qmp: None,
        };
        let args: Vec<String> = qemu
            .args()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        let line = args.join(" ");
        assert!(
            line.starts_with("-M vexpress-a9 -m 128 -display none -serial stdio -monitor none")
        );
        assert!(!line.contains("semihosting"));
        assert!(line.contains("pl041.audiodev=snd0"));
        assert!(line.ends_with("-kernel k/uImage -append console=ttyAMA0 x"));
        // The command line is one argument, spaces and all.
        assert_eq!(args.last().unwrap(), "console=ttyAMA0 x");
    }

    #[test]
    fn output_paths() {
        let root = Path::new("/w");
        let b = Build {
            variant: Variant::NoHighmem,
            profile: Profile::Debug,
        };
        assert_eq!(
            b.uimage(root),
            Path::new("/w/target/kobold/nohighmem-debug/uImage")
        );
        assert_eq!(
            b.cargo_elf(root),
            Path::new("/w/target/armv7a-none-eabi/debug/kobold")
        );
        assert_eq!(
            Build::release(Variant::Highmem).elf(root),
            Path::new("/w/target/kobold/highmem/kobold.elf")
        );
    }
}
