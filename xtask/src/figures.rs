//! Figures of the built sample modules that QEMU cases expect to see.
//!
//! What a module's `.ko` weighs, how big its core region is and where its
//! functions land depend on the compiler that built it: a case that wrote
//! `hello 12288 0 - Live 0xbf000000` would pass with one GCC and fail with
//! the next. So such expectations are templates ([`crate::harness::Check::computed`])
//! whose placeholders are filled here, from the files in
//! [`crate::modules::OUT_DIR`], by the same loader the kernel uses
//! (`kobold_loader::validate` and `layout::layout`). The kernel must then
//! print what the loader's plan says — which is the point of the check.
//!
//! Placeholders (`M` a module name, `S` a symbol, `A+B` module names):
//!
//! | placeholder        | value                                                     |
//! |--------------------|-----------------------------------------------------------|
//! | `{filesize:M}`     | bytes of `M.ko` (`ls`), decimal                           |
//! | `{size:M}`         | `M`'s size in /proc/modules and lsmod once init is freed: its core region (Linux's `core_size`), decimal |
//! | `{area:M}`         | its vmalloc area: the core region plus the guard page, decimal |
//! | `{pages:M}`        | pages of the core region (vmallocinfo's `pages=`), decimal |
//! | `{after:A+B}`      | where a module loads after `A` and `B` (in that order, init regions freed): `MODULES_VADDR` plus their areas, 8 hex digits |
//! | `{addr:M:S}`       | `S`'s address in `M`'s core region, `M` loaded at `MODULES_VADDR`, 8 hex digits |
//! | `{addr:M:S@A+B}`   | the same with `M` loaded at `{after:A+B}`                 |
//! | `{symsize:M:S}`    | `S`'s `st_size` (kallsyms' `+0x0/0x…`), hex               |
//!
//! The `{after:…}` addresses follow from the module window being first-fit
//! (Linux's `module_alloc` is `__vmalloc_node_range` over it): each module's
//! core is allocated first, its init region right after, and the init region
//! is freed once `init_module` returns, so the next module's core takes its
//! place.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kobold_layout::{MODULES_VADDR, PAGE_SIZE};

