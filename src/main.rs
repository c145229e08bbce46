//! The `nocmap` binary: parses the command line and hands over to `nocmap::cli`.
fn main() -> std::process::ExitCode {
    nocmap::cli::main()
}
