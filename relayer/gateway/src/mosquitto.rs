//! A local Mosquitto broker for the devnet, the tests and the benchmark:
//! started on a free loopback port with a generated config (anonymous,
//! no persistence), stopped on drop. A missing broker is an error, never a
//! reason to skip: `ci/setup.sh` installs it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs the broker.
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// A running broker.
pub struct Mosquitto {
    /// Its loopback port.
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Mosquitto {
    /// Starts a broker and waits until it accepts connections.
    pub fn start() -> Result<Mosquitto, String> {
        if !Path::new(MOSQUITTO).exists() {
            return Err(format!(
                "{MOSQUITTO} is missing: install the Debian package mosquitto (ci/setup.sh does)"
            ));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir =
            std::env::temp_dir().join(format!("wevalue-mosquitto-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_inflight_messages 1000\nmax_queued_messages 100000\n"
            ),
        )
        .map_err(|e| format!("{}: {e}", conf.display()))?;
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {MOSQUITTO}: {e}"))?;
        let mut broker = Mosquitto { port, child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = broker.child.try_wait() {
                return Err(format!("mosquitto exited at start: {status}"));
            }
            if Instant::now() > deadline {
                return Err(format!("mosquitto did not listen on {port} within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        broker.port = port;
        Ok(broker)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
