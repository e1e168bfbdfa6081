//! A minimal rootfs: the initramfs unpacked into memory (Linux's
//! `populate_rootfs` into ramfs), read-only afterwards. Enough for `ls`,
//! `cat` and `insmod /lib/modules/hello.ko`.
//!
//! # Where file contents live
//!
//! As in Linux's ramfs, whose files are nothing but their page-cache pages,
//! a file is a list of page frames from the buddy allocator
//! ([`FileData::pages`]), not a heap buffer: highmem pages are welcome, and
//! a file of any size needs no contiguous memory (a 4.7 MB file as one
//! `Vec<u8>` is more than the largest block the kmalloc heap can get, and
//! used to stop the boot). Unpacking copies each file from the initrd page
//! by page; every allocation on the way — names, the page list, the pages —
//! is fallible. A file that does not fit is reported and skipped, its pages
//! given back, and the boot goes on, like Linux's "Initramfs unpacking
//! failed: write error" except that the other files are still unpacked.
//!
//! # Reading (the kernel side, `fs/kernel.rs`)
//!
//! - `with_file` hands a closure the whole file as one `&[u8]`: the
//!   file's pages are `vmap`ed read-only for the duration of the call (the
//!   module loader wants contiguous bytes), then unmapped.
//! - `read_file_pages` hands it one page at a time through `kmap_atomic`
//!   (`cat`): nothing is mapped or copied as a whole.
//!
//! Neither leaves anything behind: free pages and vm areas are the same
//! after each call as before.
//!
//! The tree is sealed once the initramfs is unpacked ([`RamFs::seal`]):
//! nothing is removed or replaced afterwards, so a file's pages stay valid
//! while a reader uses them without holding the lock.

pub mod cpio;

use crate::errno::Errno;
use crate::sync::Mutex;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use kobold_layout::PAGE_SIZE;

/// kobold-layout's `PAGE_SIZE` as a length: file sizes and slices are
/// `usize`.
const PAGE: usize = PAGE_SIZE as usize;

/// A page frame number.
pub type Pfn = u32;

/// Where file pages come from: the buddy allocator in the kernel, a fake in
/// the host tests.
pub trait PageStore {
    /// One page (highmem allowed), or `None` when memory is short.
    fn alloc(&mut self) -> Option<Pfn>;
    /// Gives back a page from [`PageStore::alloc`].
    fn free(&mut self, pfn: Pfn);
    /// Copies `data` (at most a page) to the start of page `pfn` and clears
    /// the rest of the page.
    fn write(&mut self, pfn: Pfn, data: &[u8]) -> Result<(), Errno>;
    /// Calls `f` with the first `len` (at most a page) bytes of page `pfn`.
    fn read(&mut self, pfn: Pfn, len: usize, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno>;
}

/// A regular file's contents: `len` bytes in `pages`, in order; the last
/// page's tail is zero.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileData {
    len: usize,
    pages: Vec<Pfn>,
}

impl FileData {
    /// Copies `data` into pages from `store`. On failure every page taken so
    /// far is given back.
    pub fn copy_from(data: &[u8], store: &mut dyn PageStore) -> Result<FileData, Errno> {
        let mut pages = Vec::new();
        pages
            .try_reserve_exact(data.len().div_ceil(PAGE))
            .map_err(|_| Errno::ENOMEM)?;
        let mut file = FileData { len: 0, pages };
        for chunk in data.chunks(PAGE) {
            let Some(pfn) = store.alloc() else {
                file.release(store);
                return Err(Errno::ENOMEM);
            };
            file.pages.push(pfn); // within the capacity reserved
            if let Err(e) = store.write(pfn, chunk) {
                file.release(store);
                return Err(e);
            }
        }
        file.len = data.len();
        Ok(file)
    }

    /// Gives every page back; the file is empty afterwards.
    pub fn release(&mut self, store: &mut dyn PageStore) {
        for pfn in self.pages.drain(..) {
            store.free(pfn);
        }
        self.len = 0;
    }

    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The page frames holding the contents, in order.
    pub fn pages(&self) -> &[Pfn] {
        &self.pages
    }

    /// Calls `f` with each page's share of the contents, in order.
    pub fn for_each_page(
        &self,
        store: &mut dyn PageStore,
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Errno> {
        for (i, &pfn) in self.pages.iter().enumerate() {
            let len = (self.len - i * PAGE).min(PAGE);
            store.read(pfn, len, f)?;
        }
        Ok(())
    }
}

/// A file or a directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Node {
    File(FileData),
    Dir,
}

