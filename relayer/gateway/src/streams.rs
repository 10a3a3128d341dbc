//! The gateway's records of its streams (one per channel), kept in memory
//! between connections so a buyer resumes where it stopped; one session
//! per channel at a time. After a restart a stream is rebuilt from the
//! best voucher in the durable voucher store (SDPP §9, a seller that lost
//! its record).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use wevalue_sdpp::seller::SellerStream;

enum Slot {
    /// No session open; the stream as the last one left it.
    Idle(Box<SellerStream>),
    /// A session holds the stream.
    Busy,
}

/// Streams by channel id.
#[derive(Default)]
pub struct Streams {
    map: Mutex<HashMap<u64, Slot>>,
}

/// Why a channel's stream cannot be taken.
#[derive(Debug, PartialEq, Eq)]
pub struct InUse;

impl Streams {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Slot>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a channel's stream for a session: `Ok(None)` when the gateway
    /// has no record of it (new, or lost in a restart).
    pub fn checkout(self: &Arc<Self>, channel: u64) -> Result<Checkout, InUse> {
        let mut map = self.lock();
        let stream = match map.insert(channel, Slot::Busy) {
            Some(Slot::Busy) => return Err(InUse),
            Some(Slot::Idle(s)) => Some(*s),
            None => None,
        };
        Ok(Checkout {
            streams: self.clone(),
            channel,
            stream,
            returned: false,
        })
    }

    /// Streams with a record (open or idle).
    pub fn len(&self) -> usize {
        self.lock().len()
    }
}

/// A stream held by a session; returned with [`Checkout::give_back`]. If
/// dropped without (a panic), the record is forgotten and the next session
/// rebuilds it from the voucher store — safe, never double-charging.
pub struct Checkout {
    streams: Arc<Streams>,
    channel: u64,
    stream: Option<SellerStream>,
    returned: bool,
}

impl Checkout {
    /// The stored record, if any (taken once).
    pub fn take(&mut self) -> Option<SellerStream> {
        self.stream.take()
    }

    /// Returns the stream's record for the next session.
    pub fn give_back(mut self, stream: SellerStream) {
        self.streams
            .lock()
            .insert(self.channel, Slot::Idle(Box::new(stream)));
        self.returned = true;
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if !self.returned {
            self.streams.lock().remove(&self.channel);
        }
    }
}
