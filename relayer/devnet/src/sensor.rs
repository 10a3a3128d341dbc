//! The devnet's PM2.5 sensor: an MQTT client publishing seeded readings
//! (each numbered, so a reading is found again by its bytes) to the
//! broker the seller's gateway subscribes to, QoS 1.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A connected sensor and what it has published.
pub struct Sensor {
    client: AsyncClient,
    acks: watch::Receiver<Result<u64, String>>,
    poller: JoinHandle<()>,
    topic: String,
    rng: u64,
    /// Every reading published, in order.
    pub published: Vec<Vec<u8>>,
}

impl Sensor {
    /// Connects to the broker on `127.0.0.1:port` (the connection is made
    /// by the first publication).
    pub fn connect(port: u16, topic: &str, seed: u64) -> Self {
        let mut options = MqttOptions::new(
            format!("wevalue-devnet-sensor-{seed}-{}", std::process::id()),
            "127.0.0.1",
            port,
        );
        options.set_keep_alive(Duration::from_secs(5));
        options.set_inflight(1_000);
        let (client, mut events) = AsyncClient::new(options, 256);
        let (acks_tx, acks) = watch::channel(Ok::<u64, String>(0));
        let poller = tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        n += 1;
                        let _ = acks_tx.send(Ok(n));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = acks_tx.send(Err(format!("MQTT {e}")));
                        return;
                    }
                }
            }
        });
        Self {
            client,
            acks,
            poller,
            topic: topic.to_string(),
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            published: vec![],
        }
    }

    /// The next reading: `{"seq":…,"pm25":…,"unit":"ug/m3"}`, PM2.5 between
    /// 5 and 45 µg/m³ (xorshift64*, deterministic per seed).
    fn reading(&mut self) -> Vec<u8> {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let tenths = 50 + r % 401;
        format!(
            r#"{{"seq":{},"pm25":{}.{},"unit":"ug/m3"}}"#,
            self.published.len(),
            tenths / 10,
            tenths % 10
        )
        .into_bytes()
    }

    /// Publishes the next reading (queued; see [`Sensor::flush`]).
    pub async fn publish(&mut self) -> Result<(), String> {
        if let Err(e) = self.acks.borrow().as_ref() {
            return Err(e.clone());
        }
        let payload = self.reading();
        self.client
            .publish(&self.topic, QoS::AtLeastOnce, false, payload.clone())
            .await
            .map_err(|e| format!("MQTT publish: {e}"))?;
        self.published.push(payload);
        Ok(())
    }

    /// Waits until the broker acknowledged every reading published so far.
    pub async fn flush(&mut self, timeout: Duration) -> Result<(), String> {
        let want = self.published.len() as u64;
        let acked = tokio::time::timeout(
            timeout,
            self.acks.wait_for(|a| !matches!(a, Ok(n) if *n < want)),
        )
        .await
        .map_err(|_| {
            format!("MQTT: the broker did not acknowledge {want} readings in {timeout:?}")
        })?
        .map_err(|_| "MQTT event loop stopped".to_string())?;
        acked.clone().map(|_| ())
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
        self.poller.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readings_are_numbered_seeded_pm25_values() {
        let mut a = Sensor::connect(1, "t", 7);
        let mut b = Sensor::connect(1, "t", 7);
        let first: Vec<Vec<u8>> = (0..3).map(|_| a.reading()).collect();
        let again: Vec<Vec<u8>> = (0..3).map(|_| b.reading()).collect();
        assert_eq!(first, again, "the same seed, the same readings");
        for (i, r) in first.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_slice(r).unwrap();
            // Numbered by what was published so far (nothing here).
            assert_eq!(v["seq"], 0, "{v}");
            let pm = v["pm25"].as_f64().unwrap();
            assert!((5.0..=45.0).contains(&pm), "reading {i}: {v}");
            assert_eq!(v["unit"], "ug/m3");
        }
        assert_ne!(first[0], first[1]);
    }
}
