//! The key protector: wraps the agent's data key with an AES-256-GCM key that lives in the
//! platform key store (`AndroidKeyStore` on phones) and never leaves it, by calling
//! `java.security.KeyStore`, `javax.crypto.KeyGenerator` and `javax.crypto.Cipher` through `jni`.
//!
//! Failures are typed, never a plaintext fallback: the key store being locked (before the first
//! unlock, or a user-authentication requirement) is `Unavailable` and the app retries later; a
//! missing, permanently invalidated or mismatched key is `KeyInvalidated` (the wrapped data key is
//! gone for good: wipe and re-enroll); anything else is `Failed`.
//!
//! The wrapped form is `[1][iv length][iv][ciphertext and tag]`, the IV chosen by the key store
//! (Android Keystore refuses caller-chosen IVs for encryption), with a fixed AAD naming its use.
//!
//! **The generation record** (rollback of the state directory, issue 11 item 7). After every
//! commit the core hands over the state's generation, and this protector keeps it *in the key
//! store*, as the alias of a key entry: `<alias>.generation.<n>`, a fresh key generated under the
//! new alias, then every other `<alias>.generation.*` entry deleted. Android Keystore entries are
//! not files of the app: they live in the system's keystore service, whose key material "never
//! enters the application process" and whose restrictions are enforced "outside of the apps'
//! processes" (developer.android.com/privacy-and-security/keystore, "Security features"); Auto
//! Backup's list of what it backs up is the app's files, shared preferences and databases
//! (developer.android.com/identity/data/autobackup, "Files that are backed up"). So a copy of the
//! state directory put back over a newer one (a backup, `adb`, someone with file access to the
//! app's directory) cannot lower the record, and `open` refuses it. Root can put back the
//! keystore's own database too: see docs/threat-model.md. Why an alias and not a value:
//! `java.security.KeyStore` holds only keys and certificates (no user metadata), and the alias is
//! the one name an app chooses that the store keeps; a counter in a shared
//! preference would be rolled back with the files. Crash order: the new entry is made before the
//! old ones go, so a crash leaves the higher one readable (the record never goes backwards); a
//! crash before the record leaves it older than the state, which is not a rollback. Cost: one key
//! generation and one deletion per commit, a few binder calls to keystore2.

use crate::runtime::{self, Classes, Runtime};
use jni::errors::Error as JniError;
use jni::objects::{JByteArray, JObject, JString, JThrowable, JValue};
use jni::{jni_sig, jni_str, Env};
use quietline_core::KeyProtectorError;

/// The wrapped form's version byte.
const FORMAT_V1: u8 = 1;
/// Binds the ciphertext to its use, so a blob wrapped for something else never unwraps as a data key.
const AAD: &[u8] = b"quietline/data-key/v1";
/// `KeyProperties.PURPOSE_ENCRYPT | KeyProperties.PURPOSE_DECRYPT`.
const PURPOSE_ENCRYPT_DECRYPT: i32 = 1 | 2;
/// `Cipher.ENCRYPT_MODE`, `Cipher.DECRYPT_MODE`.
const ENCRYPT_MODE: i32 = 1;
const DECRYPT_MODE: i32 = 2;
/// GCM tag length in bits.
const TAG_BITS: i32 = 128;
/// How far the cause chain of a Java exception is followed when classifying it.
const MAX_CAUSES: usize = 8;

/// The alias of the key that wraps the agent's data key in the app.
pub const DEFAULT_KEY_ALIAS: &str = "quietline-data-key";
/// Between the data key's alias and a generation in a generation record's alias.
const GENERATION_INFIX: &str = ".generation.";
/// How many aliases of the store are read at most when looking for generation records.
const MAX_ALIASES: usize = 4096;

/// Wraps data keys with a non-exportable AES-GCM key named `alias` in the key store `provider`.
/// `provider` is `"AndroidKeyStore"` on phones; tests pass a software provider of their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JniKeyProtector {
    provider: String,
    alias: String,
}

impl JniKeyProtector {
    /// A protector for the key `alias` in `provider`. Nothing is created until the first wrap.
    pub fn new(provider: impl Into<String>, alias: impl Into<String>) -> Self {
        JniKeyProtector { provider: provider.into(), alias: alias.into() }
    }

