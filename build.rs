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
    let mut build = cc::Build::new();
    let cuda = cuda_include(&lib);
    if let Some(cuda) = &cuda {
        build.include(cuda).define("NRUN_CUDA_GRAPHS", None);
    }
    build
        .cpp(true)
        .pic(true)
        .warnings(false)
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        // As torch-sys compiles its own wrapper.
        .flag("-DGLOG_USE_GLOG_EXPORT")
        // As libtorch itself was built: its headers' debug-only checks read
        // state that a release libtorch never sets (RecordFunction's
        // `inputs_valid_`, which the operator census's inputs would trip).
        .define("NDEBUG", None)
        .file("src/ot/torch_shim.cpp")
        .compile("nrun_torch_shim");
    if cuda.is_some() {
        // After the shim on the link line, which needs them (torch-sys
        // names torch_cuda before it, where `--as-needed` may drop it).
        println!("cargo:rustc-link-lib=dylib=torch_cuda");
        println!("cargo:rustc-link-lib=dylib=c10_cuda");
    }
}

/// CUDA's runtime headers, which libtorch's CUDA graph header includes,
/// for a libtorch built with CUDA: `NRUN_CUDA_INCLUDE`, else where PyPI's
/// torch has pip put them (the `nvidia` and `triton` packages beside
/// `torch`), else a CUDA toolkit's. Without them the shim is built without CUDA graphs.
/// Triton's copy may be of another CUDA release than libtorch's (12.8 beside
/// torch's CUDA 13): the shim takes only types and an enum from it and calls
/// no CUDA function itself, only libtorch's, so any release 11 or later serves.
fn cuda_include(lib: &std::path::Path) -> Option<std::path::PathBuf> {
    println!("cargo:rerun-if-env-changed=NRUN_CUDA_INCLUDE");
    println!("cargo:rerun-if-env-changed=CUDA_HOME");
    if !lib.join("libtorch_cuda.so").exists() {
        return None;
    }
    let mut candidates: Vec<std::path::PathBuf> = Vec::new();
    candidates.extend(std::env::var_os("NRUN_CUDA_INCLUDE").map(Into::into));
    if let Some(site_packages) = lib.parent().and_then(|torch| torch.parent()) {
        for package in [
            "nvidia/cuda_runtime/include",
            "nvidia/cu13/include",
            // Triton's copy, which has the `crt/` headers the others lack.
            "triton/backends/nvidia/include",
        ] {
            candidates.push(site_packages.join(package));
        }
    }
    candidates
        .extend(std::env::var_os("CUDA_HOME").map(|h| std::path::Path::new(&h).join("include")));
    candidates.push("/usr/local/cuda/include".into());
    candidates.into_iter().find(|dir| {
        dir.join("cuda_runtime_api.h").exists() && dir.join("crt/host_defines.h").exists()
    })
}
