//! uniffi's generator, built from the same uniffi version as `gridpatrol-ffi` so the bindings
//! always match the library they load (`bindings/generate.sh` runs it in library mode).

fn main() {
    uniffi::uniffi_bindgen_main()
}