    /// Runs `f` on an attached thread with the cached runtime. A thread Rust started is attached
    /// for this call only; a thread already attached (a Java caller) is left as it is.
    fn attached<T>(
        &self,
        f: impl FnOnce(&mut Env<'_>, &Runtime) -> Result<T, KeyProtectorError>,
    ) -> Result<T, KeyProtectorError> {
        let rt = runtime::get().ok_or_else(|| {
            KeyProtectorError::Failed("Quietline.init(context) was not called before the key store was used".into())
        })?;
        let result: Result<Result<T, KeyProtectorError>, JniError> =
            rt.vm.attach_current_thread_for_scope(|env| Ok(f(env, rt)));
        match result {
            Ok(r) => r,
            // An exception that escaped `f` was caught and cleared by the attachment.
            Err(JniError::CaughtJavaException { name, msg, .. }) => {
                Err(classify_name(&name, &msg).unwrap_or(KeyProtectorError::Failed(format!("{name}: {msg}"))))
            }
            Err(e) => Err(KeyProtectorError::Failed(format!("JNI: {e}"))),
        }
    }

    /// Encrypts `data_key` under the store's key, creating the key on first use.
    pub fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        self.attached(|env, rt| {
            let c = &rt.classes;
            let store = load_store(env, c, &self.provider)?;
            let key = match get_key(env, &store, &self.alias)? {
                Some(k) => k,
                None => generate_key(env, c, &self.provider, &self.alias)?,
            };
            let cipher = new_cipher(env, c)?;
            let r = env.call_method(
                &cipher,
                jni_str!("init"),
                jni_sig!("(ILjava/security/Key;)V"),
                &[JValue::Int(ENCRYPT_MODE), JValue::Object(&key)],
            );
            check(env, "Cipher.init(encrypt)", r)?;
            let aad = call(env, "AAD", |env| env.byte_array_from_slice(AAD))?;
            let r = env.call_method(&cipher, jni_str!("updateAAD"), jni_sig!("([B)V"), &[JValue::Object(&aad)]);
            check(env, "Cipher.updateAAD", r)?;
            let plain = call(env, "data key", |env| env.byte_array_from_slice(data_key))?;
            let r = env.call_method(&cipher, jni_str!("doFinal"), jni_sig!("([B)[B"), &[JValue::Object(&plain)]);
            let sealed = bytes(env, "Cipher.doFinal", r)?;
            let r = env.call_method(&cipher, jni_str!("getIV"), jni_sig!("()[B"), &[]);
            let iv = bytes(env, "Cipher.getIV", r)?;
            let iv_len = u8::try_from(iv.len())
                .map_err(|_| KeyProtectorError::Failed("the key store chose an oversized IV".into()))?;
            let mut out = Vec::with_capacity(2 + iv.len() + sealed.len());
            out.push(FORMAT_V1);
            out.push(iv_len);
            out.extend_from_slice(&iv);
            out.extend_from_slice(&sealed);
            Ok(out)
        })
    }

