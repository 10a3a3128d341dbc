//! A world for the conformance test: a real `SellerSession` and
//! `BuyerSession` connected by two in-order queues, a clock, and the model
//! of `model.rs` beside them. Every input to a session is also given to the
//! model, and the result (value, error code, the next frame out, the state
//! after) must be exactly what the model says.

pub mod keys;
pub mod model;

use std::collections::{BTreeSet, VecDeque};

use keys::{buyer_config, seller_config, voucher_sig, FakeKey, CHANNEL};
use model::{MBuyer, MSeller, Out, Params, Ph, Reaction, Send};
use wevalue_sdpp::frame::{self, Data, Frame, Voucher};
use wevalue_sdpp::seller::Blocked;
use wevalue_sdpp::{
    BuyerEvent, BuyerSession, BuyerStream, ErrorCode, Phase, SellerEvent, SellerSession,
    SellerStream, SendError,
};

/// A voucher not made by the buyer's session (an attacker or a bug).
#[derive(Clone, Copy, Debug)]
pub enum BadVoucher {
    OverOwed,
    NotIncreasing,
    WrongChannel,
    BadSignature,
    AckAhead,
}

#[derive(Clone, Debug)]
pub enum Action {
    /// The gateway offers up to n new chunks.
    Produce(u8),
    /// Up to n frames reach the buyer / the seller.
    ToBuyer(u8),
    ToSeller(u8),
    Tick(u16),
    /// The connection drops (frames in flight are lost) and the buyer reconnects.
    Disconnect,
    /// The buyer stops sending anything / starts again.
    BuyerStops,
    BuyerPays,
    /// A forged or wrong voucher reaches the seller.
    Inject(BadVoucher),
    /// The seller sends `window + 2` chunks ignoring credit.
    Greedy,
    /// The buyer closes gracefully.
    BuyerCloses,
    /// The network (a proxy, a replaying seller) delivers the next frame
    /// to the buyer twice.
    Duplicate,
    /// The gateway closes with this code.
    SellerCloses(ErrorCode),
}

fn phase(p: Phase) -> Ph {
    match p {
        Phase::Handshake => Ph::Handshake,
        Phase::Streaming => Ph::Streaming,
        Phase::Closing => Ph::Closing,
        Phase::Closed => Ph::Closed,
    }
}

pub struct World {
    pub p: Params,
    pub now: u64,
    pub source: Vec<Vec<u8>>,
    seller: SellerSession,
    buyer: BuyerSession,
    pub ms: MSeller,
    pub mb: MBuyer,
    s2b: VecDeque<Vec<u8>>,
    b2s: VecDeque<Vec<u8>>,
    pub buyer_pays: bool,
    /// Frames the seller's session did not make reached the buyer.
    pub tainted: bool,
    /// Sequence numbers handed to the buyer's application, in order.
    pub delivered: Vec<u64>,
    pub limit_reached: bool,
    /// The code of the last frame a session refused.
    pub last_refusal: Option<ErrorCode>,
    /// Close codes either side sent (coverage of the schedules).
    pub closes: BTreeSet<u16>,
    /// DATA frames sent again after a disconnect, and the highest seq sent.
    pub resent: u64,
    max_seq_sent: u64,

    pub connections: u32,
    pub log: Vec<String>,
}

impl World {
    pub fn new(p: Params, source: Vec<Vec<u8>>) -> World {
        let mut w = World {
            seller: SellerSession::new(seller_config(&p), None).expect("valid seller config"),
            buyer: BuyerSession::new(buyer_config(&p), None).expect("valid buyer config"),
            ms: MSeller::new(p),
            mb: MBuyer::new(p),
            p,
            now: 1_000_000,
            source,
            s2b: VecDeque::new(),
            b2s: VecDeque::new(),
            buyer_pays: true,
            tainted: false,
            delivered: vec![],
            limit_reached: false,
            last_refusal: None,
            closes: BTreeSet::new(),
            resent: 0,
            max_seq_sent: 0,
            connections: 0,
            log: vec![],
        };
        w.handshake();
        w
    }

