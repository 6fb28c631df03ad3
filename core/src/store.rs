//! The encrypted store: one state file sealed with AES-256-GCM under a random data key, and
//! the data key wrapped by the platform's [`KeyProtector`] (Android Keystore, iOS Keychain, or
//! [`FileKeyProtector`] on the desktop). Files are replaced atomically: write a temporary file,
//! fsync it, rename it over the old one, fsync the directory. Wiping destroys the key first
//! (cryptographic erase), then the files.
//!
//! State file layout (all integers big-endian):
//! `"QLST"` magic (4) · format version `1` (1) · nonce (12) · ciphertext with GCM tag (≥16).
//! The first 5 bytes are the AEAD's associated data.

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 4] = b"QLST";
const VERSION: u8 = 1;
const HEADER: usize = 5;
/// The largest state file the store will read.
pub const MAX_STATE_BYTES: u64 = 256 * 1024 * 1024;
/// File names under the state directory.
pub const STATE_FILE: &str = "state.qls";
/// The wrapped data key.
pub const KEY_FILE: &str = "data.key";
/// Registry files are named `registry-<generation>.qls`; the state names the current one.
pub const REGISTRY_PREFIX: &str = "registry-";

/// Why the platform's key protector failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyProtectorError {
    /// The key store cannot be used right now (e.g. locked before first unlock). Retry later.
    #[error("the key store is unavailable for now: {0}")]
    Unavailable(String),
    /// The protecting key is gone or invalidated; the data it protected cannot be recovered.
    #[error("the protecting key is gone or invalidated")]
    KeyInvalidated,
    /// Any other failure.
    #[error("the key store failed: {0}")]
    Failed(String),
}

impl KeyProtectorError {
    /// Whether trying again later may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, KeyProtectorError::Unavailable(_))
    }
}

/// Wraps and unwraps the data key with a key the platform keeps out of the app's reach.
pub trait KeyProtector: Send + Sync {
    /// Encrypts `data_key`; the result is stored beside the state.
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProtectorError>;
    /// Decrypts what [`KeyProtector::wrap`] returned.
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyProtectorError>;
    /// Destroys the protecting key, making every wrapped key unrecoverable.
    fn destroy(&self) -> Result<(), KeyProtectorError>;
    /// Records the state's generation where copying an older state directory back cannot undo
    /// it (beside the protecting key: a Keychain item, Keystore key metadata, a file next to
    /// the desktop key). Returns `false` when this protector cannot record one (the default):
    /// rollback of the directory is then not detected.
    fn record_generation(&self, generation: u64) -> Result<bool, KeyProtectorError> {
        let _ = generation;
        Ok(false)
    }
    /// The generation last recorded with [`KeyProtector::record_generation`], if any.
    fn recorded_generation(&self) -> Result<Option<u64>, KeyProtectorError> {
        Ok(None)
    }
}

/// Why the store failed. Carries no state contents.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A file operation failed.
    #[error("storage {op} failed: {kind}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The OS error kind.
        kind: String,
    },
    /// No agent has been created in this directory.
    #[error("no Quietline state in this directory")]
    NotInitialized,
    /// An agent already exists in this directory.
    #[error("Quietline state already exists in this directory")]
    AlreadyInitialized,
    /// The file is shorter than its header and tag.
    #[error("the state file is truncated")]
    Truncated,
    /// The file does not start with the Quietline magic.
    #[error("the state file is not a Quietline state file")]
    BadMagic,
    /// The file is of a newer format.
    #[error("the state file has unsupported format version {0}")]
    UnsupportedVersion(u8),
    /// Authentication failed: the file was altered or damaged.
    #[error("the state file is corrupt or was altered")]
    Corrupt,
    /// The file is larger than [`MAX_STATE_BYTES`].
    #[error("the state file is too large")]
    TooLarge,
    /// The key protector failed.
    #[error(transparent)]
    Key(#[from] KeyProtectorError),
    /// The store has been wiped.
    #[error("the store has been wiped")]
    Wiped,
}

