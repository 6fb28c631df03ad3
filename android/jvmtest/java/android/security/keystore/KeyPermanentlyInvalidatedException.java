package android.security.keystore;

/** Desktop stand-in: Android throws it when the lock screen was removed or reset. */
public class KeyPermanentlyInvalidatedException extends java.security.InvalidKeyException {
    public KeyPermanentlyInvalidatedException(String message) { super(message); }
}
