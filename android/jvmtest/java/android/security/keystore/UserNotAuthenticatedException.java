package android.security.keystore;

/** Desktop stand-in: Android throws it when a key needs the user to unlock first. */
public class UserNotAuthenticatedException extends java.security.InvalidKeyException {
    public UserNotAuthenticatedException(String message) { super(message); }
}
