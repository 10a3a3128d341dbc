//! An executable model of sdpp/1 for the conformance test: what each side
//! knows, and what `docs/sdpp.md` says must happen for each input. Built
//! from the specification with plain lists and sums (no running totals, no
//! shared code with the crate), so the two implementations check each other.

use std::collections::VecDeque;

use wevalue_sdpp::{ErrorCode, PricingModel};

#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub model: PricingModel,
    pub price: u128,
    pub window: u64,
    pub max_in_flight: u32,
    pub max_payload: u32,
    pub deposit: u128,
    pub cap: Option<u128>,
    pub timeout_ms: u64,
    pub pay_pct: u8,
    pub idle_ms: u64,
}

impl Params {
    pub fn limit(&self) -> u128 {
        self.cap.map_or(self.deposit, |c| c.min(self.deposit))
    }
    fn window_amount(&self) -> u128 {
        u128::from(self.window) * self.price
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ph {
    Handshake,
    Streaming,
    Closing,
    Closed,
}

/// A frame a side must send next, as the model predicts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    Data { seq: u64, units: u64 },
    Voucher { ack: u64, amount: u128 },
    Ack(u64),
    Receipt { ack: u64, amount: u128 },
    Close(ErrorCode),
}

/// What an input must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reaction {
    Accepted,
    Ignored,
    Refused(ErrorCode),
}

/// Outcome of offering a new chunk to the seller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Send {
    Sent { seq: u64, units: u64 },
    NotStreaming,
    Resending,
    InFlight,
    Credit,
    Limit,
}

fn graceful(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::Normal
            | ErrorCode::LimitReached
            | ErrorCode::PaymentTimeout
            | ErrorCode::ShuttingDown
            | ErrorCode::Unavailable
    )
}

/// Units of the chunk after `before` (lengths of the chunks before it) under
/// the byte-counted models; per-second is decided by the caller.
fn kilobytes(total: usize) -> u64 {
    (total as u64).div_ceil(1000)
}

pub struct MSeller {
    pub p: Params,
    pub phase: Ph,
    /// Units and payload lengths of chunks 1..=sent, as currently accounted.
    pub units: Vec<u64>,
    pub lens: Vec<usize>,
    pub acked: u64,
    pub best: u128,
    /// Chunks up to here were sent before and must be sent again first.
    pub resend_until: u64,
    origin: u64,
    billed: u64,
    pub blocked_since: Option<u64>,
    for_payment: bool,
    out: VecDeque<Out>,
    close_sent: bool,
}

impl MSeller {
    pub fn new(p: Params) -> MSeller {
        MSeller {
            p,
            phase: Ph::Handshake,
            units: vec![],
            lens: vec![],
            acked: 0,
            best: 0,
            resend_until: 0,
            origin: 0,
            billed: 0,
            blocked_since: None,
            for_payment: false,
            out: VecDeque::new(),
            close_sent: false,
        }
    }

    /// The payment timer starts at the first wait on the buyer.
    fn wait(&mut self, now: u64, for_payment: bool) {
        if self.blocked_since.is_none() {
            self.blocked_since = Some(now);
            self.for_payment = for_payment;
        }
    }

    pub fn sent(&self) -> u64 {
        self.units.len() as u64
    }
    pub fn units_at(&self, seq: u64) -> u64 {
        self.units[..seq as usize].iter().sum()
    }
    pub fn owed_at(&self, seq: u64) -> u128 {
        u128::from(self.units_at(seq)) * self.p.price
    }
    pub fn bytes_at(&self, seq: u64) -> usize {
        self.lens[..seq as usize].iter().sum()
    }

    /// A new connection on the stored stream.
    pub fn reconnect(&mut self) {
        self.phase = Ph::Handshake;
        self.blocked_since = None;
        self.out.clear();
        self.close_sent = false;
    }

    fn close(&mut self, code: ErrorCode, phase: Ph) {
        if !self.close_sent {
            self.close_sent = true;
            self.out.push_back(Out::Close(code));
        }
        self.phase = phase;
    }

    fn refuse(&mut self, code: ErrorCode) -> Reaction {
        self.close(code, Ph::Closed);
        Reaction::Refused(code)
    }