fn io(op: &'static str) -> impl Fn(io::Error) -> StoreError {
    move |e| StoreError::Io { op, kind: e.kind().to_string() }
}

/// Writes `bytes` to `path` atomically and durably.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().ok_or(StoreError::Io { op: "write", kind: "no parent directory".into() })?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp).map_err(io("create temp"))?;
        set_private(&f);
        f.write_all(bytes).map_err(io("write temp"))?;
        f.sync_all().map_err(io("fsync temp"))?;
    }
    fs::rename(&tmp, path).map_err(io("rename"))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("fsync dir"))?;
    Ok(())
}

#[cfg(unix)]
fn set_private(f: &File) {
    use std::os::unix::fs::PermissionsExt;
    // Best effort: the contents are encrypted, the mode only keeps other users from copying them.
    let _ = f.set_permissions(fs::Permissions::from_mode(0o600));
}
#[cfg(not(unix))]
fn set_private(_f: &File) {}

fn read_limited(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::metadata(path) {
        Ok(m) if m.len() > MAX_STATE_BYTES => Err(StoreError::TooLarge),
        Ok(_) => fs::read(path).map(Some).map_err(io("read")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("stat")(e)),
    }
}

fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).map_err(|_| StoreError::Io { op: "random", kind: "no randomness".into() })?;
    Ok(b)
}

/// Fresh random bytes from the OS.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    random::<N>()
}

fn key_from(bytes: &[u8]) -> Result<LessSafeKey, StoreError> {
    UnboundKey::new(&aead::AES_256_GCM, bytes).map(LessSafeKey::new).map_err(|_| StoreError::Corrupt)
}

/// Seals `plaintext` into the state-file format.
pub fn seal(key: &LessSafeKey, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
    let nonce = random::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(HEADER + NONCE_LEN + plaintext.len() + 16);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&out[..HEADER]), &mut body)
        .map_err(|_| StoreError::Corrupt)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens the state-file format; every malformation is a typed error.
pub fn open_sealed(key: &LessSafeKey, bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    if bytes.len() < HEADER {
        return Err(StoreError::Truncated);
    }
    if &bytes[..4] != MAGIC {
        return Err(StoreError::BadMagic);
    }
    if bytes[4] != VERSION {
        return Err(StoreError::UnsupportedVersion(bytes[4]));
    }
    if bytes.len() < HEADER + NONCE_LEN + aead::AES_256_GCM.tag_len() {
        return Err(StoreError::Truncated);
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&bytes[HEADER..HEADER + NONCE_LEN]);
    let mut body = bytes[HEADER + NONCE_LEN..].to_vec();
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(&bytes[..HEADER]), &mut body)
        .map_err(|_| StoreError::Corrupt)?;
    Ok(plain.to_vec())
}

/// The state directory with its unwrapped data key.
pub struct Store {
    dir: PathBuf,
    protector: Arc<dyn KeyProtector>,
    key: Option<LessSafeKey>,
    /// Authenticates files kept in plain beside the state (the wipe marker); derived from the
    /// data key, so only this agent can make a valid tag and it dies with the key.
    tag_key: Option<ring::hmac::Key>,
}

fn tag_key(data_key: &[u8]) -> ring::hmac::Key {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, data_key);
    let derived = ring::hmac::sign(&k, b"quietline: tag of plain side files v1");
    ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derived.as_ref())
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.dir.display())
    }
}

