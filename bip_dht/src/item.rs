//! BEP 44 items: immutable values (target = SHA-1 of the bencoded value) and mutable values
//! signed with ed25519 (target = SHA-1 of the public key and the optional salt).
//!
//! Signing and verification use the `ed25519-dalek` crate; keys come from 32-byte seeds
//! ([`signing_key`]). The BEP's published vectors give a 64-byte *expanded* secret key instead
//! of a seed: [`MutableItem::sign_expanded`] signs with one of those.
//!
//! ```
//! use bip_dht::item::{immutable_target, signing_key, MutableItem};
//!
//! // Immutable: the target is the SHA-1 of the bencoded value.
//! let t = immutable_target(b"12:Hello World!");
//! assert_eq!(t.to_string(), "e5f96f6f38320f0f33959cb4d3d656452117aadb");
//!
//! // Mutable: signed with a key made from a seed; anyone can verify with the public key.
//! let key = signing_key(&[7; 32]);
//! let item = MutableItem::sign(&key, b"salt", 1, b"5:hello").unwrap();
//! assert!(item.verify().is_ok());
//! ```

use bip_util::NodeId;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

pub use ed25519_dalek::SigningKey;

/// Longest bencoded value (`v`) stored or sent (BEP 44: 1000 bytes; error 205 beyond).
pub const MAX_VALUE_LEN: usize = 1000;
/// Longest salt (BEP 44: 64 bytes; error 207 beyond).
pub const MAX_SALT_LEN: usize = 64;
/// Length of an ed25519 public key (`k`).
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an ed25519 signature (`sig`).
pub const SIGNATURE_LEN: usize = 64;

/// Why an item is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ItemError {
    /// The bencoded value is longer than [`MAX_VALUE_LEN`] (BEP 44 error 205).
    #[error("value of {0} bytes is longer than 1000")]
    ValueTooBig(usize),
    /// The salt is longer than [`MAX_SALT_LEN`] (BEP 44 error 207).
    #[error("salt of {0} bytes is longer than 64")]
    SaltTooBig(usize),
    /// The value is not one canonical bencoded value (BEP 44: error 203).
    #[error("value is not canonical bencode")]
    InvalidValue,
    /// The public key is not a valid ed25519 point.
    #[error("invalid public key")]
    InvalidKey,
    /// The signature does not verify (BEP 44 error 206).
    #[error("invalid signature")]
    InvalidSignature,
}

/// An ed25519 signing key from a 32-byte seed (RFC 8032 private key).
pub fn signing_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

/// The target of an immutable item: SHA-1 of its bencoded value.
pub fn immutable_target(value: &[u8]) -> NodeId {
    NodeId::from_sha1(value)
}

/// The target of a mutable item: SHA-1 of the public key followed by the salt (an empty salt
/// is the same as none).
pub fn mutable_target(key: &[u8; PUBLIC_KEY_LEN], salt: &[u8]) -> NodeId {
    let mut buf = Vec::with_capacity(PUBLIC_KEY_LEN + salt.len());
    buf.extend_from_slice(key);
    buf.extend_from_slice(salt);
    NodeId::from_sha1(&buf)
}

/// The bytes a mutable item's signature covers: `4:salt<len>:<salt>` (only with a non-empty
/// salt), `3:seqi<seq>e1:v`, then the bencoded value.
pub fn signed_buffer(salt: &[u8], seq: i64, value: &[u8]) -> Vec<u8> {
    use bip_bencode::encode as be;
    let mut out = Vec::with_capacity(salt.len() + value.len() + 40);
    if !salt.is_empty() {
        be::bytes(&mut out, b"salt");
        be::bytes(&mut out, salt);
    }
    be::bytes(&mut out, b"seq");
    be::int(&mut out, seq);
    be::bytes(&mut out, b"v");
    out.extend_from_slice(value);
    out
}

/// Checks a bencoded value: at most [`MAX_VALUE_LEN`] bytes and exactly one canonical value.
pub fn check_value(value: &[u8]) -> Result<(), ItemError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(ItemError::ValueTooBig(value.len()));
    }
    bip_bencode::decode(value).map_err(|_| ItemError::InvalidValue)?;
    Ok(())
}

