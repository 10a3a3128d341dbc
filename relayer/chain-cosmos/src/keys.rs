//! Keys: a BIP39 mnemonic of any standard length (12, 15, 18, 21 or 24
//! words, English), coin type 118 (`m/44'/118'/0'/0/{index}`), read from an
//! environment variable or a file, never from the config file. The phrase
//! and the seed are wiped from memory after use (`zeroize`), the variable is
//! removed from the environment once read, and a key file is refused unless
//! only its owner can read it (mode 0600). [`Keyring`] keeps named key files
//! in a directory (`relayer keys add|list|show|delete`).

use std::path::{Path, PathBuf};

use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::crypto::PublicKey;
use relayer_core::{ChainError, ConfigError};
use zeroize::Zeroizing;

/// A signing key and its address.
pub struct Signer {
    key: SigningKey,
    address: String,
    index: u32,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Signer")
            .field("address", &self.address)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The HD path of the Cosmos Hub coin type for an account index.
pub fn hd_path(index: u32) -> String {
    format!("m/44'/118'/0'/0/{index}")
}

/// Parses an English BIP39 phrase of 12 to 24 words (any whitespace
/// between words), checking its checksum.
pub fn parse_mnemonic(phrase: &str) -> Result<bip39::Mnemonic, ChainError> {
    let normalized = Zeroizing::new(phrase.split_whitespace().collect::<Vec<_>>().join(" "));
    bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normalized)
        .map_err(|e| ChainError::Signer(format!("invalid mnemonic: {e}")))
}

/// A fresh 24-word phrase from the operating system's randomness.
pub fn generate_mnemonic() -> Result<Zeroizing<String>, ChainError> {
    let mut entropy = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(entropy.as_mut())
        .map_err(|e| ChainError::Signer(format!("randomness: {e}")))?;
    let mnemonic = bip39::Mnemonic::from_entropy(entropy.as_ref())
        .map_err(|e| ChainError::Signer(format!("mnemonic: {e}")))?;
    Ok(Zeroizing::new(mnemonic.to_string()))
}

impl Signer {
    /// Derives the key for `index` from an English BIP39 mnemonic of 12,
    /// 15, 18, 21 or 24 words (no passphrase), as Keplr, Leap and CosmJS do.
    pub fn from_mnemonic(phrase: &str, prefix: &str, index: u32) -> Result<Self, ChainError> {
        let mnemonic = parse_mnemonic(phrase)?;
        let seed = Zeroizing::new(mnemonic.to_seed_normalized(""));
        let path: bip32::DerivationPath = hd_path(index)
            .parse()
            .map_err(|e| ChainError::Signer(format!("derivation path: {e}")))?;
        let xprv = bip32::XPrv::derive_from_path(seed.as_ref(), &path)
            .map_err(|e| ChainError::Signer(format!("derivation: {e}")))?;
        let secret = Zeroizing::new(xprv.private_key().to_bytes());
        let key = SigningKey::from_slice(&secret[..])
            .map_err(|e| ChainError::Signer(format!("secp256k1 key: {e}")))?;
        let address = key
            .public_key()
            .account_id(prefix)
            .map_err(|e| ChainError::Signer(format!("address: {e}")))?
            .to_string();
        Ok(Self {
            key,
            address,
            index,
        })
    }

    /// bech32 address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

/// Refuses a key file that anyone but its owner can read or write (unix).
pub fn check_key_file_mode(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    check_mode(path, &meta)
}

fn check_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} has mode {mode:o}; a key file must be readable by its owner only (chmod 600)",
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, meta);
    Ok(())
}

/// Reads a key file after checking its mode (on the opened file, so the
/// file checked is the file read), into one buffer of the file's size.
pub fn read_key_file(path: &Path) -> Result<Zeroizing<String>, String> {
    use std::io::Read;
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    check_mode(path, &meta)?;
    // Sized up front: a growing buffer would leave unwiped copies behind.
    let mut text = Zeroizing::new(String::with_capacity(meta.len() as usize + 1));
    file.read_to_string(&mut text)
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok(text)
}

/// Secrets moved out of the environment by [`take_env_secret`], by variable
/// name, until [`load_mnemonic`] asks for them (once).
static TAKEN: std::sync::Mutex<Vec<(String, Zeroizing<String>)>> =
    std::sync::Mutex::new(Vec::new());