    fn ctx(&self) -> String {
        let tail = self.log.len().saturating_sub(12);
        format!(
            "{:?}\nlast steps:\n  {}",
            self.p,
            self.log[tail..].join("\n  ")
        )
    }

    fn ts(seq: u64) -> u64 {
        1_700_000_000_000 + seq * 100
    }

    /// Opens a connection on the stored streams: HELLO, OFFER, ACCEPT.
    fn handshake(&mut self) {
        self.connections += 1;
        let nonce = [self.connections as u8; 32];
        let hello = self.buyer.hello(nonce).to_json();
        let expected = self.ms.hello(self.mb.resume());
        let real = self.seller.on_hello(&hello, [0xee; 32], &FakeKey);
        self.log
            .push(format!("hello {:?} -> {:?}", self.mb.resume(), expected));
        let offer = match (real, expected) {
            (Ok(offer), Ok((seq, units, bytes, best))) => {
                let pos = offer.position;
                assert_eq!(
                    (pos.seq, pos.units, pos.bytes, pos.paid.0),
                    (seq, units, bytes, best),
                    "{}",
                    self.ctx()
                );
                offer
            }
            (Err(e), Err(code)) => {
                assert_eq!(e.code(), code, "{}", self.ctx());
                return self.drain();
            }
            (r, e) => panic!("hello: session {r:?}, model {e:?}\n{}", self.ctx()),
        };
        let pos = offer.position;
        let expected = self
            .mb
            .offer((pos.seq, pos.units, pos.bytes), pos.paid.0, self.now);
        let real = self
            .buyer
            .on_offer(&offer.to_json(), self.now, 0, &FakeKey, &FakeKey);
        let accept = match (real, expected) {
            (Ok(accept), Reaction::Accepted) => accept,
            (Err(e), Reaction::Refused(code)) => {
                assert_eq!(e.code(), code, "{}", self.ctx());
                return self.drain();
            }
            (r, e) => panic!("offer: session {r:?}, model {e:?}\n{}", self.ctx()),
        };
        self.seller
            .on_accept(&accept.to_json(), &FakeKey, self.now)
            .expect("the fake acceptance verifies");
        self.ms.accept(self.now);
        self.drain();
    }

    /// Sends everything both sides have to send, checking each frame
    /// against the model; a silent buyer sends nothing.
    fn drain(&mut self) {
        loop {
            let mut out = vec![];
            let real = self.seller.poll_transmit(self.now, &mut out);
            let src = &self.source;
            let expected = self.ms.poll(self.now, |s| src[s as usize - 1].len());
            self.check_out("seller", real.is_some(), &out, expected);
            let mut progressed = real.is_some();
            if real.is_some() {
                self.s2b.push_back(out);
            }
            if self.buyer_pays {
                let mut out = vec![];
                let real = self
                    .buyer
                    .poll_transmit(self.now, &FakeKey, &mut out)
                    .unwrap_or_else(|e| panic!("buyer signs: {e}"));
                let expected = self.mb.poll(self.now);
                self.check_out("buyer", real.is_some(), &out, expected);
                if real.is_some() {
                    self.b2s.push_back(out);
                    progressed = true;
                }
            }
            if !progressed {
                return;
            }
        }
    }

    fn check_out(&mut self, who: &str, some: bool, bytes: &[u8], expected: Option<Out>) {
        let got = some.then(
            || match frame::decode(bytes).expect("sessions encode valid frames") {
                Frame::Data(d) => Out::Data {
                    seq: d.seq,
                    units: u64::from(d.units),
                },
                Frame::Voucher(v) => Out::Voucher {
                    ack: v.ack_seq,
                    amount: v.amount,
                },
                Frame::Ack(a) => Out::Ack(a.ack_seq),
                Frame::Receipt(r) => Out::Receipt {
                    ack: r.ack_seq,
                    amount: r.amount,
                },
                Frame::Close(c) => Out::Close(c.code),
            },
        );
        match &got {
            Some(Out::Close(code)) => {
                self.limit_reached |= *code == ErrorCode::LimitReached;
                self.closes.insert(code.as_u16());
            }
            Some(Out::Data { seq, .. }) if *seq <= self.max_seq_sent => self.resent += 1,
            Some(Out::Data { seq, .. }) => self.max_seq_sent = *seq,
            _ => {}
        }
        self.log.push(format!("{who} sends {got:?}"));
        assert_eq!(got, expected, "{who} output\n{}", self.ctx());
    }