    /// HELLO with the buyer's resume position (seq, units, bytes, paid).
    /// On success returns the offered position (seq, units, bytes) and the
    /// seller's best voucher.
    pub fn hello(
        &mut self,
        resume: Option<(u64, u64, u64, u128)>,
    ) -> Result<(u64, u64, u64, u128), ErrorCode> {
        let (seq, units, bytes, paid) = resume.unwrap_or((0, 0, 0, 0));
        if seq < self.acked || seq > self.sent() {
            return Err(self.hello_err(ErrorCode::ResumeMismatch));
        }
        if self.units_at(seq) != units || self.bytes_at(seq) as u64 != bytes {
            return Err(self.hello_err(ErrorCode::ResumeMismatch));
        }
        if paid < self.best || paid > self.owed_at(seq) {
            return Err(self.hello_err(ErrorCode::ResumeMismatch));
        }
        if self.owed_at(seq) > self.p.limit() {
            return Err(self.hello_err(ErrorCode::LimitReached));
        }
        self.resend_until = self.resend_until.max(self.sent());
        self.units.truncate(seq as usize);
        self.lens.truncate(seq as usize);
        self.acked = seq;
        Ok((seq, units, bytes, self.best))
    }

    fn hello_err(&mut self, code: ErrorCode) -> ErrorCode {
        self.close(code, Ph::Closed);
        code
    }

    pub fn accept(&mut self, now: u64) {
        self.phase = Ph::Streaming;
        self.origin = now;
        self.billed = 0;
    }

    /// May a chunk of `len` bytes go now, and for how many units?
    fn admit(&mut self, now: u64, len: usize) -> Result<u64, Send> {
        if self.sent() - self.acked >= u64::from(self.p.max_in_flight) {
            self.wait(now, false);
            return Err(Send::InFlight);
        }
        let price = self.p.price;
        let owed = self.owed_at(self.sent());
        let allowed = self.best + self.p.window_amount();
        let limit = self.p.limit();
        let units = match self.p.model {
            PricingModel::PerMessage => 1,
            PricingModel::PerKilobyte => {
                let before = self.bytes_at(self.sent());
                kilobytes(before + len) - kilobytes(before)
            }
            PricingModel::PerSecond => {
                let started = (now - self.origin) / 1000 + 1;
                let due = started - self.billed;
                if due == 0 {
                    0
                } else {
                    let limit_room = (limit - owed) / price;
                    let credit_room = allowed.saturating_sub(owed) / price;
                    if limit_room == 0 {
                        return Err(self.limit_reached());
                    }
                    if credit_room == 0 {
                        self.wait(now, true);
                        return Err(Send::Credit);
                    }
                    (due as u128).min(limit_room).min(credit_room) as u64
                }
            }
        };
        let after = owed + u128::from(units) * price;
        if after > limit {
            return Err(self.limit_reached());
        }
        if after > allowed {
            self.wait(now, true);
            return Err(Send::Credit);
        }
        Ok(units)
    }

    fn limit_reached(&mut self) -> Send {
        self.close(ErrorCode::LimitReached, Ph::Closing);
        Send::Limit
    }

    fn record(&mut self, units: u64, len: usize) -> Out {
        self.units.push(units);
        self.lens.push(len);
        if self.p.model == PricingModel::PerSecond {
            self.billed += units;
        }
        Out::Data {
            seq: self.sent(),
            units,
        }
    }

    /// The application offers chunk `sent + 1` of `len` bytes.
    pub fn send(&mut self, now: u64, len: usize) -> Send {
        if self.phase != Ph::Streaming {
            return Send::NotStreaming;
        }
        if self.sent() < self.resend_until {
            return Send::Resending;
        }
        match self.admit(now, len) {
            Ok(units) => {
                self.record(units, len);
                Send::Sent {
                    seq: self.sent(),
                    units,
                }
            }
            Err(e) => e,
        }
    }

    /// The next frame the seller must send; `len_of(seq)` is a chunk's length.
    pub fn poll(&mut self, now: u64, len_of: impl Fn(u64) -> usize) -> Option<Out> {
        if let Some(o) = self.out.pop_front() {
            return Some(o);
        }
        if self.phase != Ph::Streaming || self.sent() >= self.resend_until {
            return None;
        }
        let len = len_of(self.sent() + 1);
        match self.admit(now, len) {
            Ok(units) => Some(self.record(units, len)),
            Err(Send::Limit) => self.out.pop_front(),
            Err(_) => None,
        }
    }

