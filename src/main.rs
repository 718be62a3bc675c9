fn main() -> std::process::ExitCode {
    nrun::run(std::env::args_os())
}
