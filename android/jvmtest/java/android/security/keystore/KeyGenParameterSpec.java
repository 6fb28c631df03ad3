package android.security.keystore;

import java.security.spec.AlgorithmParameterSpec;

/**
 * Desktop stand-in for Android's class of the same name, with only what the Rust key protector
 * calls. Test-only: the app is compiled against the real API (the API 36 stubs).
 */
public final class KeyGenParameterSpec implements AlgorithmParameterSpec {
    private final String alias;
    private final int purposes;
    private final String[] blockModes;
    private final String[] paddings;
    private final int keySize;

    private KeyGenParameterSpec(Builder b) {
        alias = b.alias; purposes = b.purposes; blockModes = b.blockModes; paddings = b.paddings; keySize = b.keySize;
    }

    public String getKeystoreAlias() { return alias; }
    public int getPurposes() { return purposes; }
    public String[] getBlockModes() { return blockModes.clone(); }
    public String[] getEncryptionPaddings() { return paddings.clone(); }
    public int getKeySize() { return keySize; }

    public static final class Builder {
        private final String alias;
        private final int purposes;
        private String[] blockModes = new String[0];
        private String[] paddings = new String[0];
        private int keySize = -1;

        public Builder(String keystoreAlias, int purposes) { this.alias = keystoreAlias; this.purposes = purposes; }
        public Builder setBlockModes(String... modes) { blockModes = modes.clone(); return this; }
        public Builder setEncryptionPaddings(String... p) { paddings = p.clone(); return this; }
        public Builder setKeySize(int size) { keySize = size; return this; }
        public KeyGenParameterSpec build() { return new KeyGenParameterSpec(this); }
    }
}