    pub fn apply(&mut self, action: &Action) {
        self.log.push(format!("{action:?} at {}", self.now));
        match *action {
            Action::Produce(n) => {
                for _ in 0..n {
                    if !self.produce() {
                        break;
                    }
                }
            }
            Action::ToBuyer(n) => {
                for _ in 0..n {
                    let Some(bytes) = self.s2b.pop_front() else {
                        break;
                    };
                    self.deliver_to_buyer(&bytes);
                }
            }
            Action::ToSeller(n) => {
                for _ in 0..n {
                    let Some(bytes) = self.b2s.pop_front() else {
                        break;
                    };
                    self.deliver_to_seller(&bytes);
                }
            }
            Action::Tick(ms) => {
                self.now += u64::from(ms);
                let real = self.seller.tick(self.now).err().map(|e| e.code());
                assert_eq!(real, self.ms.tick(self.now), "tick\n{}", self.ctx());
            }
            Action::Disconnect => self.reconnect(),
            Action::BuyerStops => self.buyer_pays = false,
            Action::BuyerPays => self.buyer_pays = true,
            Action::Inject(bad) => self.inject(bad),
            Action::Greedy => self.greedy(),
            Action::Duplicate => {
                if let Some(f) = self.s2b.front().cloned() {
                    self.s2b.push_front(f);
                }
            }
            Action::SellerCloses(code) => {
                self.seller.close(code, "closing");
                self.ms.close_now(code);
            }
            Action::BuyerCloses => {
                self.buyer.close(ErrorCode::Normal, "done");
                self.mb.close_now(ErrorCode::Normal);
            }
        }
        self.drain();
        self.check_state();
    }

    /// The gateway offers the next chunk; false when it was not sent.
    fn produce(&mut self) -> bool {
        let seq = self.ms.sent() + 1;
        if seq as usize > self.source.len() {
            return false;
        }
        let payload = self.source[seq as usize - 1].clone();
        let mut out = vec![];
        let real = self
            .seller
            .send_data(self.now, Self::ts(seq), &payload, &mut out);
        let expected = self.ms.send(self.now, payload.len());
        self.log.push(format!("produce {seq}: {expected:?}"));
        let ok = match (real, &expected) {
            (Ok(sent), Send::Sent { seq, units }) => {
                assert_eq!(
                    (sent.seq, u64::from(sent.units)),
                    (*seq, *units),
                    "{}",
                    self.ctx()
                );
                self.s2b.push_back(out);
                true
            }
            (Err(SendError::Blocked(b)), e) => {
                let same = matches!(
                    (b, e),
                    (Blocked::NotStreaming, Send::NotStreaming)
                        | (Blocked::Resending, Send::Resending)
                        | (Blocked::InFlight { .. }, Send::InFlight)
                        | (Blocked::Credit { .. }, Send::Credit)
                        | (Blocked::LimitReached { .. }, Send::Limit)
                );
                assert!(same, "send: session {b:?}, model {e:?}\n{}", self.ctx());
                false
            }
            (r, e) => panic!("send: session {r:?}, model {e:?}\n{}", self.ctx()),
        };
        self.drain();
        ok
    }