impl Store {
    /// Creates a new store in `dir` (which may exist but must hold no state).
    pub fn create(dir: &Path, protector: Arc<dyn KeyProtector>) -> Result<Self, StoreError> {
        fs::create_dir_all(dir).map_err(io("create dir"))?;
        if dir.join(STATE_FILE).exists() {
            return Err(StoreError::AlreadyInitialized);
        }
        let data_key = random::<32>()?;
        let wrapped = protector.wrap(&data_key)?;
        write_atomic(&dir.join(KEY_FILE), &wrapped)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            protector,
            key: Some(key_from(&data_key)?),
            tag_key: Some(tag_key(&data_key)),
        })
    }

    /// Opens an existing store, unwrapping its data key.
    pub fn open(dir: &Path, protector: Arc<dyn KeyProtector>) -> Result<Self, StoreError> {
        if !dir.join(STATE_FILE).exists() {
            return Err(StoreError::NotInitialized);
        }
        let wrapped = read_limited(&dir.join(KEY_FILE))?.ok_or(StoreError::NotInitialized)?;
        let data_key = protector.unwrap(&wrapped)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            protector,
            key: Some(key_from(&data_key)?),
            tag_key: Some(tag_key(&data_key)),
        })
    }

    /// An HMAC-SHA256 tag over `bytes` under a key derived from the data key.
    pub fn tag(&self, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
        let k = self.tag_key.as_ref().ok_or(StoreError::Wiped)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(ring::hmac::sign(k, bytes).as_ref());
        Ok(out)
    }

    /// Records the committed generation with the key protector (see
    /// [`KeyProtector::record_generation`]). Best effort: a failure leaves the record older than
    /// the state, which is never mistaken for a rollback.
    pub fn record_generation(&self, generation: u64) {
        let _ = self.protector.record_generation(generation);
    }

    /// The generation the key protector recorded, if it records them and the record is readable.
    pub fn recorded_generation(&self) -> Option<u64> {
        self.protector.recorded_generation().ok().flatten()
    }

    /// Whether `tag` is this store's tag over `bytes` (compared in constant time).
    pub fn check_tag(&self, bytes: &[u8], tag: &[u8]) -> bool {
        self.tag_key.as_ref().is_some_and(|k| ring::hmac::verify(k, bytes, tag).is_ok())
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Seals and atomically replaces the state file.
    pub fn save(&self, plaintext: &[u8]) -> Result<(), StoreError> {
        let key = self.key.as_ref().ok_or(StoreError::Wiped)?;
        write_atomic(&self.dir.join(STATE_FILE), &seal(key, plaintext)?)
    }

    /// Seals and atomically writes a side file (the registry) next to the state file.
    pub fn save_file(&self, name: &str, plaintext: &[u8]) -> Result<(), StoreError> {
        let key = self.key.as_ref().ok_or(StoreError::Wiped)?;
        write_atomic(&self.dir.join(name), &seal(key, plaintext)?)
    }

    /// Reads and opens a side file.
    pub fn load_file(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let key = self.key.as_ref().ok_or(StoreError::Wiped)?;
        let bytes = read_limited(&self.dir.join(name))?.ok_or(StoreError::Truncated)?;
        open_sealed(key, &bytes)
    }

    /// Removes the registry files other than `keep` (left by a crash or replaced by a commit).
    pub fn remove_registry_files_except(&self, keep: &str) {
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with(REGISTRY_PREFIX) && name != keep {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
    }

    /// Reads and opens the state file.
    pub fn load(&self) -> Result<Vec<u8>, StoreError> {
        let key = self.key.as_ref().ok_or(StoreError::Wiped)?;
        let bytes = read_limited(&self.dir.join(STATE_FILE))?.ok_or(StoreError::NotInitialized)?;
        open_sealed(key, &bytes)
    }

    /// Cryptographic erase: see [`wipe_dir`]. The store cannot be used afterwards.
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        self.key = None;
        self.tag_key = None;
        wipe_dir(&self.dir, self.protector.as_ref())
    }
}