/// One placeholder, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key<'a> {
    FileSize(&'a str),
    Size(&'a str),
    Area(&'a str),
    Pages(&'a str),
    After(Vec<&'a str>),
    Addr {
        module: &'a str,
        symbol: &'a str,
        after: Vec<&'a str>,
    },
    SymSize(&'a str, &'a str),
}

fn names(list: &str) -> Vec<&str> {
    list.split('+').filter(|s| !s.is_empty()).collect()
}

impl<'a> Key<'a> {
    fn parse(key: &'a str) -> Result<Key<'a>, String> {
        let (kind, args) = key
            .split_once(':')
            .ok_or_else(|| format!("placeholder `{{{key}}}` has no `kind:`"))?;
        let one = |k: fn(&'a str) -> Key<'a>| {
            if args.is_empty() || args.contains([':', '+', '@']) {
                Err(format!("`{{{key}}}`: `{kind}:` takes one module name"))
            } else {
                Ok(k(args))
            }
        };
        let symbol = || {
            args.split_once(':')
                .filter(|(m, s)| !m.is_empty() && !s.is_empty())
                .ok_or_else(|| format!("`{{{key}}}`: `{kind}:` takes MODULE:SYMBOL"))
        };
        match kind {
            "filesize" => one(Key::FileSize),
            "size" => one(Key::Size),
            "area" => one(Key::Area),
            "pages" => one(Key::Pages),
            "after" => Ok(Key::After(names(args))),
            "addr" => {
                let (module, rest) = symbol()?;
                let (symbol, after) = rest.split_once('@').unwrap_or((rest, ""));
                Ok(Key::Addr {
                    module,
                    symbol,
                    after: names(after),
                })
            }
            "symsize" => {
                let (m, s) = symbol()?;
                Ok(Key::SymSize(m, s))
            }
            _ => Err(format!("`{{{key}}}`: unknown placeholder kind `{kind}`")),
        }
    }
}

/// Checks a placeholder's syntax without reading any file (for the case
/// table's own test).
pub fn check_syntax(key: &str) -> Result<(), String> {
    Key::parse(key).map(|_| ())
}

/// What one module file says.
#[derive(Clone, Debug)]
struct Module {
    file_size: u64,
    core_size: u32,
    /// Symbol name -> (offset in the core region, or `None` if not in it;
    /// `st_size`).
    symbols: HashMap<String, (Option<u32>, u32)>,
}

impl Module {
    fn read(path: &Path) -> Result<Module, String> {
        let data = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let m = kobold_loader::validate(&data).map_err(|e| format!("{}: {e}", path.display()))?;
        let l =
            kobold_loader::layout::layout(&m).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut symbols = HashMap::new();
        for s in &m.symbols {
            let offset = l
                .placements
                .get(s.shndx as usize)
                .copied()
                .flatten()
                .filter(|p| p.region == kobold_loader::layout::Region::Core)
                .map(|p| (p.offset + s.value) & !1);
            symbols
                .entry(s.name.to_string())
                .or_insert((offset, s.size));
        }
        Ok(Module {
            file_size: data.len() as u64,
            core_size: l.core_size,
            symbols,
        })
    }

    fn symbol(&self, name: &str, symbol: &str) -> Result<(Option<u32>, u32), String> {
        self.symbols
            .get(symbol)
            .copied()
            .ok_or_else(|| format!("{name}.ko has no symbol `{symbol}`"))
    }
}

/// The built modules, read on first use.
pub struct Figures {
    dir: PathBuf,
    modules: Mutex<HashMap<String, Module>>,
}

impl Figures {
    /// The modules in `root`'s [`crate::modules::OUT_DIR`].
    pub fn new(root: &Path) -> Figures {
        Figures::in_dir(root.join(crate::modules::OUT_DIR))
    }

    pub fn in_dir(dir: PathBuf) -> Figures {
        Figures {
            dir,
            modules: Mutex::new(HashMap::new()),
        }
    }

    fn module(&self, name: &str) -> Result<Module, String> {
        let mut modules = self.modules.lock().map_err(|_| "figures lock poisoned")?;
        if let Some(m) = modules.get(name) {
            return Ok(m.clone());
        }
        let m = Module::read(&self.dir.join(format!("{name}.ko")))?;
        modules.insert(name.to_string(), m.clone());
        Ok(m)
    }

    fn area(&self, name: &str) -> Result<u32, String> {
        Ok(self.module(name)?.core_size + PAGE_SIZE)
    }

    fn after(&self, names: &[&str]) -> Result<u32, String> {
        names
            .iter()
            .try_fold(MODULES_VADDR, |at, n| Ok(at + self.area(n)?))
    }

    /// The value of the placeholder `{key}`.
    pub fn value(&self, key: &str) -> Result<String, String> {
        Ok(match Key::parse(key)? {
            Key::FileSize(m) => self.module(m)?.file_size.to_string(),
            Key::Size(m) => self.module(m)?.core_size.to_string(),
            Key::Area(m) => self.area(m)?.to_string(),
            Key::Pages(m) => (self.module(m)?.core_size / PAGE_SIZE).to_string(),
            Key::After(names) => format!("{:08x}", self.after(&names)?),
            Key::Addr {
                module,
                symbol,
                after,
            } => {
                let (offset, _) = self.module(module)?.symbol(module, symbol)?;
                let offset = offset
                    .ok_or_else(|| format!("`{symbol}` is not in {module}.ko's core region"))?;
                format!("{:08x}", self.after(&after)? + offset)
            }
            Key::SymSize(m, s) => format!("{:x}", self.module(m)?.symbol(m, s)?.1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_syntax() {
        assert_eq!(Key::parse("size:hello"), Ok(Key::Size("hello")));
        assert_eq!(Key::parse("after:"), Ok(Key::After(vec![])));
        assert_eq!(
            Key::parse("after:hello+provider"),
            Ok(Key::After(vec!["hello", "provider"]))
        );
        assert_eq!(
            Key::parse("addr:provider:provider_add@hello"),
            Ok(Key::Addr {
                module: "provider",
                symbol: "provider_add",
                after: vec!["hello"]
            })
        );
        assert_eq!(
            Key::parse("symsize:hello:hello_init"),
            Ok(Key::SymSize("hello", "hello_init"))
        );
        for bad in [
            "size",
            "size:",
            "size:a:b",
            "bogus:x",
            "addr:hello",
            "symsize::x",
        ] {
            assert!(Key::parse(bad).is_err(), "{bad}");
        }
    }

    /// A module with a function in .text and one in .init.text, written
    /// by the `object` crate.
    fn module_file(dir: &Path) {
        use object::write::{Object, Symbol, SymbolSection};
        use object::{
            Architecture, BinaryFormat, Endianness, SectionKind, SymbolFlags, SymbolKind,
            SymbolScope,
        };
        let mut o = Object::new(BinaryFormat::Elf, Architecture::Arm, Endianness::Little);
        let text = o.add_section(vec![], b".text".to_vec(), SectionKind::Text);
        o.append_section_data(text, &[0u8; 0x20], 4);
        let init = o.add_section(vec![], b".init.text".to_vec(), SectionKind::Text);
        o.append_section_data(init, &[0u8; 8], 4);
        let modinfo = o.add_section(vec![], b".modinfo".to_vec(), SectionKind::ReadOnlyString);
        o.append_section_data(modinfo, b"name=tiny\0license=GPL\0", 1);
        let sym = |name: &str, section, value, size| Symbol {
            name: name.as_bytes().to_vec(),
            value,
            size,
            kind: SymbolKind::Text,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        };
        o.add_symbol(sym("tiny_fn", text, 0x10, 0x10));
        o.add_symbol(sym("tiny_init", init, 0, 8));
        std::fs::write(dir.join("tiny.ko"), o.write().unwrap()).unwrap();
    }

    #[test]
    fn values_from_a_module_file() {
        let dir = std::env::temp_dir().join(format!("kobold-figures-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        module_file(&dir);
        let f = Figures::in_dir(dir.clone());
        let file_size = std::fs::metadata(dir.join("tiny.ko")).unwrap().len();
        assert_eq!(f.value("filesize:tiny").unwrap(), file_size.to_string());
        assert_eq!(f.value("size:tiny").unwrap(), "4096");
        assert_eq!(f.value("area:tiny").unwrap(), "8192");
        assert_eq!(f.value("pages:tiny").unwrap(), "1");
        assert_eq!(f.value("after:").unwrap(), "bf000000");
        assert_eq!(f.value("after:tiny+tiny").unwrap(), "bf004000");
        let text = f.value("addr:tiny:tiny_fn").unwrap();
        let text = u32::from_str_radix(&text, 16).unwrap();
        assert_eq!(
            text & 0xf,
            0,
            "{text:#x}: .text is 4-aligned, tiny_fn at 0x10"
        );
        assert!((0xbf000010..0xbf001000).contains(&text), "{text:#x}");
        assert_eq!(
            f.value("addr:tiny:tiny_fn@tiny").unwrap(),
            format!("{:08x}", text + 0x2000)
        );
        assert_eq!(f.value("symsize:tiny:tiny_fn").unwrap(), "10");
        assert_eq!(f.value("symsize:tiny:tiny_init").unwrap(), "8");
        let err = f.value("addr:tiny:tiny_init").unwrap_err();
        assert!(err.contains("not in tiny.ko's core region"), "{err}");
        let err = f.value("addr:tiny:nope").unwrap_err();
        assert!(err.contains("no symbol `nope`"), "{err}");
        assert!(f.value("size:absent").unwrap_err().contains("absent.ko"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