/// What unpacking an archive did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unpacked {
    /// Regular files now in the tree.
    pub files: usize,
    /// Entries that could not be stored (out of memory).
    pub skipped: usize,
}

/// Why [`RamFs::unpack`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnpackError {
    /// The archive is damaged (what came before the damage is kept).
    Archive(cpio::CpioError),
    /// The tree is sealed: the rootfs is read-only after boot.
    Sealed,
}

impl core::fmt::Display for UnpackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            UnpackError::Archive(e) => write!(f, "{e}"),
            UnpackError::Sealed => f.write_str("rootfs is read-only"),
        }
    }
}

/// Absolute, normalised path -> node, sorted by path (so a directory's
/// entries are consecutive).
pub struct RamFs {
    nodes: Vec<(String, Node)>,
    sealed: bool,
}

impl Default for RamFs {
    fn default() -> Self {
        Self::new()
    }
}

/// `/a//b/./c/` -> `/a/b/c`; `..` is refused (`ENOENT`), and so is a path
/// whose normalised copy cannot be allocated (`ENOMEM`).
pub fn normalize(path: &str) -> Result<String, Errno> {
    let mut out = String::new();
    // The result is never longer than the path plus a leading '/'.
    out.try_reserve_exact(path.len() + 1)
        .map_err(|_| Errno::ENOMEM)?;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(Errno::ENOENT),
            p => {
                out.push('/');
                out.push_str(p);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// A copy of `s`, or `ENOMEM`.
fn try_string(s: &str) -> Result<String, Errno> {
    let mut out = String::new();
    out.try_reserve_exact(s.len()).map_err(|_| Errno::ENOMEM)?;
    out.push_str(s);
    Ok(out)
}

impl RamFs {
    pub const fn new() -> Self {
        RamFs {
            nodes: Vec::new(),
            sealed: false,
        }
    }

    fn find(&self, path: &str) -> Result<usize, usize> {
        self.nodes.binary_search_by(|(p, _)| p.as_str().cmp(path))
    }

    /// Looks up a normalised path.
    fn get(&self, path: &str) -> Option<&Node> {
        self.find(path).ok().map(|i| &self.nodes[i].1)
    }

    /// Adds `node` at `path` (normalised); an existing node is replaced and
    /// its pages go back to `store`, unless `keep` is set, when the existing
    /// node stays and `node` is given back.
    fn insert(
        &mut self,
        path: &str,
        mut node: Node,
        keep: bool,
        store: &mut dyn PageStore,
    ) -> Result<(), Errno> {
        let drop_node = |n: &mut Node, store: &mut dyn PageStore| {
            if let Node::File(f) = n {
                f.release(store);
            }
        };
        match self.find(path) {
            Ok(_) if keep => {
                drop_node(&mut node, store);
                Ok(())
            }
            Ok(i) => {
                let old = &mut self.nodes[i].1;
                drop_node(old, store);
                *old = node;
                Ok(())
            }
            Err(i) => {
                let name = match try_string(path) {
                    Ok(n) => n,
                    Err(e) => {
                        drop_node(&mut node, store);
                        return Err(e);
                    }
                };
                if self.nodes.try_reserve(1).is_err() {
                    drop_node(&mut node, store);
                    return Err(Errno::ENOMEM);
                }
                self.nodes.insert(i, (name, node)); // within the capacity reserved
                Ok(())
            }
        }
    }

    /// Stores one archive member at its normalised path, parents first.
    fn add_entry(&mut self, e: &cpio::Entry<'_>, store: &mut dyn PageStore) -> Result<bool, Errno> {
        let path = match normalize(e.name) {
            Ok(p) => p,
            Err(Errno::ENOENT) => return Ok(false), // a `..` path: ignored
            Err(e) => return Err(e),
        };
        // Parents exist implicitly.
        let mut at = 0;
        while let Some(i) = path.get(at + 1..).and_then(|rest| rest.find('/')) {
            at += i + 1;
            self.insert(&path[..at], Node::Dir, true, store)?;
        }
        match e.mode & cpio::S_IFMT {
            cpio::S_IFDIR => self.insert(&path, Node::Dir, false, store).map(|()| false),
            cpio::S_IFREG => {
                let data = FileData::copy_from(e.data, store)?;
                self.insert(&path, Node::File(data), false, store)
                    .map(|()| true)
            }
            _ => Ok(false), // devices, symlinks: not kept
        }
    }

    /// Unpacks a newc archive, copying each file into pages from `store`.
    /// A member that cannot be stored is reported to `skipped` (its path and
    /// why) and left out; a damaged archive stops the unpacking with an
    /// error, keeping what came before it (as Linux does). Refused once the
    /// tree is sealed.
    pub fn unpack(
        &mut self,
        archive: &[u8],
        store: &mut dyn PageStore,
        skipped: &mut dyn FnMut(&str, Errno),
    ) -> Result<Unpacked, UnpackError> {
        if self.sealed {
            return Err(UnpackError::Sealed);
        }
        let mut done = Unpacked::default();
        if let Err(e) = self.insert("/", Node::Dir, true, store) {
            skipped("/", e);
        }
        for e in cpio::entries(archive) {
            let e = e.map_err(UnpackError::Archive)?;
            match self.add_entry(&e, store) {
                Ok(_) => {}
                Err(err) => {
                    done.skipped += 1;
                    skipped(e.name, err);
                }
            }
        }
        done.files = self.file_count();
        Ok(done)
    }

    /// No more unpacking: from now on nodes are never removed or replaced,
    /// so a file's pages outlive any lock.
    pub fn seal(&mut self) {
        self.sealed = true;
    }

    /// The regular file at `path`.
    pub fn file(&self, path: &str) -> Result<&FileData, Errno> {
        match self.get(&normalize(path)?) {
            Some(Node::File(d)) => Ok(d),
            Some(Node::Dir) => Err(Errno::EISDIR),
            None => Err(Errno::ENOENT),
        }
    }

    /// Writes `ls PATH` output: a directory's entries one per line (busybox
    /// `ls -1`), directories with a trailing `/`, files with their size, or
    /// the file's own name.
    pub fn list(&self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
        let p = normalize(path)?;
        if let Some(Node::File(_)) = self.get(&p) {
            return writeln!(out, "{path}").map_err(|_| Errno::EIO);
        }
        let mut res = Ok(());
        self.entries(path, &mut |rest, file| {
            res = match file {
                None => writeln!(out, "{rest}/"),
                Some(d) => writeln!(out, "{rest}  ({} bytes)", d.len()),
            };
            res.is_ok()
        })?;
        res.map_err(|_| Errno::EIO)
    }

    /// Calls `f` with each entry of directory `path` (its name, and its
    /// data if it is a regular file), in name order, until `f` returns
    /// `false`. Errors: `ENOENT`, `ENOTDIR`.
    pub fn entries(
        &self,
        path: &str,
        f: &mut dyn FnMut(&str, Option<&FileData>) -> bool,
    ) -> Result<(), Errno> {
        let p = normalize(path)?;
        match self.get(&p) {
            None => Err(Errno::ENOENT),
            Some(Node::File(_)) => Err(Errno::ENOTDIR),
            Some(Node::Dir) => {
                let prefix = p.as_str().trim_end_matches('/');
                let start = self.nodes.partition_point(|(n, _)| n.as_str() <= prefix);
                // Every path starting with `prefix` is in this run (sorted);
                // `/lib-x` sorts between `/lib` and `/lib/...`: skipped.
                for (name, node) in &self.nodes[start..] {
                    let Some(after) = name.strip_prefix(prefix) else {
                        break;
                    };
                    let Some(rest) = after.strip_prefix('/') else {
                        continue;
                    };
                    if rest.is_empty() || rest.contains('/') {
                        continue;
                    }
                    let data = match node {
                        Node::Dir => None,
                        Node::File(d) => Some(d),
                    };
                    if !f(rest, data) {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// Regular files in the tree (what [`RamFs::unpack`] reports).
    fn file_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|(_, n)| matches!(n, Node::File(_)))
            .count()
    }

    /// Pages held by all files.
    pub fn page_count(&self) -> usize {
        self.nodes
            .iter()
            .map(|(_, n)| match n {
                Node::File(f) => f.pages().len(),
                Node::Dir => 0,
            })
            .sum()
    }
}

/// The root filesystem.
pub static ROOTFS: Mutex<RamFs> = Mutex::new(RamFs::new());

#[cfg(target_arch = "arm")]
mod kernel;
#[cfg(target_arch = "arm")]
pub use kernel::{BuddyPages, entries, list, populate, read_file_pages, with_file};

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Pages in a map, with a limit on how many may be taken.
    #[derive(Default)]
    struct FakePages {
        pages: HashMap<Pfn, Vec<u8>>,
        next: Pfn,
        limit: usize,
        allocs: usize,
    }

    impl FakePages {
        fn with_limit(limit: usize) -> Self {
            FakePages {
                limit,
                ..Default::default()
            }
        }
    }

    impl PageStore for FakePages {
        fn alloc(&mut self) -> Option<Pfn> {
            if self.pages.len() == self.limit {
                return None;
            }
            self.next += 1;
            self.allocs += 1;
            self.pages.insert(self.next, vec![0xee; PAGE]);
            Some(self.next)
        }
        fn free(&mut self, pfn: Pfn) {
            assert!(self.pages.remove(&pfn).is_some(), "double free of {pfn}");
        }
        fn write(&mut self, pfn: Pfn, data: &[u8]) -> Result<(), Errno> {
            let page = self.pages.get_mut(&pfn).ok_or(Errno::EFAULT)?;
            assert!(data.len() <= PAGE);
            page.fill(0);
            page[..data.len()].copy_from_slice(data);
            Ok(())
        }
        fn read(&mut self, pfn: Pfn, len: usize, f: &mut dyn FnMut(&[u8])) -> Result<(), Errno> {
            f(&self.pages.get(&pfn).ok_or(Errno::EFAULT)?[..len]);
            Ok(())
        }
    }

    fn contents(fs: &RamFs, path: &str, store: &mut FakePages) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut pieces = 0;
        fs.file(path)?.for_each_page(store, &mut |p| {
            out.extend_from_slice(p);
            pieces += 1;
        })?;
        assert_eq!(pieces, fs.file(path)?.pages().len());
        Ok(out)
    }

    fn unpack(fs: &mut RamFs, a: &[u8], store: &mut FakePages) -> (Unpacked, Vec<String>) {
        let mut skipped = Vec::new();
        let r = fs
            .unpack(a, store, &mut |p, e| {
                skipped.push(format!("{p}: {}", e.name()))
            })
            .unwrap();
        (r, skipped)
    }

    #[test]
    fn unpack_read_list() {
        let a = cpio::build(&[
            ("lib/modules/hello.ko", cpio::S_IFREG | 0o644, b"abc"),
            ("./etc/", cpio::S_IFDIR | 0o755, b""),
            ("dev/console", 0o020600, b""),
            ("lib-x", cpio::S_IFREG | 0o644, b""),
            ("../evil", cpio::S_IFREG | 0o644, b"x"),
        ]);
        let mut store = FakePages::with_limit(100);
        let mut fs = RamFs::new();
        let (r, skipped) = unpack(&mut fs, &a, &mut store);
        assert_eq!(
            r,
            Unpacked {
                files: 2,
                skipped: 0
            }
        );
        assert!(skipped.is_empty());
        let c = |fs: &RamFs, p, s: &mut FakePages| contents(fs, p, s);
        assert_eq!(
            c(&fs, "/lib/modules/hello.ko", &mut store),
            Ok(b"abc".to_vec())
        );
        assert_eq!(
            c(&fs, "lib//modules/./hello.ko", &mut store),
            Ok(b"abc".to_vec())
        );
        assert_eq!(c(&fs, "/lib-x", &mut store), Ok(Vec::new()));
        assert_eq!(fs.file("/lib").err(), Some(Errno::EISDIR));
        assert_eq!(fs.file("/nope").err(), Some(Errno::ENOENT));
        assert_eq!(fs.file("/lib/../etc").err(), Some(Errno::ENOENT));
        assert_eq!(fs.page_count(), 1);
        assert_eq!(store.pages.len(), 1);
        let mut s = String::new();
        fs.list("/", &mut s).unwrap();
        assert_eq!(s, "dev/\netc/\nlib/\nlib-x  (0 bytes)\n");
        let mut s = String::new();
        fs.list("/lib/modules/", &mut s).unwrap();
        assert_eq!(s, "hello.ko  (3 bytes)\n");
        let mut s = String::new();
        fs.list("/lib", &mut s).unwrap();
        assert_eq!(s, "modules/\n");
        let mut s = String::new();
        fs.list("/lib/modules/hello.ko", &mut s).unwrap();
        assert_eq!(s, "/lib/modules/hello.ko\n");
        assert_eq!(fs.list("/x", &mut s), Err(Errno::ENOENT));
    }

    #[test]
    fn files_span_pages_and_end_with_a_partial_page() {
        let big: Vec<u8> = (0..3 * PAGE + 123).map(|i| (i * 7 % 251) as u8).collect();
        let exact = vec![0x5a; 2 * PAGE];
        let a = cpio::build(&[
            ("big.bin", cpio::S_IFREG | 0o644, &big),
            ("exact.bin", cpio::S_IFREG | 0o644, &exact),
        ]);
        let mut store = FakePages::with_limit(100);
        let mut fs = RamFs::new();
        unpack(&mut fs, &a, &mut store);
        let f = fs.file("/big.bin").unwrap();
        assert_eq!((f.len(), f.pages().len()), (big.len(), 4));
        assert_eq!(contents(&fs, "/big.bin", &mut store), Ok(big));
        // The last page's tail is cleared, not left as the allocator gave it.
        let last = *f.pages().last().unwrap();
        assert!(store.pages[&last][123..].iter().all(|&b| b == 0));
        assert_eq!(fs.file("/exact.bin").unwrap().pages().len(), 2);
        assert_eq!(contents(&fs, "/exact.bin", &mut store), Ok(exact));
        assert_eq!(store.pages.len(), 6);
    }

    #[test]
    fn out_of_pages_skips_the_file_and_gives_its_pages_back() {
        let small = b"fits".to_vec();
        let huge = vec![1u8; 10 * PAGE];
        let a = cpio::build(&[
            ("a.ko", cpio::S_IFREG | 0o644, &small),
            ("data/huge.bin", cpio::S_IFREG | 0o644, &huge),
            ("z.ko", cpio::S_IFREG | 0o644, &small),
        ]);
        let mut store = FakePages::with_limit(5);
        let mut fs = RamFs::new();
        let (r, skipped) = unpack(&mut fs, &a, &mut store);
        assert_eq!(
            r,
            Unpacked {
                files: 2,
                skipped: 1
            }
        );
        assert_eq!(skipped, ["data/huge.bin: ENOMEM"]);
        // The partial copy went back; the files before and after are there.
        assert_eq!(store.pages.len(), 2);
        assert_eq!(fs.page_count(), 2);
        assert!(store.allocs > 2, "the big file was attempted");
        assert_eq!(fs.file("/data/huge.bin").err(), Some(Errno::ENOENT));
        assert_eq!(contents(&fs, "/z.ko", &mut store), Ok(small));
        // Its directory was made before the copy failed.
        let mut s = String::new();
        fs.list("/data", &mut s).unwrap();
        assert_eq!(s, "");
    }

    #[test]
    fn replacing_a_file_frees_the_old_pages_and_sealing_stops_unpacking() {
        let a = cpio::build(&[
            ("f", cpio::S_IFREG | 0o644, &[1u8; PAGE + 1]),
            ("f", cpio::S_IFREG | 0o644, b"new"),
        ]);
        let mut store = FakePages::with_limit(100);
        let mut fs = RamFs::new();
        unpack(&mut fs, &a, &mut store);
        assert_eq!(contents(&fs, "/f", &mut store), Ok(b"new".to_vec()));
        assert_eq!(store.pages.len(), 1);
        fs.seal();
        assert_eq!(
            fs.unpack(&a, &mut store, &mut |_, _| {}),
            Err(UnpackError::Sealed)
        );
        assert_eq!(store.pages.len(), 1);
    }

    #[test]
    fn damaged_archive_keeps_what_came_before() {
        let mut a = cpio::build(&[
            ("one", cpio::S_IFREG | 0o644, b"1"),
            ("two", cpio::S_IFREG | 0o644, b"2"),
        ]);
        // Break the second header's magic.
        let second = a.windows(6).rposition(|w| w == b"070701").unwrap();
        let second = a[..second]
            .windows(6)
            .rposition(|w| w == b"070701")
            .unwrap();
        a[second] = b'X';
        let mut store = FakePages::with_limit(100);
        let mut fs = RamFs::new();
        assert!(fs.unpack(&a, &mut store, &mut |_, _| {}).is_err());
        assert_eq!(contents(&fs, "/one", &mut store), Ok(b"1".to_vec()));
        assert_eq!(fs.file("/two").err(), Some(Errno::ENOENT));
    }

    #[test]
    fn normalize_paths() {
        assert_eq!(normalize("/a//b/./c/").as_deref(), Ok("/a/b/c"));
        assert_eq!(normalize("").as_deref(), Ok("/"));
        assert_eq!(normalize("./").as_deref(), Ok("/"));
        assert_eq!(normalize("a/../b"), Err(Errno::ENOENT));
    }
}