/// Cryptographic erase of a state directory: destroys the protecting key and overwrites the
/// wrapped data key first, then removes the files. A failure to destroy the platform key is
/// reported, but the wrapped key and state are still removed.
pub fn wipe_dir(dir: &Path, protector: &dyn KeyProtector) -> Result<(), StoreError> {
    let destroyed = protector.destroy();
    // Overwrite in place before unlinking so the wrapped key does not linger in its blocks. A
    // failure here does not stop the erase: the protecting key is already destroyed.
    let _ = overwrite_in_place(&dir.join(KEY_FILE));
    let mut names: Vec<String> =
        [KEY_FILE, STATE_FILE, "state.qls.tmp", "data.key.tmp"].iter().map(|s| s.to_string()).collect();
    if let Ok(entries) = fs::read_dir(dir) {
        names.extend(
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with(REGISTRY_PREFIX)),
        );
    }
    for name in names {
        match fs::remove_file(dir.join(&name)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove")(e)),
        }
    }
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("fsync dir"))?;
    destroyed.map_err(StoreError::Key)
}

/// Overwrites a file's bytes with zeros in the same inode (no temp file, no rename: that would
/// leave the old bytes in the old blocks) and syncs them to disk. On a copy-on-write or
/// flash-translated medium the old blocks may survive all the same, which is why the data key
/// is always wrapped by a key the platform can destroy (see docs/threat-model.md).
pub fn overwrite_in_place(path: &Path) -> Result<(), StoreError> {
    let mut f = match OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("open for overwrite")(e)),
    };
    let len = f.metadata().map_err(io("stat"))?.len();
    let zeros = vec![0u8; usize::try_from(len).unwrap_or(0).min(MAX_STATE_BYTES as usize)];
    f.write_all(&zeros).map_err(io("overwrite"))?;
    f.sync_all().map_err(io("fsync overwrite"))
}

/// A key protector for desktops and tests: a 256-bit key-encryption key in a file (mode 0600)
/// wraps the data key with AES-256-GCM. On phones the platform's key store replaces it.
#[derive(Debug, Clone)]
pub struct FileKeyProtector {
    path: PathBuf,
}

impl FileKeyProtector {
    /// A protector whose key lives at `path` (created on first wrap).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the state's generation is recorded: beside the key-encryption key, outside the
    /// state directory.
    fn generation_path(&self) -> PathBuf {
        let mut p = self.path.as_os_str().to_owned();
        p.push(".generation");
        PathBuf::from(p)
    }

    fn kek(&self, create: bool) -> Result<LessSafeKey, KeyProtectorError> {
        let fail = |e: io::Error| KeyProtectorError::Failed(e.kind().to_string());
        match fs::read(&self.path) {
            Ok(b) if b.len() == 32 => UnboundKey::new(&aead::AES_256_GCM, &b)
                .map(LessSafeKey::new)
                .map_err(|_| KeyProtectorError::KeyInvalidated),
            Ok(_) => Err(KeyProtectorError::KeyInvalidated),
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                let k = random::<32>().map_err(|_| KeyProtectorError::Failed("no randomness".into()))?;
                if let Some(parent) = self.path.parent() {
                    fs::create_dir_all(parent).map_err(fail)?;
                }
                write_atomic(&self.path, &k).map_err(|e| KeyProtectorError::Failed(e.to_string()))?;
                UnboundKey::new(&aead::AES_256_GCM, &k)
                    .map(LessSafeKey::new)
                    .map_err(|_| KeyProtectorError::KeyInvalidated)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(KeyProtectorError::KeyInvalidated),
            Err(e) => Err(fail(e)),
        }
    }
}

