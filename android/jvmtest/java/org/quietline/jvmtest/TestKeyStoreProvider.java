package org.quietline.jvmtest;

import android.security.keystore.KeyGenParameterSpec;
import android.security.keystore.KeyPermanentlyInvalidatedException;
import android.security.keystore.UserNotAuthenticatedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.*;
import java.security.cert.Certificate;
import java.security.spec.AlgorithmParameterSpec;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.*;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A software key store that behaves like AndroidKeyStore where the Rust key protector can tell:
 * the store type and provider share one name; keys are generated inside it from a
 * KeyGenParameterSpec and stored under their alias; a key never exports its bytes
 * (getEncoded() is null), so only this provider's Cipher can use it, picked by the JCA's delayed
 * provider selection exactly as on Android; and faults can be injected as Android raises them.
 */
public final class TestKeyStoreProvider extends Provider {
    public static final String NAME = "QuietlineTestKeyStore";

    public enum Fault { NONE, NOT_AUTHENTICATED, PERMANENTLY_INVALIDATED, BROKEN }

    /** The injected fault, as the next operations see it. */
    public static volatile Fault fault = Fault.NONE;
    /** The keys, by alias: process-wide like the real store. */
    static final Map<String, OpaqueKey> KEYS = new ConcurrentHashMap<>();
    /** How many keys were ever generated. */
    public static volatile int generated = 0;

    public TestKeyStoreProvider() {
        super(NAME, "1.0", "Quietline desktop test key store");
        put("KeyStore." + NAME, Store.class.getName());
        put("KeyGenerator.AES", Generator.class.getName());
        put("Cipher.AES/GCM/NoPadding", GcmCipher.class.getName());
        put("Cipher.AES/GCM/NoPadding SupportedKeyClasses", OpaqueKey.class.getName());
    }

    public static void install() {
        if (Security.getProvider(NAME) == null) Security.insertProviderAt(new TestKeyStoreProvider(), 1);
    }

    public static boolean contains(String alias) { return KEYS.containsKey(alias); }

    /** Replaces the key under an alias with a new one, as a re-generated key would. */
    public static void regenerate(String alias) {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        KEYS.put(alias, new OpaqueKey(k));
    }

    /** The exception that stands for a store that cannot be used now. */
    static void checkFault(String where) throws InvalidKeyException {
        switch (fault) {
            case NOT_AUTHENTICATED: throw new UserNotAuthenticatedException("User not authenticated (" + where + ")");
            case PERMANENTLY_INVALIDATED: throw new KeyPermanentlyInvalidatedException("Key permanently invalidated (" + where + ")");
            default: break;
        }
    }

    /** A key that stays inside the provider: no encoding, no format. */
    public static final class OpaqueKey implements SecretKey {
        private final transient byte[] bytes;
        OpaqueKey(byte[] bytes) { this.bytes = bytes; }
        byte[] secret() { return bytes; }
        @Override public String getAlgorithm() { return "AES"; }
        @Override public String getFormat() { return null; }
        @Override public byte[] getEncoded() { return null; }
    }

    public static final class Store extends KeyStoreSpi {
        @Override public Key engineGetKey(String alias, char[] password) { return KEYS.get(alias); }
        @Override public Certificate[] engineGetCertificateChain(String alias) { return null; }
        @Override public Certificate engineGetCertificate(String alias) { return null; }
        @Override public Date engineGetCreationDate(String alias) { return KEYS.containsKey(alias) ? new Date() : null; }
        @Override public void engineSetKeyEntry(String a, Key k, char[] p, Certificate[] c) throws KeyStoreException {
            throw new KeyStoreException("keys are generated inside the store, never imported");
        }
        @Override public void engineSetKeyEntry(String a, byte[] k, Certificate[] c) throws KeyStoreException {
            throw new KeyStoreException("keys are generated inside the store, never imported");
        }
        @Override public void engineSetCertificateEntry(String a, Certificate c) throws KeyStoreException {
            throw new KeyStoreException("unsupported");
        }
        @Override public void engineDeleteEntry(String alias) { KEYS.remove(alias); }
        @Override public Enumeration<String> engineAliases() { return Collections.enumeration(new ArrayList<>(KEYS.keySet())); }
        @Override public boolean engineContainsAlias(String alias) { return KEYS.containsKey(alias); }
        @Override public int engineSize() { return KEYS.size(); }
        @Override public boolean engineIsKeyEntry(String alias) { return KEYS.containsKey(alias); }
        @Override public boolean engineIsCertificateEntry(String alias) { return false; }
        @Override public String engineGetCertificateAlias(Certificate c) { return null; }
        @Override public void engineStore(OutputStream s, char[] p) throws IOException { throw new IOException("unsupported"); }
        @Override public void engineLoad(InputStream s, char[] p) throws IOException {
            if (fault == Fault.BROKEN) throw new IOException("the key store service is not responding");
        }
    }