    /// Decrypts what [`JniKeyProtector::wrap`] returned. A missing key is `KeyInvalidated`: it was
    /// destroyed (a wipe) or removed by the system, and the data key is gone with it.
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        let (iv, sealed) = match wrapped {
            [FORMAT_V1, n, rest @ ..] if rest.len() > usize::from(*n) => rest.split_at(usize::from(*n)),
            _ => return Err(KeyProtectorError::Failed("the wrapped key is not in a known format".into())),
        };
        self.attached(|env, rt| {
            let c = &rt.classes;
            let store = load_store(env, c, &self.provider)?;
            let Some(key) = get_key(env, &store, &self.alias)? else {
                return Err(KeyProtectorError::KeyInvalidated);
            };
            let iv = call(env, "IV", |env| env.byte_array_from_slice(iv))?;
            let r = env.new_object(&c.gcm_spec, jni_sig!("(I[B)V"), &[JValue::Int(TAG_BITS), JValue::Object(&iv)]);
            let spec = check(env, "GCMParameterSpec", r)?;
            let cipher = new_cipher(env, c)?;
            let r = env.call_method(
                &cipher,
                jni_str!("init"),
                jni_sig!("(ILjava/security/Key;Ljava/security/spec/AlgorithmParameterSpec;)V"),
                &[JValue::Int(DECRYPT_MODE), JValue::Object(&key), JValue::Object(&spec)],
            );
            check(env, "Cipher.init(decrypt)", r)?;
            let aad = call(env, "AAD", |env| env.byte_array_from_slice(AAD))?;
            let r = env.call_method(&cipher, jni_str!("updateAAD"), jni_sig!("([B)V"), &[JValue::Object(&aad)]);
            check(env, "Cipher.updateAAD", r)?;
            let sealed = call(env, "wrapped key", |env| env.byte_array_from_slice(sealed))?;
            let r = env.call_method(&cipher, jni_str!("doFinal"), jni_sig!("([B)[B"), &[JValue::Object(&sealed)]);
            bytes(env, "Cipher.doFinal", r)
        })
    }

    /// Deletes the key from the store (cryptographic erase), and the generation records with it so
    /// that a new agent starts from generation one. Deleting a key that is already gone succeeds,
    /// so a wipe interrupted after this step can be repeated.
    pub fn destroy(&self) -> Result<(), KeyProtectorError> {
        let prefix = self.generation_prefix();
        self.attached(|env, rt| {
            let store = load_store(env, &rt.classes, &self.provider)?;
            delete_entry(env, &store, &self.alias)?;
            for (alias, _) in generation_aliases(env, &store, &prefix)? {
                delete_entry(env, &store, &alias)?;
            }
            Ok(())
        })
    }

    /// `<alias>.generation.`
    fn generation_prefix(&self) -> String {
        format!("{}{GENERATION_INFIX}", self.alias)
    }

    /// Records `generation` as the key entry `<alias>.generation.<generation>`, then deletes every
    /// other generation entry (see the module's docs for why an alias, and the crash order).
    pub fn record_generation(&self, generation: u64) -> Result<bool, KeyProtectorError> {
        let prefix = self.generation_prefix();
        let current = format!("{prefix}{generation}");
        self.attached(|env, rt| {
            let c = &rt.classes;
            let store = load_store(env, c, &self.provider)?;
            let existing = generation_aliases(env, &store, &prefix)?;
            if !existing.iter().any(|(a, _)| *a == current) {
                let key = generate_key(env, c, &self.provider, &current)?;
                env.delete_local_ref(key);
            }
            for (alias, _) in existing.iter().filter(|(a, _)| *a != current) {
                delete_entry(env, &store, alias)?;
            }
            Ok(true)
        })
    }

    /// The highest generation recorded in the store; `None` when there is no record (a new
    /// agent, or after [`JniKeyProtector::destroy`]).
    pub fn recorded_generation(&self) -> Result<Option<u64>, KeyProtectorError> {
        let prefix = self.generation_prefix();
        self.attached(|env, rt| {
            let store = load_store(env, &rt.classes, &self.provider)?;
            Ok(generation_aliases(env, &store, &prefix)?.into_iter().map(|(_, g)| g).max())
        })
    }
}

/// The core calls the protector directly: no foreign-trait round trip through Kotlin.
impl quietline_core::KeyProtector for JniKeyProtector {
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        JniKeyProtector::wrap(self, data_key)
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyProtectorError> {
        JniKeyProtector::unwrap(self, wrapped)
    }
    fn destroy(&self) -> Result<(), KeyProtectorError> {
        JniKeyProtector::destroy(self)
    }
    fn record_generation(&self, generation: u64) -> Result<bool, KeyProtectorError> {
        JniKeyProtector::record_generation(self, generation)
    }
    fn recorded_generation(&self) -> Result<Option<u64>, KeyProtectorError> {
        JniKeyProtector::recorded_generation(self)
    }
}

