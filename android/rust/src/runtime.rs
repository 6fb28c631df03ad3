//! What Rust keeps of the JVM between calls: the `JavaVM`, global references to the app's context
//! and class loader, and the classes the key protector calls, looked up once through that class
//! loader. On Android, a thread that Rust attaches sees only the system class loader, so classes
//! outside it (on the desktop JVM, the test stand-in of `KeyGenParameterSpec`) must be found
//! through the loader cached here.

use jni::errors::Error as JniError;
use jni::objects::{JClass, JClassLoader, JObject};
use jni::refs::{Global, LoaderContext};
use jni::strings::JNIStr;
use jni::vm::JavaVM;
use jni::{jni_str, Env};
use std::sync::OnceLock;

/// Global references to the classes Rust calls. Kept for the life of the process.
pub struct Classes {
    /// `java.security.KeyStore`
    pub key_store: Global<JClass<'static>>,
    /// `javax.crypto.KeyGenerator`
    pub key_generator: Global<JClass<'static>>,
    /// `javax.crypto.Cipher`
    pub cipher: Global<JClass<'static>>,
    /// `javax.crypto.spec.GCMParameterSpec`
    pub gcm_spec: Global<JClass<'static>>,
    /// `android.security.keystore.KeyGenParameterSpec$Builder`
    pub key_spec_builder: Global<JClass<'static>>,
    /// `java.lang.String`, for the `String[]` arguments of the spec builder.
    pub string: Global<JClass<'static>>,
}

/// The process-wide JNI state, set once by `Quietline.init`.
pub struct Runtime {
    /// The VM, for attaching threads that Rust calls from.
    pub vm: JavaVM,
    /// The application context (not an activity: it lives as long as the process).
    pub context: Global<JObject<'static>>,
    /// The class loader that loaded the app's classes.
    pub loader: Global<JClassLoader<'static>>,
    /// Classes looked up once.
    pub classes: Classes,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, once `Quietline.init` has run.
pub fn get() -> Option<&'static Runtime> {
    RUNTIME.get()
}

fn class(env: &mut Env<'_>, loader: &JClassLoader<'_>, name: &JNIStr) -> Result<Global<JClass<'static>>, JniError> {
    let local = LoaderContext::Loader(loader).load_class(env, name, false)?;
    env.new_global_ref(local)
}

/// Caches the VM, the context, the class loader and the classes. A second call keeps the first
/// state: the app context and loader do not change within a process.
pub fn init(env: &mut Env<'_>, context: &JObject<'_>, loader: &JClassLoader<'_>) -> Result<&'static Runtime, JniError> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let vm = env.get_java_vm()?;
    let classes = Classes {
        key_store: class(env, loader, jni_str!("java.security.KeyStore"))?,
        key_generator: class(env, loader, jni_str!("javax.crypto.KeyGenerator"))?,
        cipher: class(env, loader, jni_str!("javax.crypto.Cipher"))?,
        gcm_spec: class(env, loader, jni_str!("javax.crypto.spec.GCMParameterSpec"))?,
        key_spec_builder: class(env, loader, jni_str!("android.security.keystore.KeyGenParameterSpec$Builder"))?,
        string: class(env, loader, jni_str!("java.lang.String"))?,
    };
    let rt = Runtime { vm, context: env.new_global_ref(context)?, loader: env.new_global_ref(loader)?, classes };
    // If another thread won the race its state is kept and ours is dropped (its globals freed).
    Ok(RUNTIME.get_or_init(|| rt))
}