    pub fn on_voucher(
        &mut self,
        channel_ok: bool,
        ack: u64,
        amount: u128,
        sig_ok: bool,
    ) -> Reaction {
        match self.phase {
            Ph::Closed => return Reaction::Ignored,
            Ph::Handshake => return self.refuse(ErrorCode::UnexpectedFrame),
            _ => {}
        }
        if !channel_ok {
            return self.refuse(ErrorCode::WrongChannel);
        }
        if ack < self.acked || ack > self.sent() {
            return self.refuse(ErrorCode::BadAck);
        }
        if amount <= self.best {
            return self.refuse(ErrorCode::VoucherNotIncreasing);
        }
        if amount > self.owed_at(ack) {
            return self.refuse(ErrorCode::VoucherExceedsOwed);
        }
        if !sig_ok {
            return self.refuse(ErrorCode::BadSignature);
        }
        self.best = amount;
        self.acked = self.acked.max(ack);
        self.blocked_since = None;
        self.out.push_back(Out::Receipt { ack, amount });
        Reaction::Accepted
    }

    pub fn on_ack(&mut self, ack: u64) -> Reaction {
        match self.phase {
            Ph::Closed => return Reaction::Ignored,
            Ph::Handshake => return self.refuse(ErrorCode::UnexpectedFrame),
            _ => {}
        }
        if ack <= self.acked || ack > self.sent() {
            return self.refuse(ErrorCode::BadAck);
        }
        self.acked = ack;
        if !self.for_payment {
            self.blocked_since = None;
        }
        Reaction::Accepted
    }

    pub fn on_close(&mut self, last_seq: u64) -> Reaction {
        if self.phase == Ph::Closed {
            return Reaction::Ignored;
        }
        if last_seq > self.acked && last_seq <= self.sent() {
            self.acked = last_seq;
        }
        self.close(ErrorCode::Normal, Ph::Closed);
        Reaction::Accepted
    }

    /// Data or receipts from the buyer are never allowed.
    pub fn on_wrong_frame(&mut self) -> Reaction {
        if self.phase == Ph::Closed {
            return Reaction::Ignored;
        }
        self.refuse(ErrorCode::UnexpectedFrame)
    }

    /// The gateway closes (shutting down, source unavailable).
    pub fn close_now(&mut self, code: ErrorCode) {
        if self.phase == Ph::Closed {
            return;
        }
        self.close(
            code,
            if graceful(code) {
                Ph::Closing
            } else {
                Ph::Closed
            },
        );
    }

    pub fn tick(&mut self, now: u64) -> Option<ErrorCode> {
        if self.phase != Ph::Streaming {
            return None;
        }
        let since = self.blocked_since?;
        if now - since >= self.p.timeout_ms {
            self.close(ErrorCode::PaymentTimeout, Ph::Closing);
            return Some(ErrorCode::PaymentTimeout);
        }
        None
    }
}

pub struct MBuyer {
    pub p: Params,
    pub phase: Ph,
    /// Units and lengths of the chunks received, 1..=received.
    pub units: Vec<u64>,
    pub lens: Vec<usize>,
    pub paid: u128,
    has_signature: bool,
    acked: u64,
    receipted: u128,
    origin: u64,
    billed: u64,
    last_data: u64,
    resend_paid: bool,
    final_payment: bool,
    close_q: VecDeque<ErrorCode>,
    close_sent: bool,
    /// Vouchers sent again because the seller lacked them (coverage).
    pub resends: u64,
}

impl MBuyer {
    pub fn new(p: Params) -> MBuyer {
        MBuyer {
            p,
            phase: Ph::Handshake,
            units: vec![],
            lens: vec![],
            paid: 0,
            has_signature: false,
            acked: 0,
            receipted: 0,
            origin: 0,
            billed: 0,
            last_data: 0,
            resend_paid: false,
            final_payment: false,
            close_q: VecDeque::new(),
            close_sent: false,
            resends: 0,
        }
    }

    pub fn received(&self) -> u64 {
        self.units.len() as u64
    }
    pub fn owed(&self) -> u128 {
        u128::from(self.units.iter().sum::<u64>()) * self.p.price
    }

    pub fn reconnect(&mut self) {
        self.phase = Ph::Handshake;
        self.final_payment = false;
        self.close_q.clear();
        self.close_sent = false;
    }

    /// The HELLO resume field.
    pub fn resume(&self) -> Option<(u64, u64, u64, u128)> {
        let r = (
            self.received(),
            self.units.iter().sum(),
            self.lens.iter().sum::<usize>() as u64,
            self.paid,
        );
        (r != (0, 0, 0, 0)).then_some(r)
    }

    fn close(&mut self, code: ErrorCode, phase: Ph) {
        if !self.close_sent {
            self.close_sent = true;
            self.close_q.push_back(code);
        }
        self.phase = phase;
    }

    fn refuse(&mut self, code: ErrorCode) -> Reaction {
        self.final_payment = false;
        self.close(code, Ph::Closed);
        Reaction::Refused(code)
    }

