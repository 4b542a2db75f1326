//! The `iocforge` binary: parse the command line and map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    iocforge::cli::main()
}

#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
