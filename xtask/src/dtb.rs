//! A vexpress-a9 device tree for `cargo xtask run --dtb auto` and the DTB
//! boot test.
//!
//! QEMU's vexpress-a9 builds no device tree of its own (unlike `virt`). With
//! `-dtb FILE`, hw/arm/boot.c `arm_load_dtb` loads FILE and edits it for the
//! kernel: it turns every root /memory node into FDT_NOP tokens and adds
//! /memory@60000000 with `reg = <0x60000000 ram_size>`, written in the
//! root's #address-cells and #size-cells (so the root must have both: QEMU
//! refuses a tree without them), and it sets /chosen's `bootargs` from
//! `-append` and `linux,initrd-start`/`-end` from `-initrd` (so /chosen must
//! exist). The kernel then finds the tree through `r2` instead of ATAGs.
//!
//! The tree is minimal but honest: what Kobold reads (the model, memory and
//! /chosen) plus the boot CPU and the console UART, with the addresses of
//! the board (Linux's vexpress-v2p-ca9.dts names them the same way). It has
//! no interrupt controller, clocks or other devices, which Kobold does not
//! look up in the tree.

use anyhow::{Context, Result};
use vm_fdt::FdtWriter;

/// The physical start of vexpress-a9's RAM, where QEMU's /memory goes.
const RAM_START: u32 = 0x6000_0000;
/// The placeholder RAM size (128 MiB, QEMU's default); QEMU writes the real
/// one.
const RAM_SIZE_PLACEHOLDER: u32 = 0x0800_0000;
/// UART0, a PL011, on the motherboard's legacy (CS7) peripheral map.
const UART0_BASE: u32 = 0x1000_9000;
const UART0_SIZE: u32 = 0x1000;

/// The device tree blob, ready to pass to QEMU with `-dtb`.
pub fn vexpress_a9_dtb() -> Result<Vec<u8>> {
    build().context("building the vexpress-a9 device tree")
}

