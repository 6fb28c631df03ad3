// The thin app: framework APIs only (no androidx, no Play services). The Rust library is built by
// cargo-ndk into src/main/jniLibs (see ../README.md); the UniFFI Kotlin is generated into
// ../target/bindings/kotlin by scripts/gen-bindings.sh and compiled as a source set of its own
// module-less directory, without warnings-as-errors (generated code is not ours).
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

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
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
        // Our code only: the generated bindings share the source set, so warnings are errors in a
        // separate check (scripts/test.d/40-android.sh compiles the app alone with -Werror).
        allWarningsAsErrors.set(false)
    }
}

dependencies {
    // The UniFFI Kotlin bindings load the library through JNA (the aar carries its Android .so files).
    implementation("net.java.dev.jna:jna:5.17.0@aar")
}
