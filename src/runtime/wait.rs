//! Waiting for devices before the IOC boots (ibek's `ioc do-wait`).
//!
//! `wait_list.yaml` (written by `runtime generate` for `ibek.wait_ip`
//! entities) lists `address: host:port` entries with a `timeout` in seconds
//! (0 waits forever). A connection refused, reset or unreachable network is
//! retried until the timeout; any other error fails at once. When all is
//! done a marker file is written for other processes, as ibek does.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::source::{self, NodeKind};

/// The marker ibek writes when waiting is over.
pub const DONE_FILE: &str = "/tmp/doWait_completed.txt";

/// One device to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitEntry {
    /// The entity type (`ibek.wait_ip`; others are reported and skipped).
    pub kind: String,
    /// Device name, for messages.
    pub device: String,
    /// `host:port` (port 1025 when missing, as ibek assumes).
    pub address: String,
    /// Seconds; 0 waits forever.
    pub timeout: u64,
}

/// Why waiting failed.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The list could not be read.
    #[error("cannot read `{path}`: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A device did not answer in time.
    #[error("connection to {device} at {address} timed out after {timeout} seconds")]
    Timeout {
        /// Device name.
        device: String,
        /// Its address.
        address: String,
        /// The timeout that passed.
        timeout: u64,
    },
    /// The marker file could not be written.
    #[error("cannot write `{path}`: {reason}")]
    Marker {
        /// The marker file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A device failed in a way that waiting will not fix.
    #[error("error connecting to {device} at {address}: {reason}")]
    Fatal {
        /// Device name.
        device: String,
        /// Its address.
        address: String,
        /// The error.
        reason: String,
    },
}

/// Reads the entries of a wait list.
pub fn read_wait_list(path: &Path) -> Result<Vec<WaitEntry>, WaitError> {
    let err = |reason: String| WaitError::Read {
        path: path.display().to_string(),
        reason,
    };
    let text = fs_err::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let root = source::parse(&text).map_err(|e| err(e.message))?;
    let items = match &root.kind {
        NodeKind::Null => return Ok(Vec::new()),
        NodeKind::Seq(items) => items,
        _ => return Err(err("expected a list of entries".into())),
    };
    let mut out = Vec::new();
    for item in items {
        let text_of = |k: &str| {
            item.get(k)
                .map(std::string::ToString::to_string)
                .unwrap_or_default()
        };
        let timeout = match item.get("timeout").map(|t| &t.kind) {
            Some(NodeKind::Int(i)) if *i >= 0 => *i as u64,
            None => 0,
            _ => {
                return Err(err(format!(
                    "`timeout` of `{}` must be a whole number of seconds",
                    text_of("device")
                )))
            }
        };
        out.push(WaitEntry {
            kind: text_of("type"),
            device: text_of("device"),
            address: text_of("address"),
            timeout,
        });
    }
    Ok(out)
}

fn retryable(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NetworkUnreachable
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkDown
            | ErrorKind::TimedOut
            | ErrorKind::AddrNotAvailable
    )
}

/// Splits `host:port`, defaulting the port as ibek does; the bool says the port was missing.
pub fn split_address(address: &str) -> (String, u16, bool) {
    match address.rsplit_once(':') {
        Some((host, port)) => match port.parse() {
            Ok(p) => (host.to_string(), p, false),
            Err(_) => (address.to_string(), 1025, true),
        },
        None => (address.to_string(), 1025, true),
    }
}

/// Waits for one entry; `log` gets progress lines.
pub fn wait_for(entry: &WaitEntry, log: &mut dyn FnMut(String)) -> Result<(), WaitError> {
    let (host, port, defaulted) = split_address(&entry.address);
    if defaulted {
        log(format!(
            "address '{}' does not include a port number; it should be in the format 'ip:port'; using port 1025",
            entry.address
        ));
    }
    let deadline = (entry.timeout > 0).then(|| Instant::now() + Duration::from_secs(entry.timeout));
    log(match deadline {
        Some(_) => format!(
            "waiting up to {} seconds for {} at {} to respond",
            entry.timeout, entry.device, entry.address
        ),
        None => format!(
            "waiting indefinitely for {} at {} to respond",
            entry.device, entry.address
        ),
    });
    let fatal = |reason: String| WaitError::Fatal {
        device: entry.device.clone(),
        address: entry.address.clone(),
        reason,
    };
    loop {
        let remaining = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(r) if !r.is_zero() => Some(r),
                _ => {
                    return Err(WaitError::Timeout {
                        device: entry.device.clone(),
                        address: entry.address.clone(),
                        timeout: entry.timeout,
                    })
                }
            },
            None => None,
        };
        let addrs: Vec<SocketAddr> = match (host.as_str(), port).to_socket_addrs() {
            Ok(a) => a.collect(),
            Err(e) => return Err(fatal(format!("cannot resolve `{host}`: {e}"))),
        };
        let mut last = None;
        for addr in &addrs {
            let attempt = match remaining {
                Some(r) => TcpStream::connect_timeout(addr, r.min(Duration::from_secs(5))),
                None => TcpStream::connect_timeout(addr, Duration::from_secs(5)),
            };
            match attempt {
                Ok(_) => return Ok(()),
                Err(e) if retryable(e.kind()) => last = Some(e),
                Err(e) => return Err(fatal(e.to_string())),
            }
        }
        if addrs.is_empty() {
            return Err(fatal(format!("`{host}` has no address")));
        }
        // ibek retries at once; a short pause keeps a waiting container from spinning a core
        let _ = last;
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for every `ibek.wait_ip` entry in order; others are reported and skipped.
pub fn wait_all(entries: &[WaitEntry], log: &mut dyn FnMut(String)) -> Result<(), WaitError> {
    for e in entries {
        if e.kind == "ibek.wait_ip" {
            wait_for(e, log)?;
        } else {
            log(format!("wait entry type not supported yet: {}", e.kind));
        }
    }
    Ok(())
}

/// ibek's `do-wait`, the one implementation of the step: removes the
/// marker `done`, waits for every device of `list` when that file exists,
/// then writes the marker. Returns how many entries the list had (`None`
/// without a list).
pub fn do_wait(
    list: &Path,
    done: &Path,
    log: &mut dyn FnMut(String),
) -> Result<Option<usize>, WaitError> {
    if done.exists() {
        let _ = fs_err::remove_file(done);
    }
    let count = if list.is_file() {
        let entries = read_wait_list(list)?;
        wait_all(&entries, log)?;
        Some(entries.len())
    } else {
        None
    };
    fs_err::write(done, "").map_err(|e| WaitError::Marker {
        path: done.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_like_ibek() {
        assert_eq!(
            split_address("10.0.0.1:5064"),
            ("10.0.0.1".into(), 5064, false)
        );
        assert_eq!(split_address("10.0.0.1"), ("10.0.0.1".into(), 1025, true));
    }

    #[test]
    fn reads_the_list_ibek_writes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("wait_list.yaml");
        fs_err::write(
            &p,
            "# header\n\n  - type: ibek.wait_ip\n    device: d1\n    address: 127.0.0.1:5064\n    timeout: 10\n\n  - type: ibek.wait_usb\n    device: cam\n    address: x\n    timeout: 0\n",
        )
        .unwrap();
        let list = read_wait_list(&p).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].timeout, 10);
        assert_eq!(list[1].kind, "ibek.wait_usb");
    }
}