/// Deletes the entry `alias` if it is there.
fn delete_entry(env: &mut Env<'_>, store: &JObject<'_>, alias: &str) -> Result<(), KeyProtectorError> {
    let alias = call(env, "alias", |env| env.new_string(alias))?;
    let r =
        env.call_method(store, jni_str!("containsAlias"), jni_sig!("(Ljava/lang/String;)Z"), &[JValue::Object(&alias)]);
    let present = check(env, "KeyStore.containsAlias", r.and_then(|v| v.z()))?;
    if present {
        let r = env.call_method(
            store,
            jni_str!("deleteEntry"),
            jni_sig!("(Ljava/lang/String;)V"),
            &[JValue::Object(&alias)],
        );
        check(env, "KeyStore.deleteEntry", r)?;
    }
    env.delete_local_ref(alias);
    Ok(())
}

/// The generation records in the store: every alias `<prefix><n>`, with its `n`.
fn generation_aliases(
    env: &mut Env<'_>,
    store: &JObject<'_>,
    prefix: &str,
) -> Result<Vec<(String, u64)>, KeyProtectorError> {
    let r = env.call_method(store, jni_str!("aliases"), jni_sig!("()Ljava/util/Enumeration;"), &[]);
    let aliases = check(env, "KeyStore.aliases", r.and_then(|v| v.l()))?;
    let mut found = Vec::new();
    for _ in 0..MAX_ALIASES {
        let r = env.call_method(&aliases, jni_str!("hasMoreElements"), jni_sig!("()Z"), &[]);
        if !check(env, "Enumeration.hasMoreElements", r.and_then(|v| v.z()))? {
            break;
        }
        let r = env.call_method(&aliases, jni_str!("nextElement"), jni_sig!("()Ljava/lang/Object;"), &[]);
        let next = check(env, "Enumeration.nextElement", r.and_then(|v| v.l()))?;
        if next.is_null() {
            continue;
        }
        let name = check(env, "alias", env.cast_local::<JString>(next))?;
        let text = check(env, "alias", name.try_to_string(env))?;
        env.delete_local_ref(name);
        if let Some(n) = text.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()) {
            found.push((text, n));
        }
    }
    env.delete_local_ref(aliases);
    Ok(found)
}

/// `KeyStore.getInstance(provider)`, loaded.
fn load_store<'l>(env: &mut Env<'l>, c: &Classes, provider: &str) -> Result<JObject<'l>, KeyProtectorError> {
    let name = call(env, "provider", |env| env.new_string(provider))?;
    let r = env.call_static_method(
        &c.key_store,
        jni_str!("getInstance"),
        jni_sig!("(Ljava/lang/String;)Ljava/security/KeyStore;"),
        &[JValue::Object(&name)],
    );
    let store = check(env, "KeyStore.getInstance", r.and_then(|v| v.l()))?;
    let r = env.call_method(
        &store,
        jni_str!("load"),
        jni_sig!("(Ljava/security/KeyStore$LoadStoreParameter;)V"),
        &[JValue::Object(&JObject::null())],
    );
    check(env, "KeyStore.load", r)?;
    Ok(store)
}

/// The key under `alias`, or `None` when there is none.
fn get_key<'l>(env: &mut Env<'l>, store: &JObject<'_>, alias: &str) -> Result<Option<JObject<'l>>, KeyProtectorError> {
    let alias = call(env, "alias", |env| env.new_string(alias))?;
    let r = env.call_method(
        store,
        jni_str!("getKey"),
        jni_sig!("(Ljava/lang/String;[C)Ljava/security/Key;"),
        &[JValue::Object(&alias), JValue::Object(&JObject::null())],
    );
    let key = check(env, "KeyStore.getKey", r.and_then(|v| v.l()))?;
    Ok(if key.is_null() { None } else { Some(key) })
}

