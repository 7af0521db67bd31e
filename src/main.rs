//! The `copkit` binary: the workbench with no subcommand, the headless core with one.

/// See the `mimalloc` entry in Cargo.toml for why.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    copkit::cli::main()
}
