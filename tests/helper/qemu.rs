//! Boots an ISO in QEMU and watches the serial console for a marker: the proof that an image
//! boots, for the builders' tests.
//!
//! QEMU runs under TCG (software emulation): the `/dev/kvm` of the test machines is a nested
//! hypervisor that cannot run ordinary guests. A boot to the fixture initramfs takes 6–15 s
//! under TCG on 2 cores; give a boot 60–90 s when several may run at once.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How the virtual machine starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS, El Torito BIOS boot.
    Bios,
    /// OVMF (UEFI), El Torito EFI boot.
    Uefi,
}

/// Boots `iso` with BIOS firmware; `Ok(serial output)` once `marker` appears on the serial
/// console, `Err(why, with the last output)` on timeout or when QEMU exits first.
pub fn boot_iso(iso: &Path, marker: &str, timeout: Duration) -> Result<String, String> {
    boot(iso, Firmware::Bios, marker, timeout)
}

/// [`boot_iso`] with UEFI firmware (OVMF, see [`ovmf`]).
pub fn boot_iso_uefi(iso: &Path, marker: &str, timeout: Duration) -> Result<String, String> {
    boot(iso, Firmware::Uefi, marker, timeout)
}

/// OVMF's code and variable-store images, when installed (Debian `ovmf`, Fedora `edk2-ovmf`).
pub fn ovmf() -> Option<(PathBuf, PathBuf)> {
    [
        (
            "/usr/share/OVMF/OVMF_CODE_4M.fd",
            "/usr/share/OVMF/OVMF_VARS_4M.fd",
        ),
        (
            "/usr/share/OVMF/OVMF_CODE.fd",
            "/usr/share/OVMF/OVMF_VARS.fd",
        ),
        (
            "/usr/share/edk2/ovmf/OVMF_CODE.fd",
            "/usr/share/edk2/ovmf/OVMF_VARS.fd",
        ),
    ]
    .into_iter()
    .map(|(c, v)| (PathBuf::from(c), PathBuf::from(v)))
    .find(|(c, v)| c.is_file() && v.is_file())
}

/// Boots `iso` with `firmware` and waits for `marker` on the serial console (see [`boot_iso`]).
pub fn boot(
    iso: &Path,
    firmware: Firmware,
    marker: &str,
    timeout: Duration,
) -> Result<String, String> {
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args([
        "-accel",
        "tcg",
        "-m",
        "512",
        "-nographic",
        "-no-reboot",
        "-boot",
        "d",
    ])
    .arg("-cdrom")
    .arg(iso)
    .args(["-serial", "mon:stdio"]);
    // The variable store is writable: each boot gets its own copy, removed with `_vars`.
    let _vars = match firmware {
        Firmware::Bios => None,
        Firmware::Uefi => {
            let (code, vars) = ovmf().ok_or("OVMF is not installed: run scripts/testenv.sh up")?;
            let dir = tempfile::tempdir().map_err(|e| format!("temp dir for OVMF vars: {e}"))?;
            let copy = dir.path().join("OVMF_VARS.fd");
            std::fs::copy(&vars, &copy)
                .map_err(|e| format!("copying {} to {}: {e}", vars.display(), copy.display()))?;
            cmd.arg("-drive")
                .arg(pflash(0, &code, true))
                .arg("-drive")
                .arg(pflash(1, &copy, false));
            Some(dir)
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().map_err(|e| {
        format!("starting qemu-system-x86_64: {e} (install it with scripts/testenv.sh up)")
    })?;
    let mut vm = Vm(child);

    // Both pipes feed one channel; it disconnects when QEMU has closed both.
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    for pipe in [
        vm.0.stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        vm.0.stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || pump(pipe, &tx));
    }
    drop(tx);

    let started = Instant::now();
    let deadline = started + timeout;
    let needle = marker.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => {
                let from = out.len().saturating_sub(needle.len());
                out.extend_from_slice(&chunk);
                if contains(&out[from..], needle) {
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "no {marker:?} on the serial console within {timeout:?}; last output:\n{}",
                    tail(&out)
                ));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = vm.0.wait().map_err(|e| format!("waiting for qemu: {e}"))?;
                return Err(format!(
                    "qemu exited ({status}) after {:?} without printing {marker:?}; last output:\n{}",
                    started.elapsed(),
                    tail(&out)
                ));
            }
        }
    }
}

/// A `-drive` value for an OVMF flash image.
fn pflash(unit: u8, file: &Path, readonly: bool) -> String {
    // QEMU's option syntax doubles commas inside values.
    let file = file.display().to_string().replace(',', ",,");
    let ro = if readonly { ",readonly=on" } else { "" };
    format!("if=pflash,format=raw,unit={unit}{ro},file={file}")
}

/// Copies a pipe into the channel, chunk by chunk, until EOF or the receiver is gone.
fn pump(mut pipe: Box<dyn Read + Send>, tx: &mpsc::Sender<Vec<u8>>) {
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// The last few KiB of the output, for failure messages.
fn tail(out: &[u8]) -> String {
    const KEEP: usize = 4096;
    let start = out.len().saturating_sub(KEEP);
    String::from_utf8_lossy(&out[start..]).into_owned()
}

/// The QEMU process; killed and reaped when dropped, so no test leaves a VM behind.
#[derive(Debug)]
struct Vm(Child);

impl Drop for Vm {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}
