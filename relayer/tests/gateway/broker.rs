//! The tests' Mosquitto: the gateway crate's helper (a free loopback port,
//! a generated config); a missing broker fails the test, never skips it.

pub struct Broker(relayer::services::gateway::mosquitto::Mosquitto);

impl Broker {
    pub fn start() -> Broker {
        Broker(relayer::services::gateway::mosquitto::Mosquitto::start().unwrap())
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }
}
