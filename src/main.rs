//! The `iocforge` binary: parse the command line and map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    iocforge::cli::main()
}