impl KeyProtector for FileKeyProtector {
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        let kek = self.kek(true)?;
        let nonce = random::<NONCE_LEN>().map_err(|_| KeyProtectorError::Failed("no randomness".into()))?;
        let mut body = data_key.to_vec();
        kek.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(b"quietline-kek"), &mut body)
            .map_err(|_| KeyProtectorError::Failed("seal".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&body);
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        let kek = self.kek(false)?;
        if wrapped.len() < NONCE_LEN + 16 {
            return Err(KeyProtectorError::KeyInvalidated);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&wrapped[..NONCE_LEN]);
        let mut body = wrapped[NONCE_LEN..].to_vec();
        kek.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(b"quietline-kek"), &mut body)
            .map(|p| p.to_vec())
            .map_err(|_| KeyProtectorError::KeyInvalidated)
    }

    fn record_generation(&self, generation: u64) -> Result<bool, KeyProtectorError> {
        write_atomic(&self.generation_path(), generation.to_string().as_bytes())
            .map_err(|e| KeyProtectorError::Failed(e.to_string()))?;
        Ok(true)
    }

    fn recorded_generation(&self) -> Result<Option<u64>, KeyProtectorError> {
        match fs::read_to_string(self.generation_path()) {
            Ok(s) => s.trim().parse().map(Some).map_err(|_| KeyProtectorError::Failed("generation record".into())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(KeyProtectorError::Failed(e.kind().to_string())),
        }
    }

    fn destroy(&self) -> Result<(), KeyProtectorError> {
        let _ = fs::remove_file(self.generation_path());
        match fs::metadata(&self.path) {
            Ok(_) => {
                overwrite_in_place(&self.path).map_err(|e| KeyProtectorError::Failed(e.to_string()))?;
                fs::remove_file(&self.path).map_err(|e| KeyProtectorError::Failed(e.kind().to_string()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(KeyProtectorError::Failed(e.kind().to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ql-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn save_load_round_trip_and_reopen() {
        let d = tmp("rt");
        let p: Arc<dyn KeyProtector> = Arc::new(FileKeyProtector::new(d.join("kek")));
        let s = Store::create(&d, p.clone()).expect("create");
        s.save(b"hello state").expect("save");
        let s2 = Store::open(&d, p).expect("open");
        assert_eq!(s2.load().expect("load"), b"hello state");
        let raw = fs::read(d.join(STATE_FILE)).expect("raw");
        assert!(!raw.windows(5).any(|w| w == b"hello"));
        fs::remove_dir_all(&d).expect("cleanup");
    }

    #[test]
    fn every_malformation_is_a_typed_error() {
        let key = key_from(&[3u8; 32]).expect("key");
        let good = seal(&key, b"{}").expect("seal");
        assert_eq!(open_sealed(&key, &[]), Err(StoreError::Truncated));
        assert_eq!(open_sealed(&key, b"QLS"), Err(StoreError::Truncated));
        assert_eq!(open_sealed(&key, b"XXXX\x01aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), Err(StoreError::BadMagic));
        assert_eq!(
            open_sealed(&key, b"QLST\x09aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            Err(StoreError::UnsupportedVersion(9))
        );
        for cut in 5..good.len() {
            assert!(open_sealed(&key, &good[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(open_sealed(&key, &flipped), Err(StoreError::Corrupt));
    }

    #[test]
    fn wipe_destroys_key_then_files() {
        let d = tmp("wipe");
        let p: Arc<dyn KeyProtector> = Arc::new(FileKeyProtector::new(d.join("kek")));
        let mut s = Store::create(&d, p.clone()).expect("create");
        s.save(b"x").expect("save");
        s.wipe().expect("wipe");
        assert!(!d.join("kek").exists());
        assert!(!d.join(KEY_FILE).exists());
        assert!(!d.join(STATE_FILE).exists());
        assert_eq!(s.save(b"y"), Err(StoreError::Wiped));
        fs::remove_dir_all(&d).expect("cleanup");
    }

    #[test]
    fn destroyed_kek_means_key_invalidated() {
        let d = tmp("kek");
        let p = Arc::new(FileKeyProtector::new(d.join("kek")));
        let s = Store::create(&d, p.clone()).expect("create");
        s.save(b"x").expect("save");
        p.destroy().expect("destroy");
        assert_eq!(Store::open(&d, p).err(), Some(StoreError::Key(KeyProtectorError::KeyInvalidated)));
        fs::remove_dir_all(&d).expect("cleanup");
    }
}
