//! apt-get and download commands, built as data.
//!
//! Support builds install `apt_developer` packages and record `apt_runtime`
//! ones in `$EPICS_ROOT/support/configure/runtime_debs`; the runtime stage of
//! a generic IOC image then runs `apt-install-runtime-packages`, which reads
//! that list as ibek does. Every apt invocation is a [`CommandSpec`] for
//! `apt-get` found on `PATH` (behind `sudo` when not root, as ibek does), so
//! tests replace it with a fake script and `--dry-run` prints it.

use std::path::{Path, PathBuf};

use super::command::CommandSpec;

/// How to run apt-get.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Apt {
    /// Prefix commands with `sudo` (we are not root).
    pub sudo: bool,
}

impl Apt {
    /// apt-get for the current user: run as root, or through sudo (as ibek
    /// does) unless `IOCFORGE_APT_NO_SUDO` is set.
    pub fn detect(env: &crate::layout::Environment) -> Self {
        let no_sudo = env.non_empty(crate::env::IOCFORGE_APT_NO_SUDO).is_some();
        Apt {
            sudo: !no_sudo && !running_as_root(),
        }
    }

    fn command(&self, args: &[&str]) -> CommandSpec {
        if self.sudo {
            // sudo resets the environment, so the frontend goes in as an assignment
            let mut all = vec!["DEBIAN_FRONTEND=noninteractive", "apt-get"];
            all.extend_from_slice(args);
            CommandSpec::new("sudo", all)
        } else {
            CommandSpec::new("apt-get", args.iter().copied())
                .with_env("DEBIAN_FRONTEND", "noninteractive")
        }
    }

    /// `apt-get update`.
    pub fn update(&self) -> CommandSpec {
        self.command(&["update"])
    }

    /// `apt-get upgrade -y`.
    pub fn upgrade(&self) -> CommandSpec {
        self.command(&["upgrade", "-y"])
    }

    /// `apt-get install -y PKGS` (recommends as the system decides, as Ansible's `package` does).
    pub fn install(&self, packages: &[String]) -> CommandSpec {
        let mut args = vec!["install", "-y"];
        args.extend(packages.iter().map(String::as_str));
        self.command(&args)
    }

    /// `apt-get install -y --no-install-recommends PKGS` (ibek's runtime install).
    pub fn install_no_recommends(&self, packages: &[String]) -> CommandSpec {
        let mut args = vec!["install", "-y", "--no-install-recommends"];
        args.extend(packages.iter().map(String::as_str));
        self.command(&args)
    }

    /// Empties `/var/lib/apt/lists` to keep the image small.
    pub fn remove_lists(&self) -> CommandSpec {
        let script = "rm -rf /var/lib/apt/lists/*";
        if self.sudo {
            CommandSpec::new("sudo", ["bash", "-c", script])
        } else {
            CommandSpec::new("bash", ["-c", script])
        }
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the effective user of this process
    fs_err::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// The program that fetches `download_extras` and URL packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Downloader {
    /// `curl -fsSL -o DEST URL`.
    #[default]
    Curl,
    /// `wget -q -O DEST URL`.
    Wget,
}

impl Downloader {
    /// curl when it is on `PATH`, else wget.
    pub fn detect(env: &crate::layout::Environment) -> Self {
        if env.find_program("curl").is_none() && env.find_program("wget").is_some() {
            Downloader::Wget
        } else {
            Downloader::Curl
        }
    }

    /// The command that downloads `url` to `dest`.
    pub fn fetch(self, url: &str, dest: &Path) -> CommandSpec {
        let dest = dest.display().to_string();
        match self {
            Downloader::Curl => CommandSpec::new("curl", ["-fsSL", "-o", &dest, url]),
            Downloader::Wget => CommandSpec::new("wget", ["-q", "-O", &dest, url]),
        }
    }
}

/// ibek's `apt-install-runtime-packages`: the commands for the recorded
/// runtime packages (`runtime_debs`, whitespace separated). Entries that are
/// `http(s)://` URLs are downloaded into `download_dir` and installed from
/// the file. An empty list means no commands.
pub fn runtime_install_commands(
    recorded: &str,
    apt: &Apt,
    downloader: Downloader,
    download_dir: &Path,
    keep_lists: bool,
) -> Vec<CommandSpec> {
    let mut commands = Vec::new();
    let mut packages = Vec::new();
    for item in recorded.split_whitespace() {
        if item.starts_with("http://") || item.starts_with("https://") {
            let name = item.rsplit('/').next().unwrap_or(item);
            let file: PathBuf = download_dir.join(name);
            commands.push(downloader.fetch(item, &file));
            packages.push(file.display().to_string());
        } else {
            packages.push(item.to_string());
        }
    }
    if packages.is_empty() {
        return Vec::new();
    }
    commands.push(apt.update());
    commands.push(apt.upgrade());
    commands.push(apt.install_no_recommends(&packages));
    if !keep_lists {
        commands.push(apt.remove_lists());
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_install_matches_ibek() {
        let cmds = runtime_install_commands(
            "libtirpc3\nhttps://example.org/pool/libx_1.deb\n",
            &Apt::default(),
            Downloader::Curl,
            Path::new("/tmp"),
            false,
        );
        let lines: Vec<String> = cmds.iter().map(CommandSpec::command_line).collect();
        assert_eq!(
            lines,
            [
                "curl -fsSL -o /tmp/libx_1.deb https://example.org/pool/libx_1.deb",
                "apt-get update",
                "apt-get upgrade -y",
                "apt-get install -y --no-install-recommends libtirpc3 /tmp/libx_1.deb",
                "bash -c 'rm -rf /var/lib/apt/lists/*'",
            ]
        );
    }

    #[test]
    fn nothing_recorded_means_nothing_to_run() {
        assert!(runtime_install_commands(
            " \n",
            &Apt::default(),
            Downloader::Curl,
            Path::new("/tmp"),
            true
        )
        .is_empty());
    }

    #[test]
    fn sudo_carries_the_frontend_as_an_argument() {
        let c = Apt { sudo: true }.install(&["a".into()]);
        assert_eq!(
            c.command_line(),
            "sudo DEBIAN_FRONTEND=noninteractive apt-get install -y a"
        );
    }
}