/// Generates the AES-256 key inside the store: GCM only, no padding, encrypt and decrypt, IVs
/// chosen by the store. Not bound to user authentication: the agent must open while the phone is
/// locked (an incoming call, a wipe by SMS).
fn generate_key<'l>(
    env: &mut Env<'l>,
    c: &Classes,
    provider: &str,
    alias: &str,
) -> Result<JObject<'l>, KeyProtectorError> {
    let alias = call(env, "alias", |env| env.new_string(alias))?;
    let r = env.new_object(
        &c.key_spec_builder,
        jni_sig!("(Ljava/lang/String;I)V"),
        &[JValue::Object(&alias), JValue::Int(PURPOSE_ENCRYPT_DECRYPT)],
    );
    let builder = check(env, "KeyGenParameterSpec.Builder", r)?;
    let modes = string_array(env, c, "GCM")?;
    let r = env.call_method(
        &builder,
        jni_str!("setBlockModes"),
        jni_sig!("([Ljava/lang/String;)Landroid/security/keystore/KeyGenParameterSpec$Builder;"),
        &[JValue::Object(&modes)],
    );
    check(env, "setBlockModes", r)?;
    let paddings = string_array(env, c, "NoPadding")?;
    let r = env.call_method(
        &builder,
        jni_str!("setEncryptionPaddings"),
        jni_sig!("([Ljava/lang/String;)Landroid/security/keystore/KeyGenParameterSpec$Builder;"),
        &[JValue::Object(&paddings)],
    );
    check(env, "setEncryptionPaddings", r)?;
    let r = env.call_method(
        &builder,
        jni_str!("setKeySize"),
        jni_sig!("(I)Landroid/security/keystore/KeyGenParameterSpec$Builder;"),
        &[JValue::Int(256)],
    );
    check(env, "setKeySize", r)?;
    let r = env.call_method(
        &builder,
        jni_str!("build"),
        jni_sig!("()Landroid/security/keystore/KeyGenParameterSpec;"),
        &[],
    );
    let spec = check(env, "KeyGenParameterSpec.Builder.build", r.and_then(|v| v.l()))?;
    let algorithm = call(env, "algorithm", |env| env.new_string("AES"))?;
    let provider = call(env, "provider", |env| env.new_string(provider))?;
    let r = env.call_static_method(
        &c.key_generator,
        jni_str!("getInstance"),
        jni_sig!("(Ljava/lang/String;Ljava/lang/String;)Ljavax/crypto/KeyGenerator;"),
        &[JValue::Object(&algorithm), JValue::Object(&provider)],
    );
    let generator = check(env, "KeyGenerator.getInstance", r.and_then(|v| v.l()))?;
    let r = env.call_method(
        &generator,
        jni_str!("init"),
        jni_sig!("(Ljava/security/spec/AlgorithmParameterSpec;)V"),
        &[JValue::Object(&spec)],
    );
    check(env, "KeyGenerator.init", r)?;
    let r = env.call_method(&generator, jni_str!("generateKey"), jni_sig!("()Ljavax/crypto/SecretKey;"), &[]);
    let key = check(env, "KeyGenerator.generateKey", r.and_then(|v| v.l()))?;
    if key.is_null() {
        return Err(KeyProtectorError::Failed("the key store generated no key".into()));
    }
    Ok(key)
}

/// A one-element `String[]`.
fn string_array<'l>(env: &mut Env<'l>, c: &Classes, value: &str) -> Result<JObject<'l>, KeyProtectorError> {
    let s = call(env, "string", |env| env.new_string(value))?;
    let r = env.new_object_array(1, &c.string, &s);
    check(env, "String[]", r.map(JObject::from))
}

/// `Cipher.getInstance("AES/GCM/NoPadding")`, without naming a provider: the platform picks the one
/// that accepts the store's key when the cipher is initialised (on Android, the keystore's own).
fn new_cipher<'l>(env: &mut Env<'l>, c: &Classes) -> Result<JObject<'l>, KeyProtectorError> {
    let transformation = call(env, "transformation", |env| env.new_string("AES/GCM/NoPadding"))?;
    let r = env.call_static_method(
        &c.cipher,
        jni_str!("getInstance"),
        jni_sig!("(Ljava/lang/String;)Ljavax/crypto/Cipher;"),
        &[JValue::Object(&transformation)],
    );
    check(env, "Cipher.getInstance", r.and_then(|v| v.l()))
}

/// The bytes of a `byte[]` a method returned.
fn bytes(
    env: &mut Env<'_>,
    what: &str,
    r: Result<jni::JValueOwned<'_>, JniError>,
) -> Result<Vec<u8>, KeyProtectorError> {
    let obj = check(env, what, r.and_then(|v| v.l()))?;
    if obj.is_null() {
        return Err(KeyProtectorError::Failed(format!("{what} returned null")));
    }
    let array = check(env, what, env.cast_local::<JByteArray>(obj))?;
    check(env, what, env.convert_byte_array(&array))
}

