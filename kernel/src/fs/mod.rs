//! A minimal rootfs: the initramfs unpacked into memory (Linux's
//! `populate_rootfs` into ramfs), read-only afterwards. Enough for `ls`,
//! `cat` and `insmod /lib/modules/hello.ko`.

pub mod cpio;

use crate::errno::Errno;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};
use spin::Mutex;

/// A file or a directory.
#[derive(Debug)]
pub enum Node {
    File(Vec<u8>),
    Dir,
}

/// Absolute, normalised path -> node.
pub struct RamFs {
    nodes: BTreeMap<String, Node>,
}

impl Default for RamFs {
    fn default() -> Self {
        Self::new()
    }
}

/// `/a//b/./c/` -> `/a/b/c`; `..` is refused (None).
pub fn normalize(path: &str) -> Option<String> {
    let mut out = String::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => {
                out.push('/');
                out.push_str(p);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

impl RamFs {
    pub const fn new() -> Self {
        RamFs {
            nodes: BTreeMap::new(),
        }
    }

    /// Unpacks a newc archive; returns the number of files.
    pub fn unpack(&mut self, archive: &[u8]) -> Result<usize, cpio::CpioError> {
        self.nodes.insert(String::from("/"), Node::Dir);
        let mut files = 0;
        for e in cpio::entries(archive) {
            let e = e?;
            let Some(path) = normalize(e.name) else {
                continue;
            };
            // Parents exist implicitly.
            let mut at = 0;
            while let Some(i) = path[at + 1..].find('/') {
                at += i + 1;
                self.nodes
                    .entry(String::from(&path[..at]))
                    .or_insert(Node::Dir);
            }
            match e.mode & cpio::S_IFMT {
                cpio::S_IFDIR => {
                    self.nodes.insert(path, Node::Dir);
                }
                cpio::S_IFREG => {
                    self.nodes.insert(path, Node::File(e.data.to_vec()));
                    files += 1;
                }
                _ => {} // devices, symlinks: not kept
            }
        }
        Ok(files)
    }

    pub fn read(&self, path: &str) -> Result<&[u8], Errno> {
        match self.nodes.get(&normalize(path).ok_or(Errno::ENOENT)?) {
            Some(Node::File(d)) => Ok(d),
            Some(Node::Dir) => Err(Errno::EISDIR),
            None => Err(Errno::ENOENT),
        }
    }

    /// Writes `ls PATH` output: a directory's entries one per line (busybox
    /// `ls -1`), directories with a trailing `/`, or the file's own name.
    pub fn list(&self, path: &str, out: &mut dyn Write) -> Result<(), Errno> {
        let p = normalize(path).ok_or(Errno::ENOENT)?;
        match self.nodes.get(&p) {
            None => Err(Errno::ENOENT),
            Some(Node::File(_)) => writeln!(out, "{path}").map_err(|_| Errno::EIO),
            Some(Node::Dir) => {
                let prefix = if p == "/" { String::from("/") } else { p + "/" };
                for (name, node) in self.nodes.range(prefix.clone()..) {
                    let Some(rest) = name.strip_prefix(prefix.as_str()) else {
                        break;
                    };
                    if rest.is_empty() || rest.contains('/') {
                        continue;
                    }
                    let r: fmt::Result = match node {
                        Node::Dir => writeln!(out, "{rest}/"),
                        Node::File(d) => writeln!(out, "{rest}  ({} bytes)", d.len()),
                    };
                    r.map_err(|_| Errno::EIO)?;
                }
                Ok(())
            }
        }
    }

    pub fn file_count(&self) -> usize {
        self.nodes
            .values()
            .filter(|n| matches!(n, Node::File(_)))
            .count()
    }
}

/// The root filesystem.
pub static ROOTFS: Mutex<RamFs> = Mutex::new(RamFs::new());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_read_list() {
        let a = cpio::build(&[
            ("lib/modules/hello.ko", cpio::S_IFREG | 0o644, b"abc"),
            ("./etc/", cpio::S_IFDIR | 0o755, b""),
            ("dev/console", 0o020600, b""),
        ]);
        let mut fs = RamFs::new();
        assert_eq!(fs.unpack(&a), Ok(1));
        assert_eq!(fs.read("/lib/modules/hello.ko"), Ok(&b"abc"[..]));
        assert_eq!(fs.read("lib//modules/./hello.ko"), Ok(&b"abc"[..]));
        assert_eq!(fs.read("/lib"), Err(Errno::EISDIR));
        assert_eq!(fs.read("/nope"), Err(Errno::ENOENT));
        assert_eq!(fs.read("/lib/../etc"), Err(Errno::ENOENT));
        let mut s = String::new();
        fs.list("/", &mut s).unwrap();
        assert_eq!(s, "dev/\netc/\nlib/\n");
        let mut s = String::new();
        fs.list("/lib/modules", &mut s).unwrap();
        assert_eq!(s, "hello.ko  (3 bytes)\n");
        assert_eq!(fs.list("/x", &mut s), Err(Errno::ENOENT));
    }
}
