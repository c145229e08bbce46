//! `nocmap gen-docs --out DIR` (hidden): the man pages (`nocmap.1` and one
//! `nocmap-SUBCOMMAND.1` each) and the bash, zsh and fish completions,
//! generated from the command definitions themselves, so the package's
//! documentation cannot drift from the flags. The Debian package build
//! runs it (`packaging/build-deb.sh`).
use anyhow::Context;
use clap::CommandFactory;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct GenDocsArgs {
    /// Directory to write `man/` and `completions/` into (created).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: GenDocsArgs) -> anyhow::Result<ExitCode> {
    let cmd = super::Cli::command();
    let man = args.out.join("man");
    let completions = args.out.join("completions");
    for dir in [&man, &completions] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_pages(&man, "nocmap", "nocmap", cmd.clone())?;
    use clap_complete::Shell;
    for (shell, file) in [
        (Shell::Bash, "nocmap"),
        (Shell::Zsh, "_nocmap"),
        (Shell::Fish, "nocmap.fish"),
    ] {
        let path = completions.join(file);
        let mut out = std::fs::File::create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        clap_complete::generate(shell, &mut cmd.clone(), "nocmap", &mut out);
    }
    Ok(ExitCode::SUCCESS)
}

/// The page of `cmd` (named `page`, invoked as `invoked`) and, below it, one
/// page per visible subcommand: `nocmap-topo-path.1` for `nocmap topo path`.
fn write_pages(dir: &Path, page: &str, invoked: &str, cmd: clap::Command) -> anyhow::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        let sub = sub.clone().name(format!("{page}-{name}"));
        write_pages(
            dir,
            &format!("{page}-{name}"),
            &format!("{invoked} {name}"),
            sub,
        )?;
    }
    write_man(dir, page, cmd.bin_name(invoked.to_owned()))
}

fn write_man(dir: &Path, name: &str, cmd: clap::Command) -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .title(name.to_uppercase())
        .section("1")
        .manual("nocmap")
        .render(&mut page)
        .context("cannot render the man page")?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))
}