    /// The seller's OFFER: its resume position and best voucher.
    pub fn offer(&mut self, pos: (u64, u64, u64), seller_best: u128, now: u64) -> Reaction {
        let mine = (
            self.received(),
            self.units.iter().sum(),
            self.lens.iter().sum::<usize>() as u64,
        );
        if pos != mine || seller_best > self.paid {
            return self.refuse(ErrorCode::ResumeMismatch);
        }
        self.phase = Ph::Streaming;
        self.origin = now;
        self.last_data = now;
        self.billed = 0;
        self.acked = self.received();
        self.receipted = seller_best;
        self.resend_paid = self.paid > seller_best;
        Reaction::Accepted
    }

    pub fn on_data(&mut self, seq: u64, units: u64, len: usize, now: u64) -> Reaction {
        match self.phase {
            Ph::Closing | Ph::Closed => return Reaction::Ignored,
            Ph::Handshake => return self.refuse(ErrorCode::UnexpectedFrame),
            Ph::Streaming => {}
        }
        if seq != self.received() + 1 {
            return self.refuse(ErrorCode::BadSequence);
        }
        if len > self.p.max_payload as usize {
            return self.refuse(ErrorCode::PayloadTooLarge);
        }
        if seq - self.acked > u64::from(self.p.max_in_flight) {
            return self.refuse(ErrorCode::TooManyInFlight);
        }
        let units_ok = match self.p.model {
            PricingModel::PerMessage => units == 1,
            PricingModel::PerKilobyte => {
                let before: usize = self.lens.iter().sum();
                units == kilobytes(before + len) - kilobytes(before)
            }
            PricingModel::PerSecond => units + self.billed <= (now - self.origin + 1000) / 1000 + 1,
        };
        if !units_ok {
            return self.refuse(ErrorCode::BadUnits);
        }
        let after = self.owed() + u128::from(units) * self.p.price;
        if after > self.p.limit() || after > self.paid + self.p.window_amount() {
            return self.refuse(ErrorCode::CreditExceeded);
        }
        self.units.push(units);
        self.lens.push(len);
        if self.p.model == PricingModel::PerSecond {
            self.billed += units;
        }
        self.last_data = now;
        Reaction::Accepted
    }

    pub fn on_receipt(&mut self, ack: u64, amount: u128) -> Reaction {
        match self.phase {
            Ph::Closed => return Reaction::Ignored,
            Ph::Handshake => return self.refuse(ErrorCode::UnexpectedFrame),
            _ => {}
        }
        if amount > self.paid || amount <= self.receipted || ack > self.received() {
            return self.refuse(ErrorCode::BadReceipt);
        }
        self.receipted = amount;
        Reaction::Accepted
    }

    pub fn on_close(&mut self, code: ErrorCode) -> Reaction {
        if self.phase == Ph::Closed {
            return Reaction::Ignored;
        }
        if self.phase == Ph::Streaming && graceful(code) {
            self.final_payment = true;
        }
        self.close(ErrorCode::Normal, Ph::Closed);
        Reaction::Accepted
    }

    pub fn close_now(&mut self, code: ErrorCode) {
        if self.phase == Ph::Closed {
            return;
        }
        let g = graceful(code) && self.phase == Ph::Streaming;
        self.final_payment = g;
        self.close(code, if g { Ph::Closing } else { Ph::Closed });
    }

    /// The next frame the buyer sends under its payment policy.
    pub fn poll(&mut self, now: u64) -> Option<Out> {
        let streaming = self.phase == Ph::Streaming;
        if streaming || self.final_payment {
            let owed = self.owed();
            let unpaid = owed - self.paid;
            let w = self.p.window_amount();
            let threshold = (w * u128::from(self.p.pay_pct) / 100).max(1);
            let idle = now - self.last_data >= self.p.idle_ms;
            if unpaid > 0 && (self.final_payment || unpaid >= threshold || idle) {
                self.paid = owed;
                self.has_signature = true;
                self.acked = self.received();
                self.resend_paid = false;
                return Some(Out::Voucher {
                    ack: self.received(),
                    amount: owed,
                });
            }
            if self.resend_paid && self.has_signature {
                self.resend_paid = false;
                self.resends += 1;
                self.acked = self.received();
                return Some(Out::Voucher {
                    ack: self.received(),
                    amount: self.paid,
                });
            }
            self.final_payment = false;
            let half = u64::from(self.p.max_in_flight / 2).max(1);
            let pending = self.received() - self.acked;
            if streaming && pending > 0 && (pending >= half || idle) {
                self.acked = self.received();
                return Some(Out::Ack(self.received()));
            }
        }
        self.close_q.pop_front().map(Out::Close)
    }
}