    fn deliver_to_buyer(&mut self, bytes: &[u8]) {
        let frame = frame::decode(bytes).expect("valid frames in the queue");
        let expected = match frame {
            Frame::Data(d) => self
                .mb
                .on_data(d.seq, u64::from(d.units), d.payload.len(), self.now),
            Frame::Receipt(r) => self.mb.on_receipt(r.ack_seq, r.amount),
            Frame::Close(c) => self.mb.on_close(c.code),
            _ => unreachable!("sellers send data, receipts and closes"),
        };
        let real = self.buyer.on_frame(bytes, self.now);
        self.log
            .push(format!("buyer gets {frame:?} -> {expected:?}"));
        match (&real, &expected) {
            (Ok(BuyerEvent::Data(d)), Reaction::Accepted) => {
                // The application gets the chunk the gateway took in for this seq.
                assert!(self.tainted || d.payload == self.source[d.seq as usize - 1].as_slice());
                assert!(self.tainted || d.timestamp_ms == Self::ts(d.seq));
                self.delivered.push(d.seq);
            }
            (Ok(BuyerEvent::Receipt(_) | BuyerEvent::Closed { .. }), Reaction::Accepted) => {}
            (Ok(BuyerEvent::Ignored), Reaction::Ignored) => {}
            (Err(e), Reaction::Refused(code)) => {
                assert_eq!(e.code(), *code, "{}", self.ctx());
                self.last_refusal = Some(*code);
            }
            (r, e) => panic!("buyer: session {r:?}, model {e:?}\n{}", self.ctx()),
        }
    }

    fn deliver_to_seller(&mut self, bytes: &[u8]) {
        let frame = frame::decode(bytes).expect("valid frames in the queue");
        let expected = match frame {
            Frame::Voucher(v) => self.ms.on_voucher(
                v.channel_id == CHANNEL,
                v.ack_seq,
                v.amount,
                v.signature == voucher_sig(CHANNEL, v.amount),
            ),
            Frame::Ack(a) => self.ms.on_ack(a.ack_seq),
            Frame::Close(c) => self.ms.on_close(c.last_seq),
            _ => self.ms.on_wrong_frame(),
        };
        let real = self.seller.on_frame(bytes, &FakeKey);
        self.log
            .push(format!("seller gets {frame:?} -> {expected:?}"));
        match (&real, &expected) {
            (
                Ok(SellerEvent::Voucher(_) | SellerEvent::Ack { .. } | SellerEvent::Closed { .. }),
                Reaction::Accepted,
            )
            | (Ok(SellerEvent::Ignored), Reaction::Ignored) => {}
            (Err(e), Reaction::Refused(code)) => {
                assert_eq!(e.code(), *code, "{}", self.ctx());
                self.last_refusal = Some(*code);
            }
            (r, e) => panic!("seller: session {r:?}, model {e:?}\n{}", self.ctx()),
        }
    }

    fn reconnect(&mut self) {
        self.s2b.clear();
        self.b2s.clear();
        let seller_stream: SellerStream = self.seller.stream().clone();
        let buyer_stream: BuyerStream = self.buyer.stream().clone();
        // Durable state survives as its serialized form would.
        let seller_stream: SellerStream =
            serde_json::from_str(&serde_json::to_string(&seller_stream).unwrap()).unwrap();
        let buyer_stream: BuyerStream =
            serde_json::from_str(&serde_json::to_string(&buyer_stream).unwrap()).unwrap();
        self.seller = SellerSession::new(seller_config(&self.p), Some(seller_stream)).unwrap();
        self.buyer = BuyerSession::new(buyer_config(&self.p), Some(buyer_stream)).unwrap();
        self.ms.reconnect();
        self.mb.reconnect();
        self.handshake();
    }

    fn inject(&mut self, bad: BadVoucher) {
        let sent = self.ms.sent();
        let owed = self.ms.owed_at(sent);
        let (channel, ack, amount) = match bad {
            BadVoucher::OverOwed => (CHANNEL, sent, owed + 1),
            BadVoucher::NotIncreasing => (CHANNEL, self.ms.acked, self.ms.best),
            BadVoucher::WrongChannel => (CHANNEL + 1, sent, owed),
            BadVoucher::BadSignature => (CHANNEL, sent, owed),
            BadVoucher::AckAhead => (CHANNEL, sent + 1, self.ms.best + 1),
        };
        let mut signature = voucher_sig(channel, amount);
        if matches!(bad, BadVoucher::BadSignature) {
            signature[63] ^= 1;
        }
        let bytes = Frame::Voucher(Voucher {
            channel_id: channel,
            ack_seq: ack,
            amount,
            signature,
        })
        .to_vec()
        .unwrap();
        self.deliver_to_seller(&bytes);
    }

