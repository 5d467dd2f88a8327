//! Write tokens (BEP 5 `get_peers`/`announce_peer`, BEP 44 `get`/`put`):
//! the tokens this node hands out, the first bytes of SHA-1(secret ‖ IP ‖
//! target) under a secret rotated every 5 minutes with the previous one
//! still accepted, and the tokens other nodes handed this node, kept per
//! (address, target) until a `put` uses them.

use super::*;

impl Endpoint {
    /// Rotates the token secret every [`SECRET_ROTATION`]; after two periods
    /// or more without a rotation, neither old secret is kept.
    pub(super) fn rotate(&mut self, now: Time) {
        let idle = now.since(self.secret_since);
        if idle >= SECRET_ROTATION * 2 {
            self.rng.fill_bytes(&mut self.secrets[1]);
        } else if idle >= SECRET_ROTATION {
            self.secrets[1] = self.secrets[0];
        } else {
            return;
        }
        self.rng.fill_bytes(&mut self.secrets[0]);
        self.secret_since = now;
    }

    /// The write token for `ip` and `target` under secret `which` (0 current,
    /// 1 previous): bound to the target, as libtorrent's, so that a token
    /// obtained for one item cannot store another.
    pub(super) fn token(&self, ip: IpAddr, target: &NodeId, which: usize) -> Vec<u8> {
        let mut h = Sha1::new();
        h.update(self.secrets[which]);
        match ip {
            IpAddr::V4(a) => h.update(a.octets()),
            IpAddr::V6(a) => h.update(a.octets()),
        }
        h.update(target.as_bytes());
        h.finalize()[..TOKEN_LEN].to_vec()
    }

    pub(super) fn token_ok(&self, ip: IpAddr, target: &NodeId, token: &[u8]) -> bool {
        token == self.token(ip, target, 0).as_slice() || token == self.token(ip, target, 1).as_slice()
    }

    pub(super) fn remember_token(&mut self, from: SocketAddr, target: NodeId, token: Vec<u8>, now: Time) {
        if self.tokens.len() >= MAX_TOKENS && !self.tokens.contains_key(&(from, target)) {
            // Forget some token (the lowest address's): cheap, and at worst costs a `get`.
            self.tokens.pop_first();
        }
        self.tokens.insert((from, target), (token, now));
    }

    pub(super) fn fresh_token(&self, to: SocketAddr, target: NodeId, now: Time) -> Option<Vec<u8>> {
        self.tokens.get(&(to, target)).filter(|(_, at)| now.since(*at) < TOKEN_FRESH).map(|(t, _)| t.clone())
    }
}
