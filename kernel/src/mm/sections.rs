//! The kernel image's section boundaries, from the linker script's symbols.
//! This is the only file that names them.

/// Virtual addresses of the image's parts (Linux's names).
#[derive(Clone, Copy, Debug)]
pub struct KernelImage {
    pub text: u32,
    pub stext: u32,
    pub etext: u32,
    pub start_rodata: u32,
    pub end_rodata: u32,
    pub init_begin: u32,
    pub init_end: u32,
    pub sdata: u32,
    pub edata: u32,
    pub bss_start: u32,
    pub bss_stop: u32,
    pub end: u32,
    pub vectors_start: u32,
}

unsafe extern "C" {
    static _text: u8;
    static _stext: u8;
    static _etext: u8;
    static __start_rodata: u8;
    static __end_rodata: u8;
    static __init_begin: u8;
    static __init_end: u8;
    static _sdata: u8;
    static _edata: u8;
    static __bss_start: u8;
    static __bss_stop: u8;
    static _end: u8;
    static __vectors_start: u8;
}

/// Reads the symbols.
pub fn kernel_image() -> KernelImage {
    macro_rules! addr {
        ($s:ident) => {
            // Only the address of the linker-defined symbol is taken.
            core::ptr::addr_of!($s) as u32
        };
    }
    KernelImage {
        text: addr!(_text),
        stext: addr!(_stext),
        etext: addr!(_etext),
        start_rodata: addr!(__start_rodata),
        end_rodata: addr!(__end_rodata),
        init_begin: addr!(__init_begin),
        init_end: addr!(__init_end),
        sdata: addr!(_sdata),
        edata: addr!(_edata),
        bss_start: addr!(__bss_start),
        bss_stop: addr!(__bss_stop),
        end: addr!(_end),
        vectors_start: addr!(__vectors_start),
    }
}
