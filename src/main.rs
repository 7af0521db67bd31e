//! The `copkit` binary: the workbench with no subcommand, the headless core with one.

fn main() -> std::process::ExitCode {
    copkit::cli::main()
}