fn build() -> Result<Vec<u8>, vm_fdt::Error> {
    let mut w = FdtWriter::new()?;
    let root = w.begin_node("")?;
    w.property_string("model", "V2P-CA9")?;
    w.property_string_list(
        "compatible",
        vec!["arm,vexpress,v2p-ca9".into(), "arm,vexpress".into()],
    )?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 1)?;

    // Filled in by QEMU (bootargs, linux,initrd-start/-end).
    let chosen = w.begin_node("chosen")?;
    w.end_node(chosen)?;

    // Replaced by QEMU with the real RAM size.
    let memory = w.begin_node("memory@60000000")?;
    w.property_string("device_type", "memory")?;
    w.property_array_u32("reg", &[RAM_START, RAM_SIZE_PLACEHOLDER])?;
    w.end_node(memory)?;

    // CPU nodes are addressed by their MPIDR affinity: one cell, no size.
    let cpus = w.begin_node("cpus")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    let cpu = w.begin_node("cpu@0")?;
    w.property_string("device_type", "cpu")?;
    w.property_string("compatible", "arm,cortex-a9")?;
    w.property_u32("reg", 0)?;
    w.end_node(cpu)?;
    w.end_node(cpus)?;

    let uart = w.begin_node("uart@10009000")?;
    w.property_string_list(
        "compatible",
        vec!["arm,pl011".into(), "arm,primecell".into()],
    )?;
    w.property_array_u32("reg", &[UART0_BASE, UART0_SIZE])?;
    w.end_node(uart)?;

    w.end_node(root)?;
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be32(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
    }

    fn cstr(b: &[u8], at: usize) -> &str {
        let len = b[at..].iter().position(|&c| c == 0).unwrap();
        std::str::from_utf8(&b[at..at + len]).unwrap()
    }

    /// Walks the structure block (Devicetree Specification v0.4, 5.4) and
    /// lists every property as (node path, property name, value).
    fn properties(dtb: &[u8]) -> Vec<(String, String, Vec<u8>)> {
        let (off_struct, off_strings) = (be32(dtb, 8) as usize, be32(dtb, 12) as usize);
        let mut path: Vec<String> = vec![];
        let mut props = vec![];
        let mut at = off_struct;
        loop {
            let token = be32(dtb, at);
            at += 4;
            match token {
                1 => {
                    let name = cstr(dtb, at);
                    at = (at + name.len() + 1).next_multiple_of(4);
                    path.push(name.to_owned());
                    props.push((path.join("/"), String::new(), vec![]));
                }
                2 => {
                    path.pop().unwrap();
                }
                3 => {
                    let len = be32(dtb, at) as usize;
                    let name = cstr(dtb, off_strings + be32(dtb, at + 4) as usize);
                    let value = dtb[at + 8..at + 8 + len].to_vec();
                    props.push((path.join("/"), name.to_owned(), value));
                    at = (at + 8 + len).next_multiple_of(4);
                }
                4 => {}
                9 => break,
                t => panic!("unknown token {t:#x} at {at:#x}"),
            }
        }
        assert!(path.is_empty(), "unclosed nodes");
        props
    }

    fn cells(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    #[test]
    fn header_is_a_version_17_device_tree() {
        let dtb = vexpress_a9_dtb().unwrap();
        assert_eq!(be32(&dtb, 0), 0xd00d_feed, "magic");
        assert_eq!(be32(&dtb, 4) as usize, dtb.len(), "totalsize");
        assert_eq!(be32(&dtb, 20), 17, "version");
        assert!(be32(&dtb, 24) <= 17, "last_comp_version");
        let (off_struct, size_struct) = (be32(&dtb, 8), be32(&dtb, 36));
        let (off_strings, size_strings) = (be32(&dtb, 12), be32(&dtb, 32));
        assert!(off_struct + size_struct <= off_strings);
        assert_eq!((off_strings + size_strings) as usize, dtb.len());
        // An empty memory reservation map.
        let rsv = be32(&dtb, 16) as usize;
        assert!(dtb[rsv..rsv + 16].iter().all(|&b| b == 0));
    }

    #[test]
    fn has_what_qemu_and_kobold_need() {
        let props = properties(&vexpress_a9_dtb().unwrap());
        let get = |node: &str, name: &str| {
            props
                .iter()
                .find(|(n, p, _)| n == node && p == name)
                .map(|(_, _, v)| v.clone())
                .unwrap_or_else(|| panic!("{node} {name} missing"))
        };
        // The root: QEMU needs both cell counts; Kobold prints the model.
        assert_eq!(get("", "#address-cells"), cells(&[1]));
        assert_eq!(get("", "#size-cells"), cells(&[1]));
        assert_eq!(get("", "model"), b"V2P-CA9\0");
        assert_eq!(
            get("", "compatible"),
            b"arm,vexpress,v2p-ca9\0arm,vexpress\0"
        );
        // /chosen exists (QEMU sets its properties) and starts empty.
        get("/chosen", "");
        assert!(
            !props
                .iter()
                .any(|(n, p, _)| n == "/chosen" && !p.is_empty())
        );
        assert_eq!(get("/memory@60000000", "device_type"), b"memory\0");
        assert_eq!(
            get("/memory@60000000", "reg"),
            cells(&[0x6000_0000, 0x0800_0000])
        );
        assert_eq!(get("/cpus", "#address-cells"), cells(&[1]));
        assert_eq!(get("/cpus", "#size-cells"), cells(&[0]));
        assert_eq!(get("/cpus/cpu@0", "device_type"), b"cpu\0");
        assert_eq!(get("/cpus/cpu@0", "compatible"), b"arm,cortex-a9\0");
        assert_eq!(get("/cpus/cpu@0", "reg"), cells(&[0]));
        assert_eq!(
            get("/uart@10009000", "compatible"),
            b"arm,pl011\0arm,primecell\0"
        );
        assert_eq!(get("/uart@10009000", "reg"), cells(&[0x1000_9000, 0x1000]));
        let nodes: Vec<&str> = props
            .iter()
            .filter(|(_, p, _)| p.is_empty())
            .map(|(n, _, _)| n.as_str())
            .collect();
        assert_eq!(
            nodes,
            [
                "",
                "/chosen",
                "/memory@60000000",
                "/cpus",
                "/cpus/cpu@0",
                "/uart@10009000"
            ]
        );
    }
}
