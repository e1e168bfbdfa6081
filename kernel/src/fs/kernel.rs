//! The rootfs on the running kernel: file pages from the buddy allocator,
//! copied and read through `kmap_atomic`, whole files through `vmap`.

use super::{PAGE, PageStore, Pfn, ROOTFS, UnpackError, Unpacked};
use crate::errno::Errno;
use crate::mm::{self, buddy::Gfp, highmem, pgtable::Prot};
use core::fmt::Write;

/// Pages for file contents: order-0 pages from the buddy allocator,
/// HighMem first (`GFP_HIGHUSER`, as the page cache asks for).
pub struct BuddyPages;

impl PageStore for BuddyPages {
    fn alloc(&mut self) -> Option<Pfn> {
        mm::page_alloc::alloc_pages(Gfp::KERNEL.union(Gfp::HIGHMEM), 0)
    }

    fn free(&mut self, pfn: Pfn) {
        let _ = mm::page_alloc::free_pages(pfn, 0);
    }

    fn write(&mut self, pfn: Pfn, data: &[u8]) -> Result<(), Errno> {
        let len = data.len().min(PAGE);
        let virt = highmem::kmap_atomic(pfn)?;
        // SAFETY: `virt` maps the whole page `pfn`, which the caller owns,
        // until kunmap_atomic; `data` is elsewhere (the initrd's vmap).
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), virt as *mut u8, len);
            core::ptr::write_bytes((virt as usize + len) as *mut u8, 0, PAGE - len);
        }
        highmem::kunmap_atomic(virt);
        Ok(())
    }

    fn read(&mut self, pfn: Pfn, len: usize, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
        let virt = highmem::kmap_atomic(pfn)?;
        // SAFETY: `virt` maps the whole page until kunmap_atomic; the page
        // belongs to a file of the sealed rootfs, which nothing writes.
        let bytes = unsafe { core::slice::from_raw_parts(virt as *const u8, len.min(PAGE)) };
        f(bytes);
        highmem::kunmap_atomic(virt);
        Ok(())
    }
}

/// Unpacks the initramfs into the rootfs (files that do not fit are
/// reported and skipped), then seals it.
pub fn populate(archive: &[u8]) -> Result<Unpacked, UnpackError> {
    let mut fs = ROOTFS.lock();
    let r = fs.unpack(archive, &mut BuddyPages, &mut |path, e| {
        crate::pr_err!("Initramfs unpacking: {path}: write error: {e}; file skipped");
    });
    fs.seal();
    r
}

/// Maps a whole file read-only; (address, length). `Ok((0, 0))` for an
/// empty file (nothing to map).
#[inline(never)]
fn map_file(path: &str) -> Result<(u32, usize), Errno> {
    let fs = ROOTFS.lock();
    let file = fs.file(path)?;
    if file.is_empty() {
        return Ok((0, 0));
    }
    let virt = mm::vmalloc::vmap(file.pages(), Prot::KERNEL_RO, map_file as *const () as u32)?;
    Ok((virt, file.len()))
}

/// Calls `f` with the whole of the rootfs file `path`, mapped contiguously
/// (a temporary `vmap` of its pages, undone before returning). Errors:
/// `ENOENT`, `EISDIR`, `ENOMEM` (no room to map it).
///
/// The rootfs lock is not held while `f` runs, so `f` may read other files.
pub fn with_file<R>(path: &str, f: impl FnOnce(&[u8]) -> R) -> Result<R, Errno> {
    let (virt, len) = map_file(path)?;
    if len == 0 {
        return Ok(f(&[]));
    }
    // SAFETY: `virt` maps `len` bytes of the file's pages read-only until
    // the vunmap below. The rootfs is sealed before anything can read it
    // (unpacking is the only writer, and it runs once, at boot), so the
    // pages are never freed or rewritten while mapped.
    let bytes = unsafe { core::slice::from_raw_parts(virt as *const u8, len) };
    let r = f(bytes);
    let _ = mm::vmalloc::vunmap(virt);
    Ok(r)
}

/// Calls `f` with the file's contents a page at a time (through
/// `kmap_atomic`: nothing is mapped as a whole). `f` must not use the
/// rootfs (its lock is held).
pub fn read_file_pages(path: &str, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
    let fs = ROOTFS.lock();
    fs.file(path)?.for_each_page(&mut BuddyPages, f)
}

/// `ls PATH`.
pub fn list(path: &str, out: &mut dyn Write) -> Result<(), Errno> {
    ROOTFS.lock().list(path, out)
}

/// Each entry of directory `path` (name, and data for a regular file),
/// until `f` returns `false` ([`super::RamFs::entries`]). `f` must not use
/// the rootfs (its lock is held).
pub fn entries(
    path: &str,
    f: &mut dyn FnMut(&str, Option<&super::FileData>) -> bool,
) -> Result<(), Errno> {
    ROOTFS.lock().entries(path, f)
}
