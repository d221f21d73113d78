//! Build script: one linker flag for the shipped binary.
//!
//! `-z pack-relative-relocs` (DT_RELR: GNU ld 2.38+, glibc 2.36+) packs the
//! position-independent binary's relative relocations, which took 31 KB of
//! its 1,030 KB as `.rela.dyn` entries of 24 bytes each, into a bitmap of a
//! few hundred bytes. The binary stays PIE (ASLR); it then needs glibc 2.36
//! or later (Debian 12, Ubuntu 22.10), which the .deb's Depends says.
//! OPENRTC_TOP_NO_RELR=1 leaves the flag out for an older toolchain.

fn main() {
    println!("cargo:rerun-if-env-changed=OPENRTC_TOP_NO_RELR");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|o| o == "linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|e| e == "gnu");
    if linux_gnu && std::env::var_os("OPENRTC_TOP_NO_RELR").is_none() {
        println!("cargo:rustc-link-arg-bin=openrtc-top=-Wl,-z,pack-relative-relocs");
    }
}
