// Android library module wrapping the uniffi-generated Kotlin bindings of mizan-ffi.
//
//   scripts/build-android.sh      -> build/jniLibs/<abi>/libmizan_ffi.so + build/generated/kotlin
//   ./gradlew assembleRelease     -> build/outputs/aar/mizan-release.aar
//
// Needs Gradle 8.9+ (AGP 8.7), JDK 17, Android SDK platform 35.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.21"
}

android {
    namespace = "io.mizan"
    compileSdk = 35

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
        ndk {
            abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            // Hand-written Kotlin (if any) + the uniffi-generated bindings.
            java.srcDirs("src/main/kotlin", "build/generated/kotlin")
            // The cargo-ndk output: build/jniLibs/<abi>/libmizan_ffi.so
            jniLibs.srcDirs("build/jniLibs")
        }
        getByName("test") {
            java.srcDirs("src/test/kotlin")
        }
    }

    packaging {
        jniLibs {
            // The release-mobile profile already strips; keep AGP from trying again.
            keepDebugSymbols += "**/libmizan_ffi.so"
        }
    }

    testOptions {
        unitTests.all { test ->
            // Host (JVM) unit tests load the host build: cargo build -p mizan-ffi.
            test.useJUnitPlatform()
            test.systemProperty("jna.library.path", rootDir.resolve("../target/debug").absolutePath)
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

dependencies {
    // JNA as an AAR: ships libjnidispatch.so for every Android ABI.
    implementation("net.java.dev.jna:jna:5.13.0@aar")
    // The generated bindings import kotlinx.coroutines (async support), even without async functions.
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.8.1")

    // Host unit tests (src/test/kotlin): plain JNA jar (has the desktop jnidispatch) + JUnit 5.
    testImplementation("net.java.dev.jna:jna:5.13.0")
    testImplementation(kotlin("test"))
    testImplementation("org.junit.jupiter:junit-jupiter:5.9.2")
    testRuntimeOnly("org.junit.platform:junit-platform-launcher:1.9.2")
}
