//! Links an allocation and an export, which needs std for wasm32 (build-std)
//! and a working wasm linker.

#[no_mangle]
pub extern "C" fn probe(n: u32) -> u32 {
    let v: Vec<u32> = (0..n).collect();
    v.iter().sum()
}
