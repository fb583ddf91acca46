//! Builds the libtorrent `bdecode` shim (shim/lt_bdecode.cpp) with the `cc`
//! crate and links libtorrent-rasterbar (flags from pkg-config).
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=shim/lt_bdecode.cpp");
    let out = Command::new("pkg-config")
        .args(["--cflags", "--libs", "libtorrent-rasterbar"])
        .output()
        .expect("pkg-config not found");
    assert!(
        out.status.success(),
        "libtorrent-rasterbar not found by pkg-config"
    );
    let flags = String::from_utf8(out.stdout).unwrap();
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file("shim/lt_bdecode.cpp")
        .flag("-std=c++17")
        .opt_level(3);
    for f in flags.split_whitespace() {
        if let Some(d) = f.strip_prefix("-D") {
            match d.split_once('=') {
                Some((k, v)) => build.define(k, v),
                None => build.define(d, None),
            };
        } else if let Some(i) = f.strip_prefix("-I") {
            build.include(i);
        } else if let Some(l) = f.strip_prefix("-l") {
            println!("cargo:rustc-link-lib={l}");
        } else if let Some(p) = f.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={p}");
        } else {
            build.flag(f);
        }
    }
    build.compile("lt_bdecode");
}