/// Runs one JNI step and maps its result as [`check`] does.
fn call<'l, T>(
    env: &mut Env<'l>,
    what: &str,
    f: impl FnOnce(&mut Env<'l>) -> Result<T, JniError>,
) -> Result<T, KeyProtectorError> {
    let r = f(env);
    check(env, what, r)
}

/// Maps a JNI result: a pending Java exception is taken, cleared and classified; any other JNI
/// error is `Failed`.
pub(crate) fn check<T>(env: &mut Env<'_>, what: &str, r: Result<T, JniError>) -> Result<T, KeyProtectorError> {
    match r {
        Ok(v) => Ok(v),
        Err(e) => {
            if let Some(t) = env.exception_occurred() {
                env.exception_clear();
                return Err(classify(env, &t, what));
            }
            env.exception_clear();
            Err(KeyProtectorError::Failed(format!("{what}: {e}")))
        }
    }
}

/// Classifies a Java exception (already cleared) by walking its cause chain.
fn classify(env: &mut Env<'_>, throwable: &JThrowable<'_>, what: &str) -> KeyProtectorError {
    let mut first: Option<String> = None;
    let mut current = env.new_local_ref(throwable).ok();
    for _ in 0..MAX_CAUSES {
        let Some(t) = current.take() else { break };
        if t.is_null() {
            break;
        }
        let name = class_name(env, &t).unwrap_or_else(|| "java.lang.Throwable".into());
        let msg = message(env, &t);
        if let Some(kind) = classify_name(&name, &msg) {
            return kind;
        }
        if name == "android.security.KeyStoreException" && transient(env, &t) {
            return KeyProtectorError::Unavailable(format!("{what}: {name}: {msg}"));
        }
        first.get_or_insert_with(|| format!("{what}: {name}: {msg}"));
        current = t.get_cause(env).ok();
        env.exception_clear();
    }
    KeyProtectorError::Failed(first.unwrap_or_else(|| format!("{what}: a Java exception")))
}

/// The classification that a class name alone decides.
fn classify_name(name: &str, msg: &str) -> Option<KeyProtectorError> {
    match name {
        // The key needs the user to authenticate, or the store is locked: retry after an unlock.
        "android.security.keystore.UserNotAuthenticatedException" => {
            Some(KeyProtectorError::Unavailable(format!("{name}: {msg}")))
        }
        // The lock screen was removed or biometrics changed: the key is unusable for good.
        "android.security.keystore.KeyPermanentlyInvalidatedException" => Some(KeyProtectorError::KeyInvalidated),
        // The tag did not verify: this key never wrapped this blob (it was replaced).
        "javax.crypto.AEADBadTagException" => Some(KeyProtectorError::KeyInvalidated),
        _ => None,
    }
}

/// `android.security.KeyStoreException.isTransientFailure()` (API 33): true for a store that is
/// locked or busy. Any failure to ask counts as not transient.
fn transient(env: &mut Env<'_>, t: &JThrowable<'_>) -> bool {
    let r = env.call_method(t, jni_str!("isTransientFailure"), jni_sig!("()Z"), &[]).and_then(|v| v.z());
    env.exception_clear();
    r.unwrap_or(false)
}

fn class_name(env: &mut Env<'_>, t: &JThrowable<'_>) -> Option<String> {
    let class = env.get_object_class(t).ok()?;
    let r = env.call_method(&class, jni_str!("getName"), jni_sig!("()Ljava/lang/String;"), &[]).and_then(|v| v.l());
    env.exception_clear();
    let name = env.cast_local::<JString>(r.ok()?).ok()?;
    name.try_to_string(env).ok()
}

fn message(env: &mut Env<'_>, t: &JThrowable<'_>) -> String {
    let m = t.get_message(env);
    env.exception_clear();
    match m {
        Ok(s) if !s.is_null() => s.try_to_string(env).unwrap_or_default(),
        _ => String::new(),
    }
}