/// Verifies a mutable item's signature (strict ed25519 verification) and the salt length.
pub fn verify(
    key: &[u8; PUBLIC_KEY_LEN],
    salt: &[u8],
    seq: i64,
    value: &[u8],
    signature: &[u8; SIGNATURE_LEN],
) -> Result<(), ItemError> {
    if salt.len() > MAX_SALT_LEN {
        return Err(ItemError::SaltTooBig(salt.len()));
    }
    let vk = VerifyingKey::from_bytes(key).map_err(|_| ItemError::InvalidKey)?;
    let sig = Signature::from_bytes(signature);
    vk.verify(&signed_buffer(salt, seq, value), &sig)
        .map_err(|_| ItemError::InvalidSignature)
}

/// A signed mutable item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MutableItem {
    /// `k`: the ed25519 public key.
    pub key: [u8; PUBLIC_KEY_LEN],
    /// The salt (empty: none). Not sent in `get` answers; the reader knows it.
    pub salt: Vec<u8>,
    /// `seq`: the sequence number.
    pub seq: i64,
    /// `v`: the bencoded value.
    pub value: Vec<u8>,
    /// `sig`: the signature over [`signed_buffer`].
    pub signature: [u8; SIGNATURE_LEN],
}

impl MutableItem {
    fn check(salt: &[u8], value: &[u8]) -> Result<(), ItemError> {
        if salt.len() > MAX_SALT_LEN {
            return Err(ItemError::SaltTooBig(salt.len()));
        }
        check_value(value)
    }

    /// Signs `value` (bencoded) under `salt` and `seq` with `key`.
    pub fn sign(key: &SigningKey, salt: &[u8], seq: i64, value: &[u8]) -> Result<Self, ItemError> {
        Self::check(salt, value)?;
        let sig = ed25519_dalek::Signer::sign(key, &signed_buffer(salt, seq, value));
        Ok(MutableItem {
            key: key.verifying_key().to_bytes(),
            salt: salt.to_vec(),
            seq,
            value: value.to_vec(),
            signature: sig.to_bytes(),
        })
    }

    /// Signs with a 64-byte expanded secret key (clamped scalar, then hash prefix), as the BEP
    /// 44 test vectors publish it; use [`sign`](Self::sign) with a seed everywhere else.
    pub fn sign_expanded(
        expanded: &[u8; 64],
        salt: &[u8],
        seq: i64,
        value: &[u8],
    ) -> Result<Self, ItemError> {
        use ed25519_dalek::hazmat::{raw_sign, ExpandedSecretKey};
        Self::check(salt, value)?;
        let esk = ExpandedSecretKey::from_bytes(expanded);
        let vk = VerifyingKey::from(&esk);
        let sig = raw_sign::<sha2::Sha512>(&esk, &signed_buffer(salt, seq, value), &vk);
        Ok(MutableItem {
            key: vk.to_bytes(),
            salt: salt.to_vec(),
            seq,
            value: value.to_vec(),
            signature: sig.to_bytes(),
        })
    }

    /// Checks the salt, the value and the signature.
    pub fn verify(&self) -> Result<(), ItemError> {
        Self::check(&self.salt, &self.value)?;
        verify(
            &self.key,
            &self.salt,
            self.seq,
            &self.value,
            &self.signature,
        )
    }

    /// The target: SHA-1 of the key and salt.
    pub fn target(&self) -> NodeId {
        mutable_target(&self.key, &self.salt)
    }
}

/// An item to store or one found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Item {
    /// An immutable item: its bencoded value.
    Immutable(Vec<u8>),
    /// A mutable item.
    Mutable(MutableItem),
}

impl Item {
    /// The item's target.
    pub fn target(&self) -> NodeId {
        match self {
            Item::Immutable(v) => immutable_target(v),
            Item::Mutable(m) => m.target(),
        }
    }

    /// The bencoded value.
    pub fn value(&self) -> &[u8] {
        match self {
            Item::Immutable(v) => v,
            Item::Mutable(m) => &m.value,
        }
    }

    /// Checks the value (and for a mutable item its salt and signature).
    pub fn verify(&self) -> Result<(), ItemError> {
        match self {
            Item::Immutable(v) => check_value(v),
            Item::Mutable(m) => m.verify(),
        }
    }
}