    fn greedy(&mut self) {
        self.tainted = true;
        let mut seq = self.ms.sent();
        let mut bytes: usize = self.ms.lens.iter().sum();
        for _ in 0..self.p.window + 2 {
            seq += 1;
            let payload = self
                .source
                .get(seq as usize - 1)
                .cloned()
                .unwrap_or_default();
            let units = match self.p.model {
                wevalue_sdpp::PricingModel::PerKilobyte => {
                    ((bytes + payload.len()) as u64).div_ceil(1000) - (bytes as u64).div_ceil(1000)
                }
                _ => 1,
            } as u32;
            bytes += payload.len();
            let f = Frame::Data(Data {
                seq,
                timestamp_ms: Self::ts(seq),
                units,
                payload: &payload,
            });
            self.s2b.push_back(f.to_vec().unwrap());
        }
    }

    /// The sessions' state equals the model's, and the safety invariants hold.
    fn check_state(&self) {
        let s = self.seller.stream();
        let b = self.buyer.stream();
        let ctx = || self.ctx();
        assert_eq!(
            phase(self.seller.phase()),
            self.ms.phase,
            "seller phase\n{}",
            ctx()
        );
        assert_eq!(
            phase(self.buyer.phase()),
            self.mb.phase,
            "buyer phase\n{}",
            ctx()
        );
        assert_eq!(self.seller.sent().seq, self.ms.sent(), "{}", ctx());
        assert_eq!(
            self.seller.sent().units,
            self.ms.units_at(self.ms.sent()),
            "{}",
            ctx()
        );
        assert_eq!(s.acked.seq, self.ms.acked, "{}", ctx());
        assert_eq!(s.best.0, self.ms.best, "{}", ctx());
        assert_eq!(
            self.seller.blocked_since(),
            self.ms.blocked_since,
            "{}",
            ctx()
        );
        assert_eq!(b.received.seq, self.mb.received(), "{}", ctx());
        assert_eq!(b.paid.0, self.mb.paid, "{}", ctx());
        assert_eq!(self.buyer.owed(), self.mb.owed(), "{}", ctx());
        // The seller's risk is at most the credit window.
        let window = u128::from(self.p.window) * self.p.price;
        assert!(self.seller.owed() - s.best.0 <= window, "{}", ctx());
        assert!(self.seller.owed() <= self.p.limit(), "{}", ctx());
        // The buyer never pays ahead, and the seller never holds more than it signed.
        assert!(b.paid.0 <= self.buyer.owed(), "{}", ctx());
        assert!(s.best.0 <= b.paid.0, "{}", ctx());
    }

    fn streaming(&self) -> bool {
        self.ms.phase == Ph::Streaming && self.mb.phase == Ph::Streaming
    }

    /// Everyone behaves from now on: the stream runs to its end (all
    /// chunks, or the limit) and everything received is paid.
    pub fn settle(&mut self) {
        self.buyer_pays = true;
        for _ in 0..400 {
            if !self.streaming() {
                self.apply(&Action::ToBuyer(u8::MAX));
                self.apply(&Action::ToSeller(u8::MAX));
                let quiet = self.s2b.is_empty() && self.b2s.is_empty();
                if self.streaming() || !quiet {
                    continue;
                }
                // The session is over: done if the limit ended the stream
                // with everything sent received and paid, else resume.
                let paid_up = self.mb.paid == self.mb.owed() && self.ms.best == self.mb.paid;
                let complete = self.mb.received() == self.ms.sent();
                if self.limit_reached && paid_up && complete {
                    return;
                }
                self.apply(&Action::Disconnect);
                continue;
            }
            self.apply(&Action::Produce(u8::MAX));
            self.apply(&Action::ToBuyer(u8::MAX));
            self.apply(&Action::ToSeller(u8::MAX));
            let all = self.source.len() as u64;
            if self.ms.sent() == all && self.mb.received() == all && self.ms.best == self.mb.owed()
            {
                return;
            }
            let step = self.p.idle_ms.min(900) as u16 + 1;
            self.apply(&Action::Tick(step));
        }
        panic!("the stream did not settle\n{}", self.ctx());
    }
}