    public static final class Generator extends KeyGeneratorSpi {
        private KeyGenParameterSpec spec;
        @Override protected void engineInit(SecureRandom random) {
            throw new IllegalStateException("a KeyGenParameterSpec is required");
        }
        @Override protected void engineInit(AlgorithmParameterSpec params, SecureRandom random)
                throws InvalidAlgorithmParameterException {
            if (!(params instanceof KeyGenParameterSpec)) throw new InvalidAlgorithmParameterException("KeyGenParameterSpec required");
            KeyGenParameterSpec s = (KeyGenParameterSpec) params;
            if (s.getKeySize() != 256) throw new InvalidAlgorithmParameterException("want a 256-bit key");
            if (!Arrays.asList(s.getBlockModes()).equals(List.of("GCM"))) throw new InvalidAlgorithmParameterException("GCM only");
            if (!Arrays.asList(s.getEncryptionPaddings()).equals(List.of("NoPadding"))) throw new InvalidAlgorithmParameterException("NoPadding only");
            if (s.getPurposes() != 3) throw new InvalidAlgorithmParameterException("encrypt|decrypt only");
            spec = s;
        }
        @Override protected void engineInit(int keysize, SecureRandom random) {
            throw new IllegalStateException("a KeyGenParameterSpec is required");
        }
        @Override protected SecretKey engineGenerateKey() {
            if (spec == null) throw new IllegalStateException("not initialised");
            byte[] k = new byte[32];
            new SecureRandom().nextBytes(k);
            OpaqueKey key = new OpaqueKey(k);
            KEYS.put(spec.getKeystoreAlias(), key);
            generated++;
            return key;
        }
    }

    /** AES-GCM over an OpaqueKey; the store picks the IV for encryption, as Android does. */
    public static final class GcmCipher extends CipherSpi {
        private Cipher inner;
        private void init(int mode, Key key, AlgorithmParameterSpec params, SecureRandom random)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            if (!(key instanceof OpaqueKey)) throw new InvalidKeyException("not a key of this store");
            checkFault("Cipher.init");
            if (mode == Cipher.ENCRYPT_MODE && params != null) throw new InvalidAlgorithmParameterException("caller-provided IV not permitted");
            try {
                inner = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
            } catch (GeneralSecurityException e) {
                throw new ProviderException(e);
            }
            SecretKeySpec raw = new SecretKeySpec(((OpaqueKey) key).secret(), "AES");
            if (params == null) inner.init(mode, raw, random); else inner.init(mode, raw, params, random);
        }
        @Override protected void engineSetMode(String mode) throws NoSuchAlgorithmException {
            if (!mode.equalsIgnoreCase("GCM")) throw new NoSuchAlgorithmException(mode);
        }
        @Override protected void engineSetPadding(String padding) throws NoSuchPaddingException {
            if (!padding.equalsIgnoreCase("NoPadding")) throw new NoSuchPaddingException(padding);
        }
        @Override protected int engineGetBlockSize() { return 16; }
        @Override protected int engineGetOutputSize(int len) { return inner.getOutputSize(len); }
        @Override protected byte[] engineGetIV() { return inner == null ? null : inner.getIV(); }
        @Override protected AlgorithmParameters engineGetParameters() { return inner == null ? null : inner.getParameters(); }
        @Override protected void engineInit(int mode, Key key, SecureRandom random) throws InvalidKeyException {
            try { init(mode, key, null, random); } catch (InvalidAlgorithmParameterException e) { throw new InvalidKeyException(e); }
        }
        @Override protected void engineInit(int mode, Key key, AlgorithmParameterSpec params, SecureRandom random)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            init(mode, key, params, random);
        }
        @Override protected void engineInit(int mode, Key key, AlgorithmParameters params, SecureRandom random)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            try {
                init(mode, key, params == null ? null : params.getParameterSpec(GCMParameterSpec.class), random);
            } catch (java.security.spec.InvalidParameterSpecException e) {
                throw new InvalidAlgorithmParameterException(e);
            }
        }
        @Override protected void engineUpdateAAD(byte[] src, int offset, int len) { inner.updateAAD(src, offset, len); }
        @Override protected byte[] engineUpdate(byte[] in, int off, int len) { return inner.update(in, off, len); }
        @Override protected int engineUpdate(byte[] in, int off, int len, byte[] out, int outOff) throws ShortBufferException {
            return inner.update(in, off, len, out, outOff);
        }
        @Override protected byte[] engineDoFinal(byte[] in, int off, int len) throws IllegalBlockSizeException, BadPaddingException {
            return inner.doFinal(in, off, len);
        }
        @Override protected int engineDoFinal(byte[] in, int off, int len, byte[] out, int outOff)
                throws ShortBufferException, IllegalBlockSizeException, BadPaddingException {
            return inner.doFinal(in, off, len, out, outOff);
        }
    }
}
