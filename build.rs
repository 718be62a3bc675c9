//! The tch build's C++ shim (src/ot/torch_shim.cpp), compiled against the
//! libtorch that torch-sys found (it passes its lib folder to direct
//! dependents as DEP_TCH_LIBTORCH_LIB).

fn main() {
    println!("cargo:rerun-if-changed=src/ot/torch_shim.cpp");
    if std::env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    let lib = std::path::PathBuf::from(
        std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys passes its libtorch folder"),
    );
    // torch-sys's own override of the headers' root, else next to lib/.
    println!("cargo:rerun-if-env-changed=LIBTORCH_INCLUDE");
    let include = match std::env::var_os("LIBTORCH_INCLUDE") {
        Some(root) => std::path::PathBuf::from(root).join("include"),
        None => lib
            .parent()
            .expect("libtorch's lib folder has a parent")
            .join("include"),
    };
    // The C++ ABI libtorch was built with; PyPI wheels since torch 2.7 use the new one.
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".into());
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    cc::Build::new()
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        // As torch-sys compiles its own wrapper.
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .file("src/ot/torch_shim.cpp")
        .compile("nrun_torch_shim");
}
