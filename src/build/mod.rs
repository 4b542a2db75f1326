//! Support module builds: ibek-support's `MODULE.install.yml`, without Ansible.
//!
//! `patch.rs` holds the text edits of ibek-support's roles (Ansible's
//! `lineinfile`, `blockinfile` and `replace`), `release.rs` the rules of the
//! shared RELEASE files every module's build links to.

pub mod patch;
pub mod release;