/// Reads a variable and removes it from the environment; `Err` if it is
/// set but not UTF-8 (its bytes are wiped).
fn read_and_remove(var: &str) -> Result<Option<Zeroizing<String>>, String> {
    let Some(value) = std::env::var_os(var) else {
        return Ok(None);
    };
    // Read once: child processes and crash dumps do not see it.
    std::env::remove_var(var);
    match value.into_string() {
        Ok(text) => Ok(Some(Zeroizing::new(text))),
        Err(raw) => {
            drop(Zeroizing::new(raw.into_encoded_bytes()));
            Err(format!("environment variable {var} is not UTF-8"))
        }
    }
}

/// Moves a secret out of the environment into this process's memory, for a
/// later [`load_mnemonic`] with the same variable. The binary calls it
/// before its async runtime starts any thread: removing a variable while
/// another thread reads the environment is undefined behaviour in C's
/// `getenv`/`setenv`, which libraries call freely.
pub fn take_env_secret(var: &str) -> Result<(), String> {
    if let Some(value) = read_and_remove(var)? {
        let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        taken.retain(|(name, _)| name != var);
        taken.push((var.to_string(), value));
    }
    Ok(())
}

fn take_stashed(var: &str) -> Option<Zeroizing<String>> {
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    let i = taken.iter().position(|(name, _)| name == var)?;
    Some(taken.swap_remove(i).1)
}

/// Reads a mnemonic from `env_var` if set and non-empty (taken earlier by
/// [`take_env_secret`], or read now and removed from the environment), else
/// from `file` (mode 0600 only). `field` names the config field for errors.
pub fn load_mnemonic(
    env_var: Option<&str>,
    file: Option<&Path>,
    field: &str,
) -> Result<Zeroizing<String>, ConfigError> {
    let secret = |reason: String| ConfigError::Secret {
        field: field.to_string(),
        reason,
    };
    if let Some(var) = env_var {
        let value = match take_stashed(var) {
            Some(value) => Some(value),
            None => read_and_remove(var).map_err(secret)?,
        };
        if let Some(value) = value {
            if !value.trim().is_empty() {
                return Ok(value);
            }
        }
    }
    if let Some(path) = file {
        return read_key_file(path).map_err(secret);
    }
    Err(secret(match env_var {
        Some(var) => {
            format!("environment variable {var} is not set and no mnemonic_file is configured")
        }
        None => "neither mnemonic_env nor mnemonic_file is configured".into(),
    }))
}

/// Named mnemonic files (`<dir>/<name>.mnemonic`, mode 0600) for
/// `relayer keys`; a config points `signer.mnemonic_file` at one.
#[derive(Clone, Debug)]
pub struct Keyring {
    dir: PathBuf,
}

impl Keyring {
    /// A keyring in `dir` (created on the first `add`, mode 0700).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of a key.
    pub fn path(&self, name: &str) -> Result<PathBuf, String> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(format!(
                "key name {name:?}: use 1 to 64 of a-z, A-Z, 0-9, - and _"
            ));
        }
        Ok(self.dir.join(format!("{name}.mnemonic")))
    }

    /// Stores a phrase (checked first) under a new name, mode 0600; an
    /// existing name is refused, never overwritten.
    pub fn add(&self, name: &str, phrase: &str) -> Result<PathBuf, String> {
        parse_mnemonic(phrase).map_err(|e| e.to_string())?;
        let path = self.path(name)?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("creating {}: {e}", self.dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700));
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!("key {name} already exists"),
            _ => format!("creating {}: {e}", path.display()),
        })?;
        let normalized = Zeroizing::new(phrase.split_whitespace().collect::<Vec<_>>().join(" "));
        std::io::Write::write_all(&mut file, format!("{}\n", normalized.as_str()).as_bytes())
            .and_then(|_| file.sync_all())
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(path)
    }

    /// The stored phrase of a key.
    pub fn read(&self, name: &str) -> Result<Zeroizing<String>, String> {
        let path = self.path(name)?;
        if !path.exists() {
            return Err(format!("no key {name} in {}", self.dir.display()));
        }
        read_key_file(&path)
    }

    /// Names of the stored keys, sorted.
    pub fn list(&self) -> Result<Vec<String>, String> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(format!("reading {}: {e}", self.dir.display())),
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".mnemonic")
                    .map(str::to_string)
            })
            .collect();
        names.sort();
        Ok(names)
    }

    /// Deletes a key file.
    pub fn delete(&self, name: &str) -> Result<(), String> {
        let path = self.path(name)?;
        std::fs::remove_file(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("no key {name} in {}", self.dir.display()),
            _ => format!("deleting {}: {e}", path.display()),
        })
    }
}
