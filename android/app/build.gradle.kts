// The thin app: framework APIs only (no androidx, no Play services). The Rust library is built by
// cargo-ndk into src/main/jniLibs (see ../README.md); the UniFFI Kotlin is generated into
// build/generated/uniffi by scripts/gen-bindings.sh.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.quietline.android"
    compileSdk = 36
    defaultConfig {
        applicationId = "org.quietline.android"
        minSdk = 31
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }
    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }
    sourceSets["main"].java.srcDir(rootProject.file("../target/bindings/kotlin"))
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17"; allWarningsAsErrors = true }
}

dependencies {
    // The UniFFI Kotlin bindings load the library through JNA (the aar carries its Android .so files).
    implementation("net.java.dev.jna:jna:5.17.0@aar")
}
