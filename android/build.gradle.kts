// Android library module wrapping the uniffi-generated Kotlin bindings of mizan-ffi.
//
//   ./gradlew assembleRelease   -> build/outputs/aar/mizan-release.aar, after scripts/build-android.sh
//                                  (generated/jniLibs/<abi>/libmizan_ffi.so + generated/kotlin), then
//                                  the 16 KB page check of every .so in it and in JNA's AAR
//   ./gradlew test              -> host (JVM) unit tests against ../target/debug and the demo pack
//   ./gradlew publishReleasePublicationToLocalRepository
//                               -> build/repo/io/mizan/mizan-android/<version>/ (AAR, sources, POM;
//                                  signed when -PsigningKey and -PsigningPassword are given)
//
// Generated sources live in generated/, not build/: `./gradlew clean` keeps them, and every build
// regenerates them anyway. Needs Gradle 8.9+ (AGP 8.7), JDK 17, Android SDK platform 35, and for the
// native build an NDK in ANDROID_NDK_HOME.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.21"
    `maven-publish`
    signing
}

group = "io.mizan"
version = "0.1.0"

/** JNA 5.17+ ships a libjnidispatch.so aligned for 16 KB pages. */
val jnaVersion = "5.18.1"
val repoRoot: File = rootDir.parentFile
val generated = layout.projectDirectory.dir("generated")
val fixtures = layout.buildDirectory.dir("fixtures")

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
            // Hand-written Kotlin (SuspendingEngine) + the uniffi-generated bindings.
            java.srcDirs("src/main/kotlin", generated.dir("kotlin"))
            jniLibs.srcDirs(generated.dir("jniLibs"))
        }
        getByName("test") {
            java.srcDirs("src/test/kotlin", "src/test/java")
        }
    }

    packaging {
        jniLibs {
            // The release-mobile profile already strips; keep AGP from trying again.
            keepDebugSymbols += "**/libmizan_ffi.so"
        }
    }

    publishing {
        singleVariant("release") {
            withSourcesJar()
        }
    }

    testOptions {
        unitTests.all { test ->
            // Host (JVM) unit tests load the host build and read the demo pack (test-jvm.sh does the same).
            test.useJUnitPlatform()
            test.dependsOn("hostLibraryAndFixtures")
            test.systemProperty("jna.library.path", File(repoRoot, "target/debug").absolutePath)
            test.systemProperty("mizan.fixtures", fixtures.get().asFile.absolutePath)
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

/** JNA's AAR alone, for the page-alignment check of what apps will ship. */
val jnaAar: Configuration by configurations.creating { isTransitive = false }

dependencies {
    // JNA as an AAR: ships libjnidispatch.so for every Android ABI.
    implementation("net.java.dev.jna:jna:$jnaVersion@aar")
    // SuspendingEngine runs calls on Dispatchers.IO.
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.8.1")
    // The bindings generated with android = true (uniffi-android.toml) use @RequiresApi.
    implementation("androidx.annotation:annotation:1.9.1")
    jnaAar("net.java.dev.jna:jna:$jnaVersion@aar")

    // Host unit tests: the plain JNA jar (it has the desktop jnidispatch) + JUnit 5.
    testImplementation("net.java.dev.jna:jna:$jnaVersion")
    testImplementation(kotlin("test"))
    testImplementation("org.junit.jupiter:junit-jupiter:5.9.2")
    testRuntimeOnly("org.junit.platform:junit-platform-launcher:1.9.2")
}

val buildRustLibraries by tasks.registering(Exec::class) {
    description = "Builds libmizan_ffi.so for every ABI (cargo-ndk) and generates the Kotlin bindings."
    workingDir = repoRoot
    commandLine("bash", "android/scripts/build-android.sh")
    outputs.dirs(generated.dir("jniLibs"), generated.dir("kotlin"))
    // Cargo knows what is up to date; Gradle always asks it.
    outputs.upToDateWhen { false }
}
tasks.named("preBuild") { dependsOn(buildRustLibraries) }

val hostLibraryAndFixtures by tasks.registering(Exec::class) {
    description = "Builds the host library the JVM unit tests load, and writes the demo pack they read."
    workingDir = repoRoot
    val out = fixtures.get().asFile
    doFirst { out.mkdirs() }
    commandLine(
        "bash", "-c",
        "cargo build -p mizan-ffi -p mizan-cli && target/debug/mizan pack demo --out \"$1/demo.pack\" --public-key-out \"$1/demo.pub\"",
        "fixtures", out.absolutePath,
    )
}

val checkPageAlignment by tasks.registering(Exec::class) {
    description = "Fails unless every 64-bit .so in the AAR and in JNA's AAR is aligned for 16 KB pages."
    val aar = layout.buildDirectory.file("outputs/aar/${project.name}-release.aar")
    inputs.files(aar, jnaAar)
    commandLine("python3", File(projectDir, "scripts/check-so-alignment.py").path)
    argumentProviders.add(CommandLineArgumentProvider { listOf(aar.get().asFile.path) + jnaAar.files.map { it.path } })
}
tasks.matching { it.name == "assembleRelease" }.configureEach { finalizedBy(checkPageAlignment) }

publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "io.mizan"
            artifactId = "mizan-android"
            version = project.version.toString()
            afterEvaluate { from(components["release"]) }
            pom {
                name.set("Mizan")
                description.set("On-device personalisation: encrypted behaviour log, on-device model, explained recommendations.")
                licenses {
                    license {
                        name.set("MPL-2.0")
                        url.set("https://www.mozilla.org/MPL/2.0/")
                    }
                }
            }
        }
    }
    repositories {
        maven {
            name = "local"
            url = uri(layout.buildDirectory.dir("repo"))
        }
    }
}

signing {
    // Releases sign with an in-memory key (-PsigningKey=<armoured key> -PsigningPassword=...);
    // local builds publish unsigned.
    val key = findProperty("signingKey") as String?
    if (key != null) {
        useInMemoryPgpKeys(key, findProperty("signingPassword") as String?)
        sign(publishing.publications)
    }
}
